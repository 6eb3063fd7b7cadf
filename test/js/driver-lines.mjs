// The line protocol shared by driver.mjs (socket.io-client 4), driver-v2.mjs (socket.io-client 2) and redis-peer.mjs: JSON
// commands on stdin, replies and events on stdout, binary as {"$bin":"<base64>"} both ways.
import { createInterface } from "node:readline";

export const toWire = (v) => {
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { $bin: Buffer.from(v).toString("base64") };
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("base64") };
  if (Array.isArray(v)) return v.map(toWire);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toWire(x)]));
  if (typeof v === "function") return { $fn: true };
  return v;
};
export const fromWire = (v) => {
  if (Array.isArray(v)) return v.map(fromWire);
  if (v && typeof v === "object") {
    if (typeof v.$bin === "string") return Buffer.from(v.$bin, "base64");
    // JSON text parsed here, for strings C# cannot write as JSON (lone surrogates: {"$json":"\"\\ud800\""}).
    if (typeof v.$json === "string") return JSON.parse(v.$json);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromWire(x)]));
  }
  return v;
};
export const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
export const emitEvent = (h, event, data) => out({ h, event, data: toWire(data) });
export const getHandle = (handles, h) => {
  const entry = handles.get(h);
  if (!entry) throw new Error("unknown handle " + h);
  return entry;
};

/** Reads commands from stdin and answers each with ops[cmd.op](cmd). */
export function serve(ops) {
  const rl = createInterface({ input: process.stdin });
  rl.on("line", async (line) => {
    if (!line.trim()) return;
    let cmd;
    try {
      cmd = JSON.parse(line);
    } catch (e) {
      out({ id: null, ok: false, error: "bad json: " + e.message });
      return;
    }
    try {
      const fn = ops[cmd.op];
      if (!fn) throw new Error("unknown op " + cmd.op);
      const result = await fn(cmd);
      out({ id: cmd.id, ok: true, result: toWire(result) });
    } catch (e) {
      out({ id: cmd.id, ok: false, error: String(e?.message ?? e) });
    }
  });
  rl.on("close", () => process.exit(0));
  process.on("uncaughtException", (e) => out({ id: null, ok: false, error: "uncaught: " + (e?.stack ?? e) }));
}

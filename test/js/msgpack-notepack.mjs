// Encodes and decodes with the real notepack.io 3.0.1 for Parley.Tests (Serialization/NotepackCrossCheckTests), speaking
// NodeDriver's line protocol: {"id","op","value"|"hex"} in, {"id","ok","result"|"error"} out. JSON cannot say Buffer,
// Date, undefined or some numbers, so they travel as {"$bin": base64}, {"$date": iso}, {"$undefined": true} and
// {"$number": text} (Number(text): NaN, -0, Infinity).
import { createInterface } from "node:readline";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const notepack = require("notepack.io");

function revive(v) {
  if (Array.isArray(v)) return v.map(revive);
  if (v && typeof v === "object") {
    if (typeof v.$bin === "string") return Buffer.from(v.$bin, "base64");
    if (typeof v.$date === "string") return new Date(v.$date);
    if (v.$undefined === true) return undefined;
    if (typeof v.$number === "string") return Number(v.$number);
    const o = {};
    for (const k of Object.keys(v)) o[k] = revive(v[k]);
    return o;
  }
  return v;
}

function wrap(v) {
  if (v === undefined) return { $undefined: true };
  if (Buffer.isBuffer(v)) return { $bin: v.toString("base64") };
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("base64") };
  if (v instanceof Date) return { $date: v.toISOString() };
  if (Array.isArray(v)) return v.map(wrap);
  if (v && typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v)) o[k] = wrap(v[k]);
    return o;
  }
  if (typeof v === "number" && !Number.isInteger(v)) return { $float: v };
  return v;
}

const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch {
    return;
  }
  try {
    let result;
    if (cmd.op === "encode") {
      result = notepack.encode(revive(cmd.value)).toString("hex");
    } else if (cmd.op === "decode") {
      result = wrap(notepack.decode(Buffer.from(cmd.hex, "hex")));
    } else {
      throw new Error("unknown op " + cmd.op);
    }
    process.stdout.write(JSON.stringify({ id: cmd.id, ok: true, result }) + "\n");
  } catch (e) {
    process.stdout.write(JSON.stringify({ id: cmd.id, ok: false, error: String(e && e.message) }) + "\n");
  }
});

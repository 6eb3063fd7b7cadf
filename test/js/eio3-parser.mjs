// engine.io-parser 2.2 (what socket.io-client 2.x and engine.io 6's v3 support speak), behind the line protocol of
// driver.mjs, for byte-for-byte tests of Parley's Engine.IO v3 payloads.
//   {"id":1,"op":"encode","packets":[{"type":"message","data":"héllo"},{"type":"message","bin":"AQID"}],"supportsBinary":true}
//     -> {"text": "…"} or {"bin": "<base64>"}
//   {"id":2,"op":"decode","text":"…"} or {"op":"decode","bin":"<base64>"}
//     -> [{"type":"message","data":"…"} or {"type":"message","bin":"<base64>"}, …] or {"error": true}
import { createInterface } from "node:readline";
import parser from "engine.io-parser-v2";

const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const ops = {
  encode({ packets, supportsBinary }) {
    const input = packets.map((p) => (p.bin !== undefined ? { type: p.type, data: Buffer.from(p.bin, "base64") } : p));
    let result;
    parser.encodePayload(input, supportsBinary, (data) => (result = data));
    return typeof result === "string" ? { text: result } : { bin: Buffer.from(result).toString("base64") };
  },
  decode({ text, bin }) {
    const packets = [];
    let error = false;
    parser.decodePayload(text !== undefined ? text : Buffer.from(bin, "base64"), (packet, index, total) => {
      if (packet.type === "error") {
        error = true;
        return false;
      }
      packets.push(Buffer.isBuffer(packet.data) ? { type: packet.type, bin: packet.data.toString("base64") } : packet);
    });
    return error ? { error: true } : packets;
  },
  exit() {
    setTimeout(() => process.exit(0), 10);
    return true;
  },
};

const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const cmd = JSON.parse(line);
  try {
    out({ id: cmd.id, ok: true, result: ops[cmd.op](cmd) });
  } catch (e) {
    out({ id: cmd.id, ok: false, error: String(e?.message ?? e) });
  }
});
rl.on("close", () => process.exit(0));

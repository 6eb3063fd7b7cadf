// driver.mjs's line protocol (its sio.* operations) for socket.io-client 2.5.0 (Engine.IO v3, Socket.IO v4
// protocol), run by the C# tests against a server with AllowEIO3.
//
// stdin:  {"id":1,"op":"sio.connect","url":"http://127.0.0.1:5000","opts":{...}}
// stdout: {"id":1,"ok":true,"result":"s1"}             (reply to a command)
//         {"h":"s1","event":"connect","data":{...}}      (something that happened to a client)
// Binary values cross as {"$bin":"<base64>"} in both directions.
import { emitEvent, fromWire, getHandle, serve } from "./driver-lines.mjs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const io = require("socket.io-client-v2");

const handles = new Map();
let next = 0;

const get = (h) => getHandle(handles, h);

// A refusal reaches a v2 client as an "error" event whose data is what the server sent: its data, or its message
// as a string (socket.io 4 namespace.ts, protocol 3).
const errorMessage = (err) =>
  typeof err === "string" ? err : err && typeof err.message === "string" ? err.message : JSON.stringify(err);

function wireSocket(socket) {
  const h = "s" + ++next;
  const entry = { socket, acks: new Map() };
  handles.set(h, entry);
  socket.on("connect", () => emitEvent(h, "connect", { id: socket.id, transport: socket.io.engine.transport.name }));
  socket.on("error", (err) => emitEvent(h, "connect_error", { message: errorMessage(err), data: null }));
  socket.on("connect_error", (err) => emitEvent(h, "connect_error", { message: errorMessage(err), data: null }));
  socket.on("disconnect", (reason) => emitEvent(h, "disconnect", { reason, description: "" }));
  // v2 has no onAny: every event goes through onevent, which is replaced here (it would only hand the event to
  // listeners, and there are none).
  socket.onevent = function (packet) {
    const args = (packet.data || []).slice();
    const name = args.shift();
    const ack = packet.id != null ? this.ack(packet.id) : null;
    emitEvent(h, "event", { name, args, withAck: !!ack });
    if (ack) {
      const reply = entry.acks.get(name);
      if (reply !== undefined) ack(...fromWire(reply));
    }
  };
  return h;
}

const ops = {
  "sio.connect"({ url, opts }) {
    const socket = io(url, { forceNew: true, reconnection: false, ...(opts || {}) });
    return wireSocket(socket);
  },
  "sio.ackWith"({ h, event, reply }) {
    get(h).acks.set(event, reply);
    return true;
  },
  async "sio.emit"({ h, event, args, ack, timeout }) {
    const socket = get(h).socket;
    const a = fromWire(args || []);
    if (!ack) {
      socket.emit(event, ...a);
      return true;
    }
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("operation has timed out")), timeout ?? 10000);
      socket.emit(event, ...a, (first) => {
        clearTimeout(timer);
        resolve(first);
      });
    });
  },
  "sio.state"({ h }) {
    const s = get(h).socket;
    return { connected: s.connected, id: s.id ?? null, transport: s.io.engine?.transport?.name ?? null };
  },
  "sio.disconnect"({ h }) {
    get(h).socket.disconnect();
    return true;
  },
  exit() {
    setTimeout(() => process.exit(0), 10);
    return true;
  },
};

serve(ops);

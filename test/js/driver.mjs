// A line-oriented JSON driver for the official npm clients, run by the C# tests.
//
// stdin:  {"id":1,"op":"sio.connect","url":"http://127.0.0.1:5000","opts":{...}}
// stdout: {"id":1,"ok":true,"result":"c1"}             (reply to a command)
//         {"h":"c1","event":"connect","data":{...}}      (something that happened to a client)
// Binary values cross as {"$bin":"<base64>"} in both directions.
import { emitEvent, fromWire, getHandle, serve } from "./driver-lines.mjs";
import { Socket as EioSocket } from "engine.io-client";
import { io } from "socket.io-client";
import msgpackParser from "socket.io-msgpack-parser";

const handles = new Map();
let next = 0;

const get = (h) => getHandle(handles, h);

function wireSocket(socket) {
  const h = "s" + ++next;
  const entry = { kind: "sio", socket, acks: new Map() };
  handles.set(h, entry);
  socket.on("connect", () => emitEvent(h, "connect", { id: socket.id, transport: socket.io.engine.transport.name, recovered: socket.recovered }));
  socket.on("connect_error", (err) => emitEvent(h, "connect_error", { message: err.message, data: err.data ?? null }));
  socket.on("disconnect", (reason, details) => emitEvent(h, "disconnect", { reason, description: String(details?.description?.message ?? details?.description ?? "") }));
  socket.io.on("reconnect", () => emitEvent(h, "reconnect", {}));
  socket.io.on("reconnect_attempt", (n) => emitEvent(h, "reconnect_attempt", { attempt: n }));
  socket.io.on("open", () => socket.io.engine.on("upgrade", (t) => emitEvent(h, "upgrade", { transport: t.name })));
  socket.onAny((name, ...args) => {
    let ack = null;
    if (args.length && typeof args[args.length - 1] === "function") ack = args.pop();
    emitEvent(h, "event", { name, args, withAck: !!ack });
    if (ack) {
      const reply = entry.acks.get(name);
      if (reply !== undefined) ack(...fromWire(reply));
    }
  });
  return h;
}

const ops = {
  // ---- engine.io-client ----
  "eio.open"({ url, opts }) {
    const h = "e" + ++next;
    const socket = new EioSocket(url, { ...(opts || {}) });
    handles.set(h, { kind: "eio", socket });
    socket.on("open", () => emitEvent(h, "open", { id: socket.id, transport: socket.transport.name }));
    socket.on("message", (data) => emitEvent(h, "message", data));
    socket.on("upgrade", (t) => emitEvent(h, "upgrade", { transport: t.name }));
    socket.on("close", (reason, desc) => emitEvent(h, "close", { reason, description: String(desc?.message ?? desc ?? "") }));
    socket.on("error", (err) => emitEvent(h, "error", { message: String(err?.message ?? err) }));
    return h;
  },
  "eio.send"({ h, data }) {
    get(h).socket.send(fromWire(data));
    return true;
  },
  "eio.info"({ h }) {
    const s = get(h).socket;
    return { id: s.id, readyState: s.readyState, transport: s.transport?.name };
  },
  "eio.close"({ h }) {
    get(h).socket.close();
    return true;
  },

  // ---- socket.io-client ----
  // emitOnConnect {event, args}: emitted from the client's own "connect" listener, before any round trip to
  // the driver, so it is the first thing the server receives after its CONNECT ack.
  // opts.parser "msgpack": socket.io-msgpack-parser instead of the default parser.
  "sio.connect"({ url, opts, emitOnConnect }) {
    const { parser, ...rest } = opts || {};
    const socket = io(url, { forceNew: true, reconnection: false, ...rest, ...(parser === "msgpack" ? { parser: msgpackParser } : {}) });
    if (emitOnConnect) socket.once("connect", () => socket.emit(emitOnConnect.event, ...fromWire(emitOnConnect.args || [])));
    return wireSocket(socket);
  },
  // A second namespace over the same Manager (one Engine.IO connection, multiplexed).
  "sio.connectNamespace"({ h, nsp, opts }) {
    return wireSocket(get(h).socket.io.socket(nsp, opts || {}));
  },
  // When the server emits `event` with an ack, answer it with `reply` (an array of arguments).
  "sio.ackWith"({ h, event, reply }) {
    get(h).acks.set(event, reply);
    return true;
  },
  async "sio.emit"({ h, event, args, ack, timeout }) {
    const socket = get(h).socket;
    const a = fromWire(args || []);
    event = fromWire(event);
    if (!ack) {
      socket.emit(event, ...a);
      return true;
    }
    const target = timeout ? socket.timeout(timeout) : socket;
    return await target.emitWithAck(event, ...a);
  },
  "sio.state"({ h }) {
    const s = get(h).socket;
    return { connected: s.connected, id: s.id ?? null, transport: s.io.engine?.transport?.name ?? null };
  },
  "sio.disconnect"({ h }) {
    get(h).socket.disconnect();
    return true;
  },
  // Connects a disconnected socket again (socket.connect()): with connection state recovery it sends the pid and
  // the last offset it received by itself.
  "sio.reconnect"({ h }) {
    get(h).socket.connect();
    return true;
  },
  // Connects a disconnected socket again, to another server (the Manager's uri changed): with connection state
  // recovery it still sends the pid and last offset it has, as after a load balancer moved it to another node.
  "sio.reconnectTo"({ h, url }) {
    const socket = get(h).socket;
    socket.io.uri = url;
    socket.connect();
    return true;
  },
  // Drops the connection under the socket as a network failure would, from the client side (engine.close()): the
  // socket reports "forced close", and the server sees the transport close, a recoverable reason.
  "sio.closeEngine"({ h }) {
    get(h).socket.io.engine.close();
    return true;
  },
  // Raw engine-level send under a socket.io client, to inject malformed packets.
  "sio.rawSend"({ h, data }) {
    get(h).socket.io.engine.write(fromWire(data));
    return true;
  },
  // Many emits with acks at once (argsList: one array of arguments per emit); resolves with every ack's first
  // argument, or {error} for one that timed out.
  async "sio.emitMany"({ h, event, argsList, timeout }) {
    const socket = get(h).socket.timeout(timeout ?? 10000);
    return await Promise.all(argsList.map((args) => socket.emitWithAck(event, ...fromWire(args)).catch((e) => ({ error: String(e?.message ?? e) }))));
  },
  // The same raw engine-level message `count` times, in one go (a flood of faulty packets).
  "sio.rawSendMany"({ h, data, count }) {
    const engine = get(h).socket.io.engine;
    for (let i = 0; i < count; i++) engine.write(data);
    return true;
  },
  exit() {
    setTimeout(() => process.exit(0), 10);
    return true;
  },
};

serve(ops);

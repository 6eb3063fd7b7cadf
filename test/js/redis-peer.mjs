// A Node socket.io 4.8 server with @socket.io/redis-adapter 8.3 (classic or sharded), driven by the C# tests
// through JSON lines, like driver.mjs:
//   node redis-peer.mjs <classic|sharded> <redis-url> [key]   (or PEER_MODE, PEER_REDIS, PEER_KEY in the environment)
// key is the classic adapter's `key` or the sharded adapter's `channelPrefix`; PEER_NAMESPACES (comma-separated)
// adds namespaces besides "/" whose clients are handled the same way. PEER_CLUSTER=1 treats the URL as a Redis
// Cluster's seed list (redis://h1:p1,h2:p2,...) and connects with an ioredis 5 Cluster client (shardedSubscribers),
// as the adapter's docs show for createShardedAdapter on a cluster.
// stdin:  {"id":1,"op":"emit","rooms":["r1"],"event":"hello","args":[...]}
// stdout: {"id":1,"ok":true,"result":...}                 (reply)
//         {"h":"peer","event":"serverSideEmit","data":{...}} (something the server received)
// The first line is {"h":"peer","event":"listening","data":{"port":N}}. Binary crosses as {"$bin":"<base64>"}.
// Clients connect with auth {rooms:[...], data:...}: they join those rooms and get that socket.data.
import { createInterface } from "node:readline";
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createClient } from "redis";
import { Cluster } from "ioredis";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";

const [mode = process.env.PEER_MODE ?? "classic", url = process.env.PEER_REDIS ?? "redis://127.0.0.1:6379", key = process.env.PEER_KEY] =
  process.argv.slice(2);
const namespaces = ["/", ...(process.env.PEER_NAMESPACES ? process.env.PEER_NAMESPACES.split(",") : [])];

const toWire = (v) => {
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { $bin: Buffer.from(v).toString("base64") };
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("base64") };
  if (Array.isArray(v)) return v.map(toWire);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toWire(x)]));
  if (typeof v === "function") return { $fn: true };
  return v;
};
const fromWire = (v) => {
  if (Array.isArray(v)) return v.map(fromWire);
  if (v && typeof v === "object") {
    if (typeof v.$bin === "string") return Buffer.from(v.$bin, "base64");
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromWire(x)]));
  }
  return v;
};
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const report = (event, data) => out({ h: "peer", event, data: toWire(data) });

let pub, sub;
if (process.env.PEER_CLUSTER) {
  const seeds = url.replace(/^redis:\/\//, "").split(",").map((h) => {
    const [host, port] = h.split(":");
    return { host, port: Number(port) };
  });
  pub = new Cluster(seeds, { shardedSubscribers: true });
  sub = pub.duplicate();
  for (const c of [pub, sub]) c.on("error", (e) => report("redisError", { message: String(e?.message ?? e) }));
  await Promise.all([pub, sub].map((c) => new Promise((resolve) => (c.status === "ready" ? resolve() : c.once("ready", resolve)))));
} else {
  pub = createClient({ url });
  sub = pub.duplicate();
  for (const c of [pub, sub]) c.on("error", (e) => report("redisError", { message: String(e?.message ?? e) }));
  await Promise.all([pub.connect(), sub.connect()]);
}

const httpServer = createServer();
const io = new Server(httpServer, {
  adapter: mode === "sharded"
    ? createShardedAdapter(pub, sub, key ? { channelPrefix: key } : {})
    : createAdapter(pub, sub, key ? { key } : {}),
});
for (const nsp of namespaces) {
  io.of(nsp).on("connection", (socket) => {
    const auth = socket.handshake.auth || {};
    if (Array.isArray(auth.rooms)) socket.join(auth.rooms);
    if (auth.data !== undefined) socket.data = auth.data;
    report("connection", { id: socket.id, nsp });
  });
}

const serverReplies = new Map();
const op = (o) => {
  let target = io.of(o.nsp || "/");
  if (o.rooms?.length) target = target.to(o.rooms);
  if (o.except?.length) target = target.except(o.except);
  if (o.local) target = target.local;
  if (o.volatile) target = target.volatile;
  if (o.compress === false) target = target.compress(false);
  return target;
};
const describe = (s) => ({ id: s.id, rooms: [...s.rooms], data: s.data, handshake: { ...s.handshake } });
const findRemote = async (id, nsp = "/") => {
  const sockets = await io.of(nsp).fetchSockets();
  const s = sockets.find((x) => x.id === id);
  if (!s) throw new Error("no socket " + id);
  return s;
};

const ops = {
  uid: () => io.of("/").adapter.uid,
  emit(o) {
    op(o).emit(o.event, ...fromWire(o.args || []));
    return true;
  },
  async emitWithAck(o) {
    return await op(o).timeout(o.timeout ?? 2000).emitWithAck(o.event, ...fromWire(o.args || []));
  },
  async fetchSockets(o) {
    return (await op(o).fetchSockets()).map(describe);
  },
  serverCountOf: (o) => io.of(o.nsp).adapter.serverCount(),
  socketsJoin(o) {
    op(o).socketsJoin(o.join);
    return true;
  },
  socketsLeave(o) {
    op(o).socketsLeave(o.leave);
    return true;
  },
  disconnectSockets(o) {
    op(o).disconnectSockets(!!o.close);
    return true;
  },
  async remoteEmit(o) {
    (await findRemote(o.sid)).emit(o.event, ...fromWire(o.args || []));
    return true;
  },
  async remoteJoin(o) {
    (await findRemote(o.sid)).join(o.room);
    return true;
  },
  async remoteLeave(o) {
    (await findRemote(o.sid)).leave(o.room);
    return true;
  },
  async remoteDisconnect(o) {
    (await findRemote(o.sid)).disconnect(!!o.close);
    return true;
  },
  serverSideEmit(o) {
    io.serverSideEmit(o.event, ...fromWire(o.args || []));
    return true;
  },
  async serverSideEmitWithAck(o) {
    return await io.serverSideEmitWithAck(o.event, ...fromWire(o.args || []));
  },
  // Handle a server-side event from other nodes; answer its ack with `reply` when given.
  serverOn(o) {
    if (!serverReplies.has(o.event)) {
      io.on(o.event, (...args) => {
        let ack = null;
        if (args.length && typeof args[args.length - 1] === "function") ack = args.pop();
        report("serverSideEmit", { event: o.event, args, withAck: !!ack });
        const reply = serverReplies.get(o.event);
        if (ack && reply !== undefined) ack(fromWire(reply));
      });
    }
    serverReplies.set(o.event, o.reply);
    return true;
  },
  serverCount: () => io.of("/").adapter.serverCount(),
  localSockets: () => [...io.of("/").sockets.values()].map(describe),
  exit() {
    setTimeout(() => process.exit(0), 10);
    return true;
  },
};

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
    out({ id: cmd.id, ok: true, result: toWire(await fn(cmd)) });
  } catch (e) {
    out({ id: cmd.id, ok: false, error: String(e?.message ?? e) });
  }
});
rl.on("close", () => process.exit(0));
process.on("uncaughtException", (e) => out({ id: null, ok: false, error: "uncaught: " + (e?.stack ?? e) }));

httpServer.listen(0, "127.0.0.1", () => report("listening", { port: httpServer.address().port }));

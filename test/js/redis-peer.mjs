// A Node socket.io 4.8 server with @socket.io/redis-adapter 8.3 (classic or sharded), driven by the C# tests
// through JSON lines, like driver.mjs:
//   node redis-peer.mjs <classic|sharded|streams> <redis-url> [key]   (or PEER_MODE, PEER_REDIS, PEER_KEY in the environment)
// key is the classic adapter's `key` or the sharded adapter's `channelPrefix`; PEER_NAMESPACES (comma-separated)
// adds namespaces besides "/" whose clients are handled the same way. PEER_CLUSTER=1 treats the URL as a Redis
// Cluster's seed list (redis://h1:p1,h2:p2,...) and connects with an ioredis 5 Cluster client (shardedSubscribers),
// as the adapter's docs show for createShardedAdapter on a cluster.
// stdin:  {"id":1,"op":"emit","rooms":["r1"],"event":"hello","args":[...]}
// stdout: {"id":1,"ok":true,"result":...}                 (reply)
//         {"h":"peer","event":"serverSideEmit","data":{...}} (something the server received)
// The first line is {"h":"peer","event":"listening","data":{"port":N}}. Binary crosses as {"$bin":"<base64>"}.
// Clients connect with auth {rooms:[...], data:...}: they join those rooms and get that socket.data.
// PEER_ADMIN_HASH (a bcrypt hash; user "admin") instruments the server with @socket.io/admin-ui 0.5, as serverId
// PEER_SERVER_ID.
import { fromWire, out, serve, toWire } from "./driver-lines.mjs";
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createClient } from "redis";
import { Cluster } from "ioredis";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { instrument } from "@socket.io/admin-ui";
import { createAdapter as createStreamsAdapter } from "@socket.io/redis-streams-adapter";

const [mode = process.env.PEER_MODE ?? "classic", url = process.env.PEER_REDIS ?? "redis://127.0.0.1:6379", key = process.env.PEER_KEY] =
  process.argv.slice(2);
const namespaces = ["/", ...(process.env.PEER_NAMESPACES ? process.env.PEER_NAMESPACES.split(",") : [])];

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
// PEER_MODE=streams: @socket.io/redis-streams-adapter 0.3 instead; PEER_RECOVERY=1 turns connection state recovery on.
const io = new Server(httpServer, {
  adapter: mode === "streams"
    ? createStreamsAdapter(pub, key ? { streamName: key, channelPrefix: key } : {})
    : mode === "sharded"
    ? createShardedAdapter(pub, sub, key ? { channelPrefix: key } : {})
    : createAdapter(pub, sub, key ? { key } : {}),
  ...(process.env.PEER_RECOVERY ? { connectionStateRecovery: { maxDisconnectionDuration: 120_000, skipMiddlewares: true } } : {}),
});
if (process.env.PEER_ADMIN_HASH) {
  instrument(io, {
    auth: { type: "basic", username: "admin", password: process.env.PEER_ADMIN_HASH },
    serverId: process.env.PEER_SERVER_ID,
    // development (upstream's default without NODE_ENV) is the mode that lists sockets and reports their changes.
    mode: "development",
  });
}
for (const nsp of namespaces) {
  io.of(nsp).on("connection", (socket) => {
    const auth = socket.handshake.auth || {};
    if (Array.isArray(auth.rooms)) socket.join(auth.rooms);
    if (auth.data !== undefined && !socket.recovered) socket.data = auth.data;
    report("connection", { id: socket.id, nsp, recovered: socket.recovered });
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

serve(ops);

httpServer.listen(0, "127.0.0.1", () => report("listening", { port: httpServer.address().port }));

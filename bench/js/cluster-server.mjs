// A Node socket.io 4.8 node on @socket.io/redis-adapter 8.3, the twin of bench/Parley.ClusterServer:
//   node bench/js/cluster-server.mjs --port 3201 --redis redis://127.0.0.1:6399 [--sharded | --streams]
// A client's "bcast" (payload, ack) makes this node emit "msg" (payload) to every client of every node, then ack.
import { createServer } from "node:http";
import { createRequire } from "node:module";
const require = createRequire(new URL("../../test/js/package.json", import.meta.url));
const { Server } = require("socket.io");
const { createClient } = require("redis");
const { createAdapter, createShardedAdapter } = require("@socket.io/redis-adapter");
const { createAdapter: createStreamsAdapter } = require("@socket.io/redis-streams-adapter");

const arg = (name, fallback) => {
  const i = process.argv.indexOf("--" + name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const port = Number(arg("port", 3201));
const url = arg("redis", "redis://127.0.0.1:6379");
const sharded = process.argv.includes("--sharded");
const streams = process.argv.includes("--streams");

const pub = createClient({ url });
const sub = pub.duplicate();
for (const c of [pub, sub]) c.on("error", (e) => console.error("redis:", e.message));
await Promise.all([pub.connect(), sub.connect()]);

const httpServer = createServer();
const io = new Server(httpServer, {
  adapter: streams ? createStreamsAdapter(pub) : sharded ? createShardedAdapter(pub, sub) : createAdapter(pub, sub),
});
io.on("connection", (socket) => {
  socket.on("bcast", (payload, ack) => {
    io.emit("msg", payload);
    if (typeof ack === "function") ack();
  });
});
httpServer.listen(port, "127.0.0.1", () => console.log("ready"));

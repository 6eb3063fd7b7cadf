// The seeds' chat, written the usual Node way, as Parley's chat's twin in a mixed cluster: socket.io 4.8 + express
// + express-session with connect-redis + @socket.io/redis-adapter, all on one Redis. Sockets join `chat`; messages
// go to `io.to(room)`; the first chat page's toServer → toClient; presence deltas as the chat's contract words them.
// Environment: REDIS_URL, SECRETS (JSON array, first signs), PORT (0: a free port).
// Prints one JSON line {"port": N} when it listens. Routes: POST /login {name}, GET /api/me.
import { createServer } from "node:http";
import { randomUUID } from "node:crypto";
import express from "express";
import session from "express-session";
import { RedisStore } from "connect-redis";
import { createClient } from "redis";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";

const secrets = JSON.parse(process.env.SECRETS || '["keyboard cat"]');
const pub = createClient({ url: process.env.REDIS_URL });
const sub = pub.duplicate();
const sessions = pub.duplicate();
for (const c of [pub, sub, sessions]) c.on("error", (err) => console.error("redis:", err && err.message));
await Promise.all([pub.connect(), sub.connect(), sessions.connect()]);

const sessionMiddleware = session({
  store: new RedisStore({ client: sessions }),
  secret: secrets,
  resave: false,
  saveUninitialized: false,
});

const app = express();
app.use(express.json());
app.use(sessionMiddleware);
app.post("/login", (req, res) => {
  const name = typeof req.body?.name === "string" ? req.body.name.trim() : "";
  if (!name || name.length > 32) return res.status(400).json({ error: "name must be 1 to 32 characters" });
  req.session.name = name;
  res.json({ name });
});
app.get("/api/me", (req, res) => (req.session?.name ? res.json({ name: req.session.name }) : res.status(401).json({ error: "unauthorized" })));

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

const server = createServer(app);
const io = new Server(server, { adapter: createAdapter(pub, sub) });
io.engine.use(sessionMiddleware);
io.use((socket, next) => next(socket.request.session?.name ? undefined : new Error("unauthorized")));
io.on("connection", (socket) => {
  const name = socket.request.session.name;
  socket.data.name = name; // Parley's chat reads names from socket data (fetchSockets) for its users lists
  socket.join("chat");
  io.to("chat").emit("presence", { room: "chat", joined: [name], left: [] });
  socket.on("message", (payload, ack) => {
    const room = typeof payload?.room === "string" ? payload.room : "chat";
    const text = typeof payload?.text === "string" ? payload.text : "";
    const reply = typeof ack === "function" ? ack : () => {};
    if (text.length < 1 || text.length > 2000) return reply({ ok: false, error: "text must be 1 to 2000 characters" });
    if (!socket.rooms.has(room)) return reply({ ok: false, error: "not in that room" });
    const message = { id: randomUUID().replaceAll("-", ""), room, user: name, text, ts: Date.now() };
    io.to(room).emit("message", message);
    reply({ ok: true, id: message.id });
  });
  socket.on("toServer", (text) => {
    if (typeof text === "string" && text.length) io.to("chat").emit("toClient", `<b>${escape(name)}:</b> ${escape(text)}<br>`);
  });
  socket.on("disconnect", () => io.to("chat").emit("presence", { room: "chat", joined: [], left: [name] }));
});

server.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + "\n");
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();

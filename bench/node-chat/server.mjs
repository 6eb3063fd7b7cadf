// The chat's contract as a Node app is usually built (socket.io 4.8 + express-session + MemoryStore): POST /login
// with JSON {name}, then Socket.IO in "/" with the session required, room "chat", `message` {room?, text} + ack,
// broadcast {id, room, user, text, ts} to the room, sender included. No history and no presence: the benchmark
// compares the connection and message paths, which these leave out on both sides.
//   node bench/node-chat/server.mjs --port 5100 --secret s
import http from "node:http";
import { randomUUID } from "node:crypto";
import express from "express";
import session from "express-session";
import { Server } from "socket.io";

const arg = (name, fallback) => {
  const i = process.argv.indexOf("--" + name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const port = Number(arg("port", 5100));
const secret = arg("secret", "bench-secret");

const app = express();
const sessionMiddleware = session({
  secret,
  resave: false,
  saveUninitialized: false,
  cookie: { maxAge: 7 * 24 * 3600 * 1000, sameSite: "lax" },
});
app.use(express.json());
app.use(sessionMiddleware);
app.post("/login", (req, res) => {
  const name = typeof req.body?.name === "string" ? req.body.name.trim() : "";
  if (name.length < 1 || name.length > 32) {
    return res.status(400).json({ error: "name must be 1 to 32 characters" });
  }
  req.session.name = name;
  res.json({ name });
});
app.get("/healthz", (_req, res) => res.send("ok"));

const server = http.createServer(app);
const io = new Server(server);
io.engine.use(sessionMiddleware);
io.use((socket, next) => {
  const name = socket.request.session?.name;
  if (!name) {
    return next(new Error("unauthorized"));
  }
  socket.data.name = name;
  next();
});
io.on("connection", (socket) => {
  socket.join("chat");
  socket.on("message", (payload, ack) => {
    const reply = typeof ack === "function" ? ack : () => {};
    const room = payload?.room ?? "chat";
    const text = payload?.text;
    if (typeof text !== "string" || text.length < 1 || text.length > 2000) {
      return reply({ ok: false, error: "text must be 1 to 2000 characters" });
    }
    if (!socket.rooms.has(room)) {
      return reply({ ok: false, error: "not in that room" });
    }
    const id = randomUUID();
    io.to(room).emit("message", { id, room, user: socket.data.name, text, ts: Date.now() });
    reply({ ok: true, id });
  });
});
server.listen(port, "127.0.0.1", () => console.log(`node chat on http://127.0.0.1:${port}`));

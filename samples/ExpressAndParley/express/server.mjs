// The Express half of the sample: the app a team already runs. Sessions in Redis (connect-redis), Socket.IO on the
// Redis adapter, and the same small chat contract as the Parley half:
//   POST /login {name} · GET /me · POST /logout · Socket.IO: session required, joins "chat",
//   "message" text → "message" {user, text} to "chat" (the name from the session, never from the client).
// Environment: PORT (0 picks a free one; the chosen port is printed as {"port": N}), REDIS_URL, SESSION_SECRET.
import { createServer } from "node:http";
import express from "express";
import session from "express-session";
import { RedisStore } from "connect-redis";
import { createClient } from "redis";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";

const redisUrl = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const client = createClient({ url: redisUrl });
client.on("error", (err) => console.error("redis:", err.message));
await client.connect();
const subClient = client.duplicate();
subClient.on("error", (err) => console.error("redis (sub):", err.message));
await subClient.connect();

const sessions = session({
  store: new RedisStore({ client }),
  secret: [process.env.SESSION_SECRET || "change me"],
  resave: false,
  saveUninitialized: false,
});

const app = express();
app.use(express.json());
app.use(sessions);
app.post("/login", (req, res) => {
  const name = typeof req.body?.name === "string" ? req.body.name.trim() : "";
  if (!name) return res.status(400).json({ error: "name required" });
  req.session.regenerate((err) => {
    if (err) return res.status(500).end();
    req.session.name = name;
    res.json({ name });
  });
});
app.get("/me", (req, res) => (req.session.name ? res.json({ name: req.session.name }) : res.status(401).end()));
app.post("/logout", (req, res) => req.session.destroy(() => res.status(204).end()));

const httpServer = createServer(app);
const io = new Server(httpServer, { adapter: createAdapter(client, subClient) });
io.engine.use(sessions);
io.use((socket, next) => (socket.request.session?.name ? next() : next(new Error("unauthorized"))));
io.on("connection", (socket) => {
  const user = socket.request.session.name;
  socket.join("chat");
  socket.on("message", (text) => {
    if (typeof text === "string" && text.length > 0) io.to("chat").emit("message", { user, text });
  });
});

httpServer.listen(Number(process.env.PORT || 3000), "127.0.0.1", () =>
  console.log(JSON.stringify({ port: httpServer.address().port })));

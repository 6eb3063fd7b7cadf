// Node's engine.io as a raw echo server with the conformance host's options (pingInterval 300, pingTimeout 200,
// maxPayload 1e6, CORS open), for comparing Parley with the reference implementation:
//   node test/js/eio-echo-server.mjs [port]        (default 3001; path /engine.io/)
import { createServer } from "node:http";
import { attach } from "engine.io";

const port = Number(process.argv[2] ?? 3001);
const httpServer = createServer();
const server = attach(httpServer, {
  pingInterval: Number(process.env.PING_INTERVAL ?? 300), // PING_INTERVAL=25000 PING_TIMEOUT=20000 for idle-memory runs
  pingTimeout: Number(process.env.PING_TIMEOUT ?? 200),
  maxHttpBufferSize: 1e6,
  cors: { origin: "*" },
  // DEFLATE=1: per-message deflate with engine.io's 1 KB threshold (bench/js/deflate-memory.mjs).
  perMessageDeflate: process.env.DEFLATE === "1" ? { threshold: 1024 } : false,
});
server.on("connection", (socket) => {
  socket.on("message", (data) => socket.send(data));
});
httpServer.listen(port, "127.0.0.1", () => console.log(`engine.io echo server on http://127.0.0.1:${port}/engine.io/`));

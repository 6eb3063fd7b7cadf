// Load for Parley's chat (or any server with its contract), from one machine, loopback only in our runs.
//   node bench/js/chat-load.mjs messages   --url http://127.0.0.1:5000 --clients 300 --seconds 10 --rate 2
//   node bench/js/chat-load.mjs handshakes --url http://127.0.0.1:5000 --clients 500 --concurrency 50
// messages: each client logs in over HTTP, connects over WebSocket and sends `rate` messages/s to room "chat";
//           reports messages acknowledged/s and deliveries/s (every client receives every message).
// handshakes: logs in once per client, then measures Socket.IO connects (cookie verified, session loaded)/s, each
//             socket closed once connected.
// Bounded in clients and time; it stops by itself.
import { createRequire } from "node:module";
import { pool } from "./pool.mjs";
const require = createRequire(new URL("../../test/js/package.json", import.meta.url));
const { io } = require("socket.io-client");

const mode = process.argv[2] ?? "messages";
const arg = (name, fallback) => {
  const i = process.argv.indexOf("--" + name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const url = arg("url", "http://127.0.0.1:5000");
const clients = Math.min(Number(arg("clients", 300)), 5000);
const seconds = Math.min(Number(arg("seconds", 10)), 120);
const rate = Math.min(Number(arg("rate", 2)), 50);
const concurrency = Math.min(Number(arg("concurrency", 50)), 500);

async function login(name) {
  const res = await fetch(url + "/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name }) });
  if (!res.ok) throw new Error("login failed: " + res.status);
  return res.headers.get("set-cookie").split(";")[0];
}

function connect(cookie) {
  return new Promise((resolve, reject) => {
    const s = io(url, { transports: ["websocket"], forceNew: true, reconnection: false, extraHeaders: { cookie } });
    const timer = setTimeout(() => reject(new Error("connect timeout")), 15000);
    s.on("connect", () => { clearTimeout(timer); resolve(s); });
    s.on("connect_error", (e) => { clearTimeout(timer); reject(e); });
  });
}

if (mode === "handshakes") {
  const cookies = await pool(clients, concurrency, (i) => login("h" + i));
  // Each socket closes once connected, so at most `concurrency` are in the chat room at a time: what is measured is
  // the handshake (cookie verified, session loaded from the store), not the room's presence traffic.
  const start = performance.now();
  await pool(clients, concurrency, async (i) => (await connect(cookies[i])).close());
  const elapsed = (performance.now() - start) / 1000;
  console.log(JSON.stringify({ mode, clients, concurrency, seconds: +elapsed.toFixed(2), handshakesPerSecond: Math.round(clients / elapsed) }));
  process.exit(0);
}

const cookies = await pool(clients, concurrency, (i) => login("u" + i));
const sockets = await pool(clients, concurrency, (i) => connect(cookies[i]));
let deliveries = 0, acked = 0, failed = 0;
for (const s of sockets) s.on("message", () => { deliveries++; });
await new Promise((r) => setTimeout(r, 500));
const start = performance.now();
const end = start + seconds * 1000;
const timers = sockets.map((s, i) => setInterval(() => {
  if (performance.now() > end) return;
  s.timeout(10000).emitWithAck("message", { text: "load " + i }).then((a) => (a.ok ? acked++ : failed++), () => failed++);
}, 1000 / rate));
await new Promise((r) => setTimeout(r, seconds * 1000));
timers.forEach(clearInterval);
await new Promise((r) => setTimeout(r, 2000)); // let in-flight messages land
const elapsed = seconds;
console.log(JSON.stringify({
  mode, clients, rate, seconds,
  messagesAckedPerSecond: Math.round(acked / elapsed),
  deliveriesPerSecond: Math.round(deliveries / elapsed),
  failed,
}));
sockets.forEach((s) => s.close());
process.exit(0);

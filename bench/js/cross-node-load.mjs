// Cross-node broadcast throughput of two Socket.IO nodes on one Redis (Parley or Node, same client):
//   node bench/js/cross-node-load.mjs --urls http://127.0.0.1:3201,http://127.0.0.1:3202 --clients 20 --seconds 10 --size 64 --inflight 50
// Clients are split evenly over the two URLs. One sender, connected to the first node, keeps `inflight` "bcast"
// messages awaiting their ack; the first node broadcasts each to everyone. Reported: messages sent/s, deliveries/s to
// the second node's clients (cross-node: through Redis) and to the first node's (local), the share of expected
// cross-node deliveries that arrived, and cross-node latency (send to receipt, one machine, one clock).
// Bounded in clients and time; it stops by itself.
import { createRequire } from "node:module";
const require = createRequire(new URL("../../test/js/package.json", import.meta.url));
const { io } = require("socket.io-client");

const arg = (name, fallback) => {
  const i = process.argv.indexOf("--" + name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const urls = arg("urls", "http://127.0.0.1:3201,http://127.0.0.1:3202").split(",");
const clients = Math.min(Math.max(Number(arg("clients", 20)), 2), 2000);
const seconds = Math.min(Number(arg("seconds", 10)), 120);
const size = Math.min(Number(arg("size", 64)), 100_000);
const inflight = Math.min(Number(arg("inflight", 50)), 1000);

function connect(url) {
  return new Promise((resolve, reject) => {
    const s = io(url, { transports: ["websocket"], forceNew: true, reconnection: false });
    const timer = setTimeout(() => reject(new Error("connect timeout " + url)), 15000);
    s.on("connect", () => { clearTimeout(timer); resolve(s); });
    s.on("connect_error", (e) => { clearTimeout(timer); reject(e); });
  });
}

// Only messages emitted inside the measured window count, wherever they arrive.
let measuring = false;
const received = [0, 0];
const latencies = [];
const receivers = [];
for (let i = 0; i < clients; i++) {
  const node = i % 2;
  const s = await connect(urls[node]);
  s.on("msg", (p) => {
    if (!p.m) return;
    received[node]++;
    if (node === 1 && latencies.length < 200_000) latencies.push(Date.now() - p.t);
  });
  receivers.push(s);
}
const perNode = [Math.ceil(clients / 2), Math.floor(clients / 2)];
const sender = await connect(urls[0]);
const filler = "x".repeat(size);

// Warm-up: one second of traffic not counted (JIT, connection buffers).
let stop = false;
let sent = 0;
const worker = async () => {
  while (!stop) {
    try {
      const m = measuring;
      await sender.timeout(10_000).emitWithAck("bcast", { t: Date.now(), m, d: filler });
      if (m) sent++;
    } catch {
      // a timed-out ack: counted as not sent
    }
  }
};
const workers = Array.from({ length: inflight }, worker);
await new Promise((r) => setTimeout(r, 1000));
measuring = true;
const started = process.hrtime.bigint();
await new Promise((r) => setTimeout(r, seconds * 1000));
measuring = false;
const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
stop = true;
await Promise.all(workers);
// Deliveries of the last measured messages still in flight through Redis.
await new Promise((r) => setTimeout(r, 1000));

latencies.sort((a, b) => a - b);
const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] : NaN);
const expected = sent * perNode[1];
console.log(JSON.stringify({
  urls, clients, perNode, seconds: Number(elapsed.toFixed(1)), size, inflight,
  sentPerSecond: Math.round(sent / elapsed),
  crossNodeDeliveriesPerSecond: Math.round(received[1] / elapsed),
  localDeliveriesPerSecond: Math.round(received[0] / elapsed),
  crossNodeDelivered: expected ? Number((received[1] / expected).toFixed(4)) : null,
  crossNodeLatencyMs: { p50: pct(0.5), p99: pct(0.99) },
}));
for (const s of [...receivers, sender]) s.close();
process.exit(0);

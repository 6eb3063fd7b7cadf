// The clients of bench/chaos.sh: chat users who must each get every acknowledged message exactly once while the
// nodes behind the balancer die and come back.
//   node bench/js/chaos-clients.mjs --url http://127.0.0.1:8090 --clients 200 --senders 20 --seconds 300 \
//        --out artifacts/chaos/run.json [--no-history]
// Every client logs in with its own name (POST /login) and connects over WebSocket; the server puts it in room
// `chat`. The first `senders` clients send one message per second each, text "chaos <name> <seq>" (unique), with an
// ack. Clients reconnect by themselves (socket.io-client's defaults) and the server recovers their session when it
// can (connection state recovery, `socket.recovered`). A client that gets a fresh socket instead does what the chat
// page does (docs/chat.md): it joins `chat` again and takes the room's history (its last 50 messages) from the join's
// ack, keeping a message it already had once. --no-history turns that off, to see what recovery alone delivers.
// Prints "ready" once every client is connected, sends for `seconds`, then waits for delivery to settle and counts,
// per client, the acknowledged messages it never got (lost) and the ones it got more than once (duplicated).
// Exit code 1 when any message is lost or duplicated.
import { createRequire } from "node:module";
import { pool } from "./pool.mjs";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
const require = createRequire(new URL("../../test/js/package.json", import.meta.url));
const { io } = require("socket.io-client");

const arg = (name, fallback) => {
  const i = process.argv.indexOf("--" + name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const url = arg("url", "http://127.0.0.1:8090");
const clientCount = Math.min(Number(arg("clients", 200)), 2000);
const senderCount = Math.min(Number(arg("senders", 20)), clientCount);
const seconds = Math.min(Number(arg("seconds", 300)), 3600);
const settleSeconds = Math.min(Number(arg("settle", 60)), 600);
const out = arg("out", null);
const useHistory = !process.argv.includes("--no-history");
const ackTimeoutMs = 10000;

const log = (...a) => console.log(new Date().toISOString().slice(11, 19), ...a);

async function login(name) {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(url + "/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name }) });
      if (!res.ok) throw new Error("login failed: " + res.status);
      return res.headers.get("set-cookie").split(";")[0];
    } catch (e) {
      if (attempt >= 5) throw e;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

// What the server acknowledged: id -> { text, sender, seq }. Everything a client must end up with.
const acked = new Map();
// Every message id any client saw, acknowledged or not (a message whose ack was lost with its node may still have
// been delivered).
const seenText = new Map(); // id -> text
let sendAttempts = 0, sendSkippedOffline = 0, sendFailed = 0, sendRefused = 0;

class Client {
  constructor(index, cookie) {
    this.index = index;
    this.name = "chaos" + index;
    this.live = new Map();        // id -> times received as a `message` event
    this.fromHistory = new Set(); // ids first had from a join's history
    this.textIds = new Map();     // text -> Set of ids (the same text under two ids is a duplicate too)
    this.connects = 0; this.recoveries = 0; this.freshConnects = 0; this.disconnects = 0;
    this.historyLoads = 0; this.historyFailures = 0;
    this.offlineSince = 0; this.maxOfflineMs = 0; // the longest drop, disconnect to connect
    this.seq = 0;
    this.socket = io(url, { transports: ["websocket"], forceNew: true, extraHeaders: { cookie } });
    this.socket.on("connect", () => this.onConnect());
    this.socket.on("disconnect", () => { this.disconnects++; this.offlineSince = Date.now(); });
    this.socket.on("message", (m) => this.onMessage(m));
  }

  onConnect() {
    this.connects++;
    if (this.offlineSince) this.maxOfflineMs = Math.max(this.maxOfflineMs, Date.now() - this.offlineSince);
    if (this.connects === 1) return; // the server put it in `chat`; nothing was sent yet
    if (this.socket.recovered) { this.recoveries++; return; }
    this.freshConnects++;
    if (useHistory) this.loadHistory();
  }

  async loadHistory() {
    try {
      const answer = await this.socket.timeout(ackTimeoutMs).emitWithAck("join", "chat");
      if (!answer.ok) throw new Error(answer.error);
      this.historyLoads++;
      for (const m of answer.history) {
        if (!this.live.has(m.id)) this.fromHistory.add(m.id);
        this.noteText(m);
      }
    } catch {
      this.historyFailures++; // the socket died again; its next fresh connect loads again
    }
  }

  onMessage(m) {
    this.live.set(m.id, (this.live.get(m.id) ?? 0) + 1);
    this.noteText(m);
    seenText.set(m.id, m.text);
  }

  noteText(m) {
    let ids = this.textIds.get(m.text);
    if (!ids) this.textIds.set(m.text, (ids = new Set()));
    ids.add(m.id);
  }

  has(id) { return this.live.has(id) || this.fromHistory.has(id); }

  async send() {
    if (!this.socket.connected) { sendSkippedOffline++; return; }
    const seq = ++this.seq;
    const text = `chaos ${this.name} ${seq}`;
    sendAttempts++;
    try {
      const answer = await this.socket.timeout(ackTimeoutMs).emitWithAck("message", { room: "chat", text });
      if (answer.ok) acked.set(answer.id, { text, sender: this.name, seq, at: new Date().toISOString() });
      else sendRefused++;
    } catch {
      sendFailed++; // no ack (its node died): not counted, whether or not it was delivered
    }
  }

  missing() { let n = 0; for (const id of acked.keys()) if (!this.has(id)) n++; return n; }
}

log(`logging in ${clientCount} clients through ${url}`);
const cookies = await pool(clientCount, 20, (i) => login("chaos" + i));
const clients = cookies.map((cookie, i) => new Client(i, cookie));
{
  const deadline = Date.now() + 120000;
  while (clients.some((c) => c.connects === 0)) {
    if (Date.now() > deadline) { console.error("not every client connected within 120 s"); process.exit(2); }
    await new Promise((r) => setTimeout(r, 200));
  }
}
log("ready");

const senders = clients.slice(0, senderCount);
const inflight = new Set();
const startedAt = Date.now();
const timers = senders.map((c, i) => {
  // Spread over the second so that the load is even.
  const t = setTimeout(() => {
    const tick = () => { if (Date.now() - startedAt < seconds * 1000) { const p = c.send(); inflight.add(p); p.finally(() => inflight.delete(p)); } };
    tick();
    timers[i] = setInterval(tick, 1000);
  }, (1000 * i) / senderCount);
  return t;
});
let lastReport = 0;
while (Date.now() - startedAt < seconds * 1000) {
  await new Promise((r) => setTimeout(r, 1000));
  if (Date.now() - lastReport >= 30000) {
    lastReport = Date.now();
    const connected = clients.filter((c) => c.socket.connected).length;
    log(`t=${Math.round((Date.now() - startedAt) / 1000)}s acked=${acked.size} failed=${sendFailed} connected=${connected}/${clientCount}`);
  }
}
timers.forEach((t) => { clearTimeout(t); clearInterval(t); });
await Promise.allSettled([...inflight]);
log(`sending stopped: ${acked.size} acknowledged, ${sendFailed} without ack, ${sendSkippedOffline} skipped while offline; settling`);

// Settle: every client connected, and either all have everything or nothing moved for 10 s (bounded by --settle).
{
  const deadline = Date.now() + settleSeconds * 1000;
  let lastTotal = -1, stableSince = Date.now();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    const connected = clients.every((c) => c.socket.connected);
    const total = clients.reduce((n, c) => n + c.missing(), 0);
    if (connected && total === 0) break;
    if (total !== lastTotal) { lastTotal = total; stableSince = Date.now(); }
    if (connected && Date.now() - stableSince > 10000) break;
  }
}

const perClient = clients.map((c) => {
  let lost = 0, lostWithoutHistory = 0, duplicated = 0, unackedReceived = 0;
  const lostIds = [];
  for (const id of acked.keys()) {
    if (!c.has(id)) { lost++; if (lostIds.length < 20) lostIds.push(id); }
    if (!c.live.has(id)) lostWithoutHistory++;
  }
  for (const [id, n] of c.live) {
    if (n > 1) duplicated += n - 1;
    if (!acked.has(id)) unackedReceived++;
  }
  for (const ids of c.textIds.values()) if (ids.size > 1) duplicated += ids.size - 1;
  return {
    name: c.name, sender: c.index < senderCount, lost, duplicated, lostWithoutHistory,
    filledByHistory: [...c.fromHistory].filter((id) => acked.has(id)).length, unackedReceived,
    connects: c.connects, disconnects: c.disconnects, recoveries: c.recoveries, freshConnects: c.freshConnects,
    historyLoads: c.historyLoads, historyFailures: c.historyFailures, maxOfflineMs: c.maxOfflineMs,
    connectedAtEnd: c.socket.connected, lostIds: lostIds.map((id) => ({ id, ...acked.get(id) })),
  };
});
const sum = (key) => perClient.reduce((n, c) => n + c[key], 0);
// The worst client: most lost and duplicated, then (when none is) most that only the history reload gave it.
const badness = (c) => (c.lost + c.duplicated) * 1e6 + c.lostWithoutHistory;
const worst = perClient.reduce((w, c) => (badness(c) > badness(w) ? c : w), perClient[0]);
const summary = {
  url, clients: clientCount, senders: senderCount, seconds, history: useHistory,
  acknowledged: acked.size, sendAttempts, sendFailed, sendRefused, sendSkippedOffline,
  unackedDelivered: [...seenText.keys()].filter((id) => !acked.has(id)).length,
  lost: sum("lost"), duplicated: sum("duplicated"), lostWithoutHistory: sum("lostWithoutHistory"),
  filledByHistory: sum("filledByHistory"),
  clientsWithLoss: perClient.filter((c) => c.lost > 0).length,
  clientsWithDuplicates: perClient.filter((c) => c.duplicated > 0).length,
  disconnects: sum("disconnects"), recoveries: sum("recoveries"), freshConnects: sum("freshConnects"),
  historyLoads: sum("historyLoads"), historyFailures: sum("historyFailures"),
  connectedAtEnd: perClient.filter((c) => c.connectedAtEnd).length,
  maxOfflineMs: Math.max(...perClient.map((c) => c.maxOfflineMs)),
  worst: { name: worst.name, lost: worst.lost, duplicated: worst.duplicated, lostWithoutHistory: worst.lostWithoutHistory, recoveries: worst.recoveries, freshConnects: worst.freshConnects },
};
log(JSON.stringify(summary));
if (out) {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ summary, perClient }, null, 1));
}
clients.forEach((c) => c.socket.close());
process.exit(summary.lost > 0 || summary.duplicated > 0 ? 1 : 0);

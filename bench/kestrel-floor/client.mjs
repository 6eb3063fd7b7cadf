// The floor's load: one Node process that opens N plain WebSockets (the `ws` package) at a bounded concurrency,
// holds them idle, and reads the server's VmRSS from /proc/<pid>/status before and after.
// RSS per connection = (VmRSS after the ramp and the settle - VmRSS before) / N. Used by bench/kestrel-floor.sh.
//   node bench/kestrel-floor/client.mjs --row aspnet --url ws://127.0.0.1:5951/ws --pid 1234 \
//     [--gc-url http://127.0.0.1:5951/gc] [--eio | --engineio] [-n 10000] [-c 100] [--settle 20] [--out row.json] [--then 'cmd']
// --eio: the server is socket.io; each client answers Engine.IO pings and connects to "/" (counted open on the
// CONNECT ack). --engineio: the same against an Engine.IO-only server, counted open on its open packet. --then: a shell command run while the connections are still held (a gcdump), after the readings.
import { readFileSync, writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../node-chat/package.json', import.meta.url));
const WebSocket = require('ws');

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const row = arg('--row', 'row');
const url = arg('--url');
const pid = Number(arg('--pid'));
const gcUrl = arg('--gc-url');
const eio = args.includes('--eio') || args.includes('--engineio');
const engineOnly = args.includes('--engineio');
const n = Number(arg('-n', '10000'));
const concurrency = Number(arg('-c', '100'));
const settle = Number(arg('--settle', '20'));
const out = arg('--out');
const then = arg('--then');
const warmup = Math.min(200, n);
// Every wait is bounded: a connection that neither opens nor fails in this time counts as failed.
const OPEN_TIMEOUT_MS = 30_000;
if (!url || !Number.isInteger(pid)) {
  console.error('--url and --pid are needed');
  process.exit(2);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function status() {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssKb: kb('VmRSS'), anonKb: kb('RssAnon'), hwmKb: kb('VmHWM') };
}

async function gc(collect) {
  if (!gcUrl) return null;
  const response = await fetch(`${gcUrl}${collect ? '?collect=1' : ''}`, { signal: AbortSignal.timeout(60_000) });
  return response.ok ? response.json() : null; // a server without /gc (parley-engine)
}

const open = new Set();
let failed = 0;
let closedEarly = 0;

/** Opens one socket; resolves true once it is open (for --eio: connected to "/"), false on failure or timeout. */
function connect() {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let settled = false;
    const done = (ok) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (ok) open.add(ws);
      else ws.terminate();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), OPEN_TIMEOUT_MS);
    ws.on('error', () => done(false));
    ws.on('close', () => {
      if (open.delete(ws)) closedEarly++;
      done(false);
    });
    if (!eio) {
      ws.on('open', () => done(true));
      return;
    }
    ws.on('message', (data) => {
      const text = data.toString();
      if (text === '2') ws.send('3'); // Engine.IO ping → pong, or socket.io drops us after pingInterval + pingTimeout
      else if (text.startsWith('0') && engineOnly) done(true); // Engine.IO open: an Engine.IO-only server
      else if (text.startsWith('0')) ws.send('40'); // Engine.IO open → Socket.IO CONNECT to "/"
      else if (text.startsWith('40')) done(true); // CONNECT ack
      else if (text.startsWith('44')) done(false); // CONNECT_ERROR
    });
  });
}

async function ramp(count) {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      next++;
      if (!(await connect())) failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return (performance.now() - started) / 1000;
}

async function closeAll() {
  const closing = [...open].map((ws) => new Promise((resolve) => {
    ws.once('close', resolve);
    ws.close();
    setTimeout(() => { ws.terminate(); resolve(); }, 5_000);
  }));
  open.clear();
  await Promise.all(closing);
}

// Warm-up: JIT, the pools' first blocks and the first GC growth are not per-connection costs.
await ramp(warmup);
await sleep(1_000);
await closeAll();
failed = 0;
closedEarly = 0;
await sleep(3_000);
const gcBefore = await gc(true);
await sleep(1_000);
const before = status();

const rampSeconds = await ramp(n);
await sleep(settle * 1000);
const after = status();
const gcAfter = await gc(false);
const gcAfterLive = await gc(true);
const held = open.size;

const perConnKb = (after.rssKb - before.rssKb) / n;
const result = {
  row, url, n, concurrency, settleSeconds: settle, rampSeconds, held, failed, closedEarly,
  rssBeforeKb: before.rssKb, rssAfterKb: after.rssKb, anonBeforeKb: before.anonKb, anonAfterKb: after.anonKb, hwmKb: after.hwmKb,
  rssPerConnKb: perConnKb,
  gcBefore, gcAfter, gcAfterLive,
  inUsePerConnKb: gcAfter && gcBefore ? (gcAfter.totalMemory - gcBefore.totalMemory) / n / 1024 : null,
  committedPerConnKb: gcAfter && gcBefore ? (gcAfter.committed - gcBefore.committed) / n / 1024 : null,
  livePerConnKb: gcAfterLive && gcBefore ? (gcAfterLive.totalMemory - gcBefore.totalMemory) / n / 1024 : null,
};
if (out) writeFileSync(out, JSON.stringify(result, null, 2));
console.log(`${row}: ${held}/${n} held (${failed} failed, ${closedEarly} closed early), ramp ${rampSeconds.toFixed(1)} s, ` +
  `RSS ${(before.rssKb / 1024).toFixed(1)} → ${(after.rssKb / 1024).toFixed(1)} MB = ${perConnKb.toFixed(2)} KB/conn`);
if (then) {
  try {
    execSync(then, { stdio: 'inherit', timeout: 300_000 });
  } catch (e) {
    console.error(`--then failed: ${e.message}`);
  }
}
await closeAll();
process.exit(0);

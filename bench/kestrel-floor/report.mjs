// Prints bench/kestrel-floor.sh's table (markdown) from the rows' JSON files, with each row's RSS per connection as
// a ratio to node-ws's and node-socketio's from the same run.
//   node bench/kestrel-floor/report.mjs artifacts/kestrel-floor
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? 'artifacts/kestrel-floor';
const order = ['node-ws', 'node-socketio', 'aspnet', 'aspnet-nonconcurrent', 'aspnet-servergc', 'aspnet-nohostinglog', 'kestrel-connection', 'kestrel-connection-servergc', 'parley-engine'];
const rows = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')))
  .sort((a, b) => (order.indexOf(a.row) + 1 || 99) - (order.indexOf(b.row) + 1 || 99));
const byRow = Object.fromEntries(rows.map((r) => [r.row, r]));
const ratio = (r, base) => (byRow[base] ? `${(r.rssPerConnKb / byRow[base].rssPerConnKb).toFixed(2)}×` : '—');
const kb = (v) => (v == null ? '—' : v.toFixed(1));
const gcName = (r) => {
  const g = r.gcAfter;
  if (r.row.startsWith('node-')) return 'V8';
  if (!g) return 'workstation';
  return `${g.serverGC ? 'server' : 'workstation'}${g.concurrentGC ? '' : ', non-concurrent'}`;
};

console.log(`N = ${rows[0]?.n ?? '?'} idle WebSocket connections, settle ${rows[0]?.settleSeconds ?? '?'} s; per connection, growth over the run of: heap in use = GC.GetTotalMemory(false) (V8: heapUsed), garbage included; committed = the GC's committed bytes at its last collection (V8: heapTotal); live = after a forced full collection (V8: heapUsed after gc())`);
console.log('');
console.log('| row | GC | held | ramp s | RSS before MB | RSS after MB | RSS KB/conn | heap in use KB/conn | GC committed KB/conn | live KB/conn | ÷ node-ws | ÷ node-socketio |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const held = r.held === r.n ? `${r.held}` : `${r.held} of ${r.n} (${r.failed} failed, ${r.closedEarly} closed)`;
  console.log(`| ${r.row} | ${gcName(r)} | ${held} | ${r.rampSeconds.toFixed(1)} | ${(r.rssBeforeKb / 1024).toFixed(1)} | ${(r.rssAfterKb / 1024).toFixed(1)} | ` +
    `**${r.rssPerConnKb.toFixed(1)}** | ${kb(r.inUsePerConnKb)} | ${kb(r.committedPerConnKb)} | ${kb(r.livePerConnKb)} | ${ratio(r, 'node-ws')} | ${ratio(r, 'node-socketio')} |`);
}

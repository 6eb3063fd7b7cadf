// Reads `dotnet-gcdump report` output and prints the live bytes per connection of each type (size × count ÷ N),
// largest first, with the total, then the same bytes grouped by owner, told by type name (docs/capacity.md). Types
// shared by every owner (strings, locks, arrays of primitives, tasks) count as "other". Used by
// bench/capacity-gcdump.sh.
//   node bench/capacity-gcdump-report.mjs report.txt 5000 [rows]
import { readFileSync } from 'node:fs';

const [file, n, rows = '60'] = process.argv.slice(2);
const connections = Number(n);
const byType = new Map();
for (const line of readFileSync(file, 'utf8').split('\n')) {
  // "  Object Bytes  Count  Type  [Assembly]": the first column is one object's size.
  const m = /^\s*([\d,]+)\s+([\d,]+)\s+(.*?)\s+\[/.exec(line);
  if (!m) continue;
  const size = Number(m[1].replaceAll(',', ''));
  const count = Number(m[2].replaceAll(',', ''));
  const type = m[3].replace(/ \(Bytes > \d+K\)$/, '');
  const entry = byType.get(type) ?? { bytes: 0, count: 0 };
  entry.bytes += size * count;
  entry.count += count;
  byType.set(type, entry);
}
const sorted = [...byType].sort((a, b) => b[1].bytes - a[1].bytes);
const total = sorted.reduce((sum, [, e]) => sum + e.bytes, 0);
console.log(`live heap: ${(total / 1024 / 1024).toFixed(1)} MB, ${(total / connections / 1024).toFixed(1)} KB per connection (${connections})`);
console.log('B/conn    count  type');
for (const [type, e] of sorted.slice(0, Number(rows))) {
  console.log(`${(e.bytes / connections).toFixed(0).padStart(6)} ${String(e.count).padStart(8)}  ${type}`);
}

// Owners by type name, first match wins. Byte[] is mostly Kestrel's pool of 4 KB blocks (free blocks it keeps after a
// ramp), so it stands alone.
const owners = [
  ['byte arrays (mostly Kestrel\'s pool blocks)', (t) => t === 'System.Byte[]'],
  ['OpenTelemetry and the request\'s Activity', (t) => /OpenTelemetry|System\.Diagnostics\.Activity/.test(t)],
  ['the session', (t) => /Parley\.Sessions|System\.Text\.Json\.Nodes|OrderedDictionary/.test(t)],
  ['the engine and its WebSocket', (t) => /Parley\.EngineIO|KeyValuePair<System\.String,Microsoft\.Extensions\.Primitives\.StringValues>\[\]|ManagedWebSocket|System\.Security\.Claims/.test(t)],
  ['Socket.IO and the chat', (t) => /Parley\./.test(t)],
  ['Kestrel and ASP.NET Core (HTTP/1 connection, pipes, sockets)', (t) => /Microsoft\.AspNetCore|Microsoft\.Extensions\.Primitives|System\.IO\.Pipelines|System\.Net\.Sockets|SegmentAsValueType/.test(t)],
];
const byOwner = new Map([...owners.map(([name]) => [name, 0]), ['other', 0]]);
for (const [type, e] of sorted) {
  const owner = owners.find(([, test]) => test(type))?.[0] ?? 'other';
  byOwner.set(owner, byOwner.get(owner) + e.bytes);
}
console.log('\nKiB/conn  owner');
for (const [owner, bytes] of byOwner) {
  console.log(`${(bytes / connections / 1024).toFixed(2).padStart(8)}  ${owner}`);
}

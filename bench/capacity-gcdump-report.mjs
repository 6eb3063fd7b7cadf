// Reads `dotnet-gcdump report` output and prints the live bytes per connection of each type (size × count ÷ N),
// largest first, with the total. Used by bench/capacity-gcdump.sh.
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

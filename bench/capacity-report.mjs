// Reads the JSON that bench/capacity.sh had parley-load write and prints Parley ÷ Node for each measure, with
// the targets of issue 9. Usage: node bench/capacity-report.mjs <dir> <connections> "<rates>" <soak 0|1>
import { readFileSync, existsSync } from "node:fs";

const [dir, connections, rates, soak] = process.argv.slice(2);
const read = (kind, name) => {
  const file = `${dir}/${kind}-${name}.json`;
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : null;
};
const fmt = (v, digits = 0) => (v == null || Number.isNaN(v) ? "—" : Number(v).toFixed(digits));
const ratio = (p, n) => (p == null || n == null || n === 0 ? null : p / n);
const rows = [];
const row = (measure, node, parley, r, target, met, unit = "") =>
  rows.push([measure, node + unit, parley + unit, r == null ? "—" : r.toFixed(2) + "×", target, met == null ? "—" : met ? "met" : "NOT met"]);
const errorsOf = (r) => (r ? `${r.errorCount} errors, ${r.disconnects} disconnects` : "missing");

const nc = read("node", "connect"), pc = read("parley", "connect");
const rssN = nc?.rssPerConnection / 1024, rssP = pc?.rssPerConnection / 1024;
let r = ratio(rssP, rssN);
row(`RSS per idle authenticated connection at ${connections} (KB)`, fmt(rssN, 1), fmt(rssP, 1), r, "≤ 0.33×", r == null ? null : r <= 1 / 3);
const cpuN = nc?.serverCpuSeconds, cpuP = pc?.serverCpuSeconds;
r = cpuN === 0 && cpuP === 0 ? 1 : ratio(cpuP, cpuN);
row(`idle CPU with ${connections} connections (CPU-s over ${fmt(pc?.holdSeconds ?? nc?.holdSeconds)} s)`, fmt(cpuN, 2), fmt(cpuP, 2), r, "≤ 1×", r == null ? null : r <= 1);
const nh = read("node", "handshake"), ph = read("parley", "handshake");
r = ratio(ph?.perServerCpuSecond, nh?.perServerCpuSecond);
row("handshakes (login + connect) per server-CPU-second", fmt(nh?.perServerCpuSecond), fmt(ph?.perServerCpuSecond), r, "≥ 3×", r == null ? null : r >= 3);
row("handshakes per second", fmt(nh?.perSecond), fmt(ph?.perSecond), ratio(ph?.perSecond, nh?.perSecond), "", null);
const nf = read("node", "fanout"), pf = read("parley", "fanout");
r = ratio(pf?.perServerCpuSecond, nf?.perServerCpuSecond);
row("fan-out deliveries per server-CPU-second (one room, 10 senders, ack-paced)", fmt(nf?.perServerCpuSecond), fmt(pf?.perServerCpuSecond), r, "≥ 5×", r == null ? null : r >= 5);
row("fan-out deliveries per second (same)", fmt(nf?.perSecond), fmt(pf?.perSecond), ratio(pf?.perSecond, nf?.perSecond), "", null);

// The highest fixed rate Node sustains: it keeps up with what is offered (10 senders × rate × clients
// deliveries/s, ≥ 95% of it over the run), delivers every copy (≥ 99% of sent × clients) and has no errors.
const sustained = (x, rate) => x && x.errorCount === 0 && x.operations >= 0.99 * x.sent * x.connected &&
  x.perSecond >= 0.95 * 10 * rate * x.connected;
let best = null;
for (const rate of rates.split(" ").filter(Boolean)) {
  const n = read("node", `fanout-rate${rate}`), p = read("parley", `fanout-rate${rate}`);
  console.log(`fan-out at ${rate} msg/s per sender: node ${fmt(n?.perSecond)} deliveries/s p50 ${fmt(n?.p50Ms, 1)} p99 ${fmt(n?.p99Ms, 1)} ms (${sustained(n, rate) ? "sustained" : "NOT sustained"}, ${errorsOf(n)}); ` +
    `parley ${fmt(p?.perSecond)} deliveries/s p50 ${fmt(p?.p50Ms, 1)} p99 ${fmt(p?.p99Ms, 1)} ms (${sustained(p, rate) ? "sustained" : "NOT sustained"}, ${errorsOf(p)})`);
  if (sustained(n, Number(rate))) best = { rate, n, p };
}
if (best) {
  r = ratio(best.p.p99Ms, best.n.p99Ms);
  row(`p99 delivery latency at the highest load Node sustains (${best.rate} msg/s × 10 senders, ${best.n.connected} clients) (ms)`, fmt(best.n.p99Ms, 1), fmt(best.p.p99Ms, 1), r, "≤ 0.2×", r == null ? null : r <= 0.2);
} else {
  row("p99 at the highest load Node sustains", "none sustained", "", null, "≤ 0.2×", null);
}

console.log("");
console.log("| measure | Node | Parley | Parley ÷ Node | target | |");
console.log("|---|---|---|---|---|---|");
for (const x of rows) console.log(`| ${x.join(" | ")} |`);
console.log("");
for (const [name, label] of [["connect", "connect"], ["handshake", "handshake"], ["fanout", "fanout"]]) {
  console.log(`${label}: node ${errorsOf(read("node", name))}; parley ${errorsOf(read("parley", name))}`);
}
console.log(`server RSS with ${connections} idle: node ${fmt(nc?.serverRssAfter / 1048576, 0)} MB (from ${fmt(nc?.serverRssBefore / 1048576, 0)}), parley ${fmt(pc?.serverRssAfter / 1048576, 0)} MB (from ${fmt(pc?.serverRssBefore / 1048576, 0)})`);

if (soak === "1") {
  const s = read("parley", "soak");
  if (!s) {
    console.log("soak: no result");
  } else {
    // Warm-up: the ramp and the first minute of chat.
    const start = Math.max(0, s.timeline.findIndex((x) => x.open >= s.connected));
    const warmup = Math.min(60, Math.floor((s.timeline.length - start) / 3));
    const after = s.timeline.slice(start + warmup).filter((x) => x.serverRss != null);
    const rss = after.map((x) => x.serverRss);
    const min = Math.min(...rss), max = Math.max(...rss);
    const drift = rss.length ? (max - min) / min : NaN;
    console.log(`soak: ${s.connected} connections, ${fmt(s.seconds)} s, ${s.sent} messages, ${s.operations} deliveries, ${errorsOf(s)}; ` +
      `RSS after warm-up ${fmt(min / 1048576)}–${fmt(max / 1048576)} MB (${fmt(drift * 100, 1)}%: ${drift <= 0.05 ? "flat" : "NOT flat"}), ` +
      `${s.errorCount === 0 && s.disconnects === 0 && drift <= 0.05 ? "PASSED" : "FAILED"}`);
  }
}

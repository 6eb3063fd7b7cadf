#!/usr/bin/env bash
# What the chat's metrics cost at saturation: fan-out as fast as acks allow (one room, 10 senders), with the
# OpenTelemetry SDK off (OTEL_SDK_DISABLED=true: nothing listens to Parley's meters, /metrics answers nothing) and on
# (the default, with /metrics scraped every 3 s, as Prometheus would), alternating, in one run. Server pinned to core
# 0, parley-load to core 1. Prints deliveries per second and per server-CPU-second for each run, and on ÷ off.
# Never run by the tests: a shared machine makes the numbers noisy; compare within one run only.
#   bench/metrics-cost.sh        # environment: BENCH_FANOUT_CLIENTS (500), BENCH_SECONDS (20), BENCH_ROUNDS (2)
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${BENCH_FANOUT_CLIENTS:-500}
SECONDS_EACH=${BENCH_SECONDS:-20}
ROUNDS=${BENCH_ROUNDS:-2}
OUT=${BENCH_OUT:-artifacts/metrics-cost}
PORT=5903
LOAD_CPU=$(( $(nproc) > 1 ? 1 : 0 ))
command -v taskset >/dev/null || { echo "taskset (util-linux) is needed" >&2; exit 2; }
mkdir -p "$OUT"
dotnet build src/Parley.Chat -c Release -v quiet -nologo >/dev/null
dotnet build tools/Parley.Load -c Release -v quiet -nologo >/dev/null
LOAD=tools/Parley.Load/bin/Release/net10.0/parley-load

SERVER_PID= SCRAPER_PID=
stop() {
  [[ -n "$SCRAPER_PID" ]] && kill "$SCRAPER_PID" 2>/dev/null || true
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID= SCRAPER_PID=
}
trap stop EXIT

run() { # mode: off|on
  local mode=$1 name=$2
  if [[ $mode == off ]]; then
    OTEL_SDK_DISABLED=true taskset -c 0 dotnet src/Parley.Chat/bin/Release/net10.0/Parley.Chat.dll --urls "http://127.0.0.1:$PORT" --secret bench-secret >"$OUT/$name-server.log" 2>&1 &
  else
    taskset -c 0 dotnet src/Parley.Chat/bin/Release/net10.0/Parley.Chat.dll --urls "http://127.0.0.1:$PORT" --secret bench-secret >"$OUT/$name-server.log" 2>&1 &
  fi
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    node -e 'fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "http://127.0.0.1:$PORT/healthz" && break
    sleep 0.2
  done
  if [[ $mode == on ]]; then
    (while sleep 3; do node -e 'fetch(process.argv[1]).then(r => r.text()).catch(() => {})' "http://127.0.0.1:$PORT/metrics"; done) &
    SCRAPER_PID=$!
  fi
  taskset -c $LOAD_CPU "$LOAD" fanout -n "$CLIENTS" --senders 10 --rate 0 --window 1 -d "$SECONDS_EACH" \
    --url "http://127.0.0.1:$PORT" --login-url "http://127.0.0.1:$PORT/login" --server-pid "$SERVER_PID" \
    --json "$OUT/$name.json" -q || true
  stop
}

names=()
for round in $(seq 1 "$ROUNDS"); do
  for mode in off on; do
    run $mode "$mode-$round"
    names+=("$mode-$round")
  done
done
node -e '
const fs = require("fs");
const [dir, ...names] = process.argv.slice(1);
const sum = { off: [0, 0], on: [0, 0] };
for (const n of names) {
  const r = JSON.parse(fs.readFileSync(`${dir}/${n}.json`, "utf8"));
  const mode = n.split("-")[0];
  sum[mode][0] += r.perSecond; sum[mode][1] += r.perServerCpuSecond ?? 0;
  console.log(`${n}: ${r.perSecond.toFixed(0)} deliveries/s, ${(r.perServerCpuSecond ?? 0).toFixed(0)} per server-CPU-s, p99 ${r.p99Ms.toFixed(1)} ms, ${r.errorCount} errors`);
}
console.log(`metrics on ÷ off: ${(sum.on[0] / sum.off[0]).toFixed(3)}× deliveries/s, ${(sum.on[1] / sum.off[1]).toFixed(3)}× per server-CPU-s`);
' "$OUT" "${names[@]}"

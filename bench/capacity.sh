#!/usr/bin/env bash
# Side by side: Parley's chat against its Node twin (bench/node-chat: socket.io 4.8 + express-session + MemoryStore),
# measured by the same load tool (tools/Parley.Load) in one run, server pinned to core 0 and the tool to core 1.
# Prints Parley ÷ Node for each measure. Never run by the tests: a shared machine makes the numbers noisy.
#   bench/capacity.sh                 # the comparison (about 10 minutes)
#   bench/capacity.sh --soak          # then the soak: 10,000 connections for 10 minutes while a room chats
# Environment: BENCH_CONNECTIONS (10000), BENCH_HANDSHAKES (2000), BENCH_FANOUT_CLIENTS (500), BENCH_RATES
# ("1 2 4 8 16": messages/s per sender, 10 senders), BENCH_HOLD_SECONDS (30: idle hold), BENCH_SECONDS (15: each
# fan-out), BENCH_WARMUP_SECONDS (30: an uncounted fan-out before the counted ones, after as many uncounted
# handshakes as BENCH_HANDSHAKES; 0 for none), BENCH_SOAK_SECONDS
# (600), BENCH_OUT (artifacts/capacity).
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK=0
[[ "${1:-}" == "--soak" ]] && SOAK=1
N=${BENCH_CONNECTIONS:-10000}
HANDSHAKES=${BENCH_HANDSHAKES:-2000}
FANOUT=${BENCH_FANOUT_CLIENTS:-500}
RATES=${BENCH_RATES:-"1 2 4 8 16"}
SOAK_SECONDS=${BENCH_SOAK_SECONDS:-600}
HOLD=${BENCH_HOLD_SECONDS:-30}
SECONDS_EACH=${BENCH_SECONDS:-15}
WARMUP=${BENCH_WARMUP_SECONDS:-30}
OUT=${BENCH_OUT:-artifacts/capacity}
PARLEY_PORT=5901
NODE_PORT=5902

. bench/pinning.sh
need_descriptors "$N"
pin_cores

mkdir -p "$OUT"
dotnet build src/Parley.Chat -c Release -v quiet -nologo >/dev/null
dotnet build tools/Parley.Load -c Release -v quiet -nologo >/dev/null
[[ -d bench/node-chat/node_modules ]] || (cd bench/node-chat && npm ci --no-audit --no-fund >/dev/null)
LOAD=tools/Parley.Load/bin/Release/net10.0/parley-load

SERVER_PID=
start_server() { # kind port
  local kind=$1 port=$2
  if [[ $kind == parley ]]; then
    taskset -c $SERVER_CPU dotnet src/Parley.Chat/bin/Release/net10.0/Parley.Chat.dll --urls "http://127.0.0.1:$port" --secret bench-secret >"$OUT/$kind-server.log" 2>&1 &
  else
    taskset -c $SERVER_CPU node bench/node-chat/server.mjs --port "$port" --secret bench-secret >"$OUT/$kind-server.log" 2>&1 &
  fi
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    node -e 'fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "http://127.0.0.1:$port/healthz" && return 0
    sleep 0.2
  done
  echo "$kind did not start; see $OUT/$kind-server.log" >&2
  exit 1
}
stop_server() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}
trap stop_server EXIT

load() { # kind port name scenario args...
  local kind=$1 port=$2 name=$3; shift 3
  echo "--- $kind: $name"
  taskset -c $LOAD_CPU "$LOAD" "$@" --url "http://127.0.0.1:$port" --login-url "http://127.0.0.1:$port/login" \
    --server-pid "$SERVER_PID" --json "$OUT/$kind-$name.json" --chart "$OUT/$kind-$name.html" -q || true
}

for kind in node parley; do
  port=$([[ $kind == parley ]] && echo $PARLEY_PORT || echo $NODE_PORT)
  # Memory and idle CPU on a fresh server: N logged-in clients connected in "/", held idle.
  start_server $kind $port
  load $kind $port connect connect -n "$N" -c 100 --settle 10 -d "$HOLD"
  stop_server
  # Handshakes, fan-out at the server's pace, then fan-out at fixed rates for latency at equal load. A warm-up
  # round first, not counted: a server pinned to one core tiers its JIT up ten times slower than an unpinned one
  # (docs/capacity.md), and a long-running server is measured warm, as Node's, which warms up in a second or two.
  start_server $kind $port
  if (( WARMUP > 0 )); then
    # As many handshakes as the counted round: after 500, both servers still sped up from one round of 2,000 to
    # the next (Node from about 700 to 1,100 per CPU-second, Parley's code still at the JIT's instrumented tier).
    load $kind $port warmup-handshake handshake -n "$HANDSHAKES" -c 50
    load $kind $port warmup-fanout fanout -n "$FANOUT" --senders 10 --rate 0 --window 1 -d "$WARMUP"
  fi
  load $kind $port handshake handshake -n "$HANDSHAKES" -c 50
  load $kind $port fanout fanout -n "$FANOUT" --senders 10 --rate 0 --window 1 -d "$SECONDS_EACH"
  for rate in $RATES; do
    load $kind $port "fanout-rate$rate" fanout -n "$FANOUT" --senders 10 --rate "$rate" -d "$SECONDS_EACH"
  done
  stop_server
done

if (( SOAK )); then
  start_server parley $PARLEY_PORT
  # A room of N chats: 2 senders at 1 message/s each, every message to all N.
  load parley $PARLEY_PORT soak fanout -n "$N" -c 100 --senders 2 --rate 1 -d "$SOAK_SECONDS" --max-time $(( SOAK_SECONDS + 900 ))
  stop_server
fi

node bench/capacity-report.mjs "$OUT" "$N" "$RATES" "$SOAK"

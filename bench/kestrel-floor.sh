#!/usr/bin/env bash
# The platform's floor: RSS per idle WebSocket connection at N connections, in one run, for a bare Node `ws` server,
# a bare socket.io 4.8 server, ASP.NET Core WebSockets inside a request (bench/Parley.KestrelFloor --mode aspnet,
# three GC settings, and with the hosting diagnostics logger off) and a Kestrel connection handler below the HTTP
# layer (--mode connection), with no Parley code; then Parley's Engine.IO layer alone (bench/Parley.EchoServer). It
# shows what the platforms cost, against which Parley's per-connection figure is read (docs/capacity.md, "The
# platform's floor"). Never run by the tests: a shared machine makes the numbers noisy.
#   bench/kestrel-floor.sh              # all rows, N = 10,000 (about 9 minutes)
#   bench/kestrel-floor.sh --gcdump     # also a dotnet-gcdump of the aspnet, kestrel-connection and parley-engine rows
# Environment: BENCH_CONNECTIONS (10000), BENCH_CONCURRENCY (100: handshakes in flight), BENCH_SETTLE_SECONDS (20:
# idle hold after the ramp), BENCH_ROWS (all rows, space-separated), BENCH_OUT (artifacts/kestrel-floor), BENCH_PORT
# (5951: the first port tried; taken ones are skipped).
# Servers run on core 0 (Server GC rows on all cores), the one Node client on core 1; each row gets a fresh server.
set -euo pipefail
cd "$(dirname "$0")/.."
GCDUMP_ROWS=
[[ "${1:-}" == "--gcdump" ]] && GCDUMP_ROWS="aspnet kestrel-connection parley-engine"
N=${BENCH_CONNECTIONS:-10000}
CONCURRENCY=${BENCH_CONCURRENCY:-100}
SETTLE=${BENCH_SETTLE_SECONDS:-20}
ROWS=${BENCH_ROWS:-"node-ws node-socketio aspnet aspnet-nonconcurrent aspnet-servergc aspnet-nohostinglog kestrel-connection kestrel-connection-servergc parley-engine"}
OUT=${BENCH_OUT:-artifacts/kestrel-floor}
BASE_PORT=${BENCH_PORT:-5951}

. bench/pinning.sh
need_descriptors "$N"
pin_cores
GCDUMP=$(command -v dotnet-gcdump || echo "$HOME/.dotnet/tools/dotnet-gcdump")
if [[ -n "$GCDUMP_ROWS" && ! -x "$GCDUMP" ]]; then
  echo "dotnet-gcdump is needed for --gcdump: dotnet tool install -g dotnet-gcdump" >&2
  exit 2
fi

mkdir -p "$OUT"
rm -f "$OUT"/*.json
dotnet build bench/Parley.KestrelFloor -c Release -v quiet -nologo >/dev/null
[[ " $ROWS " == *" parley-engine "* ]] && dotnet build bench/Parley.EchoServer -c Release -v quiet -nologo >/dev/null
[[ -d bench/node-chat/node_modules ]] || (cd bench/node-chat && npm ci --no-audit --no-fund >/dev/null)
FLOOR=bench/Parley.KestrelFloor/bin/Release/net10.0/Parley.KestrelFloor.dll
ECHO=bench/Parley.EchoServer/bin/Release/net10.0/Parley.EchoServer.dll

SERVER_PID=
stop_server() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}
trap stop_server EXIT

# The first port from $1 that is free on loopback together with the next one (a row may use both): the machine is
# shared, and a health check answered by someone else's server would measure the wrong process.
free_port() {
  local p=$1
  until node -e 'const net = require("node:net"); const [a, b] = [+process.argv[1], +process.argv[1] + 1];
      const s = net.createServer().once("error", () => process.exit(1)).listen(a, "127.0.0.1", () => {
        const t = net.createServer().once("error", () => process.exit(1)).listen(b, "127.0.0.1", () => process.exit(0)); });' "$p"; do
    p=$(( p + 2 ))
  done
  echo "$p"
}

next_port=$BASE_PORT
for row in $ROWS; do
  port=$(free_port "$next_port")
  next_port=$(( port + 2 ))
  control=$port
  path=/ws
  client_args=()
  health=/healthz
  # Each row's server: what runs, and with which GC settings (Parley.Chat ships workstation GC, concurrent).
  case $row in
    node-ws) cmd=(node --expose-gc bench/kestrel-floor/node-ws-server.mjs --port "$port") ;;
    node-socketio)
      cmd=(node --expose-gc bench/kestrel-floor/node-socketio-server.mjs --port "$port")
      path="/socket.io/?EIO=4&transport=websocket"
      client_args=(--eio) ;;
    aspnet) cmd=(env DOTNET_gcServer=0 dotnet "$FLOOR" --mode aspnet --port "$port") ;;
    aspnet-nonconcurrent) cmd=(env DOTNET_gcServer=0 DOTNET_gcConcurrent=0 dotnet "$FLOOR" --mode aspnet --port "$port") ;;
    aspnet-servergc) cmd=(env DOTNET_gcServer=1 dotnet "$FLOOR" --mode aspnet --port "$port") ;;
    # The hosting diagnostics logger off: no Activity per request (Parley.KestrelFloor's Program.cs says why).
    aspnet-nohostinglog) cmd=(env DOTNET_gcServer=0 dotnet "$FLOOR" --mode aspnet --port "$port" --no-hosting-log) ;;
    kestrel-connection)
      control=$(( port + 1 ))
      cmd=(env DOTNET_gcServer=0 dotnet "$FLOOR" --mode connection --port "$port" --control-port "$control") ;;
    kestrel-connection-servergc)
      control=$(( port + 1 ))
      cmd=(env DOTNET_gcServer=1 dotnet "$FLOOR" --mode connection --port "$port" --control-port "$control") ;;
    # Parley's Engine.IO layer alone (bench/Parley.EchoServer: no Socket.IO, no session, no OpenTelemetry), for what
    # the engine adds over the aspnet row. It has no /gc, so its heap columns stay empty.
    parley-engine)
      cmd=(env DOTNET_gcServer=0 dotnet "$ECHO" --urls "http://127.0.0.1:$port")
      health="/engine.io/?EIO=4&transport=polling"
      path="/engine.io/?EIO=4&transport=websocket"
      client_args=(--engineio) ;;
    *) echo "unknown row $row" >&2; exit 2 ;;
  esac
  # The runtime ignores DOTNET_gcServer=1 in a process bound to one core (it falls back to workstation GC), so the
  # Server GC rows run on every core, sharing core 1 with the client.
  cpus=$SERVER_CPU
  [[ $row == *servergc ]] && cpus=0-$(( $(nproc) - 1 ))

  echo "--- $row"
  taskset -c "$cpus" "${cmd[@]}" >"$OUT/$row-server.log" 2>&1 &
  SERVER_PID=$!
  up=0
  for _ in $(seq 1 100); do
    kill -0 "$SERVER_PID" 2>/dev/null || break # it died (a port taken between the check and the bind)
    node -e 'fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "http://127.0.0.1:$control$health" && { up=1; break; }
    sleep 0.2
  done
  kill -0 "$SERVER_PID" 2>/dev/null || up=0
  (( up )) || { echo "$row did not start; see $OUT/$row-server.log" >&2; SERVER_PID=; continue; }
  # `env` and `taskset` exec, so $SERVER_PID is the server itself, whose /proc/<pid>/status the client reads.
  then_args=()
  if [[ " $GCDUMP_ROWS " == *" $row "* ]]; then
    then_args=(--then "'$GCDUMP' collect -p $SERVER_PID -o '$OUT/$row.gcdump' >/dev/null && '$GCDUMP' report '$OUT/$row.gcdump' >'$OUT/$row-gcdump.txt' && node bench/capacity-gcdump-report.mjs '$OUT/$row-gcdump.txt' $N 40 >'$OUT/$row-per-connection.txt'")
  fi
  taskset -c $LOAD_CPU node bench/kestrel-floor/client.mjs --row "$row" --url "ws://127.0.0.1:$port$path" --pid "$SERVER_PID" \
    --gc-url "http://127.0.0.1:$control/gc" -n "$N" -c "$CONCURRENCY" --settle "$SETTLE" --out "$OUT/$row.json" \
    "${client_args[@]}" "${then_args[@]}" || echo "$row: the client failed" >&2
  stop_server
done

node bench/kestrel-floor/report.mjs "$OUT" | tee "$OUT/table.md"

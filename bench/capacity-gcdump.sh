#!/usr/bin/env bash
# Where each KB of an idle connection goes: starts Parley's chat (memory store), holds N logged-in WebSocket clients
# in "/" with parley-load, takes a gcdump once the ramp is done and prints, per type, the live bytes per connection
# (bench/capacity-gcdump-report.mjs). The method of docs/capacity.md. Never run by the tests.
#   bench/capacity-gcdump.sh [N]        # N = 5000 by default
# Needs dotnet-gcdump (dotnet tool install -g dotnet-gcdump). Writes artifacts/capacity-gcdump/.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-5000}
PORT=${BENCH_PORT:-5931}
OUT=${BENCH_OUT:-artifacts/capacity-gcdump}
GCDUMP=$(command -v dotnet-gcdump || echo "$HOME/.dotnet/tools/dotnet-gcdump")
[[ -x "$GCDUMP" ]] || { echo "dotnet-gcdump is needed: dotnet tool install -g dotnet-gcdump" >&2; exit 2; }
. bench/pinning.sh
need_descriptors "$N"
mkdir -p "$OUT"
dotnet build src/Parley.Chat -c Release -v quiet -nologo >/dev/null
dotnet build tools/Parley.Load -c Release -v quiet -nologo >/dev/null

dotnet src/Parley.Chat/bin/Release/net10.0/Parley.Chat.dll --urls "http://127.0.0.1:$PORT" --secret bench-secret >"$OUT/server.log" 2>&1 &
SERVER=$!
LOAD=
trap 'kill $LOAD $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  node -e 'fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "http://127.0.0.1:$PORT/healthz" && break
  sleep 0.2
done
tools/Parley.Load/bin/Release/net10.0/parley-load connect -n "$N" -c 100 --settle 5 -d 600 --max-time 900 \
  --url "http://127.0.0.1:$PORT" --login-url "http://127.0.0.1:$PORT/login" --server-pid "$SERVER" -q >"$OUT/load.log" 2>&1 &
LOAD=$!
# The ramp is done when the server holds N sockets; then give the GC and Kestrel's pool a moment to settle.
for _ in $(seq 1 600); do
  (( $(ls /proc/$SERVER/fd | wc -l) >= N )) && break
  sleep 1
done
sleep 15
grep VmRSS "/proc/$SERVER/status" | tee "$OUT/rss.txt"
"$GCDUMP" collect -p "$SERVER" -o "$OUT/idle.gcdump" >/dev/null
"$GCDUMP" report "$OUT/idle.gcdump" >"$OUT/report.txt"
node bench/capacity-gcdump-report.mjs "$OUT/report.txt" "$N" | tee "$OUT/per-connection.txt"

#!/usr/bin/env bash
# Cross-node broadcast throughput: one redis-server, two Socket.IO nodes on it, bench/js/cross-node-load.mjs.
#   bench/cross-node.sh parley [classic|sharded|streams]   two bench/Parley.ClusterServer nodes
#   bench/cross-node.sh node   [classic|sharded|streams]   two bench/js/cluster-server.mjs nodes (socket.io 4.8 +
#                                                          redis-adapter 8.3, or redis-streams-adapter 0.3.1)
# Extra arguments after the mode go to the load client (--clients, --seconds, --size, --inflight).
# Loopback only, everything on this machine; it stops what it started. Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

impl=${1:?parley or node}
mode=${2:-classic}
shift $(( $# >= 2 ? 2 : 1 ))
redis_port=${REDIS_PORT:-6399}
ports=(3201 3202)

[ -d test/js/node_modules ] || scripts/install-deps.sh
if [ "$impl" = parley ]; then
  dotnet build bench/Parley.ClusterServer -c Release -v quiet -nologo >/dev/null
fi

work=$(mktemp -d /tmp/parley-cross-node.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
until redis-cli -p "$redis_port" PING >/dev/null 2>&1; do sleep 0.1; done

for port in "${ports[@]}"; do
  if [ "$impl" = parley ]; then
    sharded=false; [ "$mode" = sharded ] && sharded=true
    streams=false; [ "$mode" = streams ] && streams=true
    dotnet bench/Parley.ClusterServer/bin/Release/net10.0/Parley.ClusterServer.dll \
      --urls "http://127.0.0.1:$port" --redis "redis://127.0.0.1:$redis_port" --sharded "$sharded" --streams "$streams" >"$work/node-$port.log" 2>&1 &
  else
    flag=""; [ "$mode" = sharded ] && flag=--sharded; [ "$mode" = streams ] && flag=--streams
    node bench/js/cluster-server.mjs --port "$port" --redis "redis://127.0.0.1:$redis_port" $flag >"$work/node-$port.log" 2>&1 &
  fi
  pids+=($!)
done
for port in "${ports[@]}"; do
  for _ in $(seq 1 300); do grep -q ready "$work/node-$port.log" 2>/dev/null && break; sleep 0.1; done
  grep -q ready "$work/node-$port.log" || { echo "node on $port did not start:"; cat "$work/node-$port.log"; exit 1; }
done

echo "$impl $mode: $(node bench/js/cross-node-load.mjs --urls "http://127.0.0.1:${ports[0]},http://127.0.0.1:${ports[1]}" "$@")"

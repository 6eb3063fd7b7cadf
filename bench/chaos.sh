#!/usr/bin/env bash
# Chaos run for the chat (issue 11): Redis, three chat nodes (Release, `--redis`, so the Redis Streams adapter with
# connection state recovery, one shared `--secret`) behind nginx (scripts/cluster/nginx.conf, sticky by
# connect.sid), and BENCH_CLIENTS users chatting through nginx (bench/js/chaos-clients.mjs). Every BENCH_KILL_EVERY
# seconds a random node gets `kill -9` and comes back on the same port BENCH_DOWN seconds later. At the end every
# client must have had every message the server acknowledged exactly once; exit code 1 otherwise.
#   bench/chaos.sh                                  200 clients, 20 senders at 1 msg/s, 5 minutes, a kill every 30 s
#   BENCH_SECONDS=60 BENCH_CLIENTS=50 bench/chaos.sh
#   BENCH_SIGNAL=TERM bench/chaos.sh                graceful stops instead of kill -9
#   BENCH_HISTORY=false bench/chaos.sh              clients that get a fresh socket do not reload the room's history
# The JSON report goes to artifacts/chaos/. Loopback only; it stops what it started. Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${BENCH_SECONDS:-300}
clients=${BENCH_CLIENTS:-200}
senders=${BENCH_SENDERS:-20}
kill_every=${BENCH_KILL_EVERY:-30}
down=${BENCH_DOWN:-3}
signal=${BENCH_SIGNAL:-KILL}
port=${PORT:-8090}
redis_port=${REDIS_PORT:-6391}
node_ports=(5111 5112 5113)
secret=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')

# nginx must not take a node out after one refused connect: with WebSockets it would let it back in at one
# connection per 5 s (see scripts/cluster-lib.sh), and the run would measure the balancer instead of the chat.
cluster_server_params=${BENCH_NGINX_SERVER:-max_fails=0}   # the cluster's default; e.g. 'max_fails=1 fail_timeout=5s' to see it strand clients
source scripts/cluster-lib.sh
cluster_install_deps
[ -d test/js/node_modules ] || scripts/install-deps.sh
dotnet build src/Parley.Chat -c Release -v quiet -nologo

work=$(mktemp -d /tmp/parley-chaos.XXXXXX)
pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid" 2>/dev/null)" 2>/dev/null || true
  wait 2>/dev/null || true
  echo "logs kept in $work"
}
trap cleanup INT TERM EXIT

cluster_start_redis "$redis_port"
declare -A node_pid
start_node() {
  cluster_start_node "$1" --redis "redis://127.0.0.1:$redis_port" --secret "$secret"
  node_pid[$1]=$cluster_node_pid
}
for p in "${node_ports[@]}"; do start_node "$p"; done
cluster_start_nginx "$port" "${node_ports[@]}"
cluster_wait_healthy "${node_ports[@]}"

mkdir -p artifacts/chaos
out=artifacts/chaos/chaos-$(date -u +%Y%m%dT%H%M%SZ).json
history_flag=(); [ "${BENCH_HISTORY:-true}" = false ] && history_flag=(--no-history)
node bench/js/chaos-clients.mjs --url "http://127.0.0.1:$port" --clients "$clients" --senders "$senders" \
  --seconds "$seconds" --out "$out" "${history_flag[@]}" > >(tee "$work/clients.log") 2>&1 &
client_pid=$!
pids+=($client_pid)
until grep -q ready "$work/clients.log" 2>/dev/null; do
  kill -0 "$client_pid" 2>/dev/null || { echo "the clients did not start"; exit 2; }
  sleep 0.5
done

# Kills at the middle of each period (15 s, 45 s, ... with the defaults), so that each kill and restart happens
# while messages flow, and the last node is back well before the senders stop.
kills=0
start=$SECONDS
for ((at = kill_every / 2; at < seconds; at += kill_every)); do
  while ((SECONDS - start < at)); do sleep 0.5; done
  victim=${node_ports[RANDOM % ${#node_ports[@]}]}
  echo "$(date -u +%T) kill -$signal node $victim (pid ${node_pid[$victim]})"
  kill "-$signal" "${node_pid[$victim]}" 2>/dev/null || true
  wait "${node_pid[$victim]}" 2>/dev/null || true
  # Gone: out of the cleanup's list, so that a reused pid is never killed.
  alive=(); for pid in "${pids[@]}"; do [ "$pid" = "${node_pid[$victim]}" ] || alive+=("$pid"); done; pids=("${alive[@]}")
  kills=$((kills + 1))
  sleep "$down"
  echo "$(date -u +%T) restart node $victim"
  start_node "$victim"
  cluster_wait_healthy "$victim"
done

status=0
wait "$client_pid" || status=$?
echo "node kills: $kills (signal $signal, each down ${down} s + its start-up); report: $out"
# The summary gets the kills too, so that the JSON stands alone.
node -e 'const fs=require("fs");const f=process.argv[1];const j=JSON.parse(fs.readFileSync(f));j.summary.nodeKills=+process.argv[2];j.summary.signal=process.argv[3];fs.writeFileSync(f,JSON.stringify(j,null,1));' \
  "$out" "$kills" "$signal" 2>/dev/null || true
exit "$status"

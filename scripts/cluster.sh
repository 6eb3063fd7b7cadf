#!/usr/bin/env bash
# Runs a chat cluster on this machine: Redis, three chat nodes and an nginx load balancer, all on loopback.
# Open the balancer's URL in two browsers and chat; Ctrl-C stops everything.
#   scripts/cluster.sh                   balancer on http://127.0.0.1:8080, one Redis
#   scripts/cluster.sh --redis-cluster   the same on a Redis Cluster of 3 primaries (REDIS_PORT..REDIS_PORT+2),
#                                        with the sharded adapter (REDIS_ADAPTER=classic for the classic one)
#   PORT=9000 scripts/cluster.sh
# Sticky routing (long-polling needs every request of a session on one node) hashes the connect.sid cookie, or
# the client address before login; when a node dies nginx moves its users to another node, where their session
# (in Redis) is still valid.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${PORT:-8080}
redis_port=${REDIS_PORT:-6390}
node_ports=(5101 5102 5103)
secret=${PARLEY_SECRET:-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')}
redis_cluster=false
case "${1:-}" in
  --redis-cluster) redis_cluster=true ;;
  "") ;;
  *) echo "usage: $0 [--redis-cluster]" >&2; exit 2 ;;
esac

source scripts/cluster-lib.sh
cluster_install_deps

dotnet build src/Parley.Chat -c Release -v quiet -nologo

work=$(mktemp -d /tmp/parley-cluster.XXXXXX)
pids=()
cleanup() {
  trap - INT TERM EXIT
  echo; echo "stopping the cluster"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup INT TERM EXIT

if $redis_cluster; then
  # Three primaries, no replicas: each owns a third of the slots, so sessions, history and the sharded adapter's
  # channels are spread over all three.
  redis_ports=("$redis_port" $((redis_port + 1)) $((redis_port + 2)))
  for rp in "${redis_ports[@]}"; do
    mkdir -p "$work/redis-$rp"
    redis-server --port "$rp" --bind 127.0.0.1 --save "" --appendonly no --dir "$work/redis-$rp" \
      --cluster-enabled yes --cluster-config-file nodes.conf > "$work/redis-$rp.log" 2>&1 &
    pids+=($!)
  done
  for rp in "${redis_ports[@]}"; do
    for _ in $(seq 50); do redis-cli -p "$rp" ping >/dev/null 2>&1 && break; sleep 0.1; done
  done
  redis-cli --cluster create "${redis_ports[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes > "$work/cluster-create.log" 2>&1
  for _ in $(seq 100); do
    ok=true
    for rp in "${redis_ports[@]}"; do
      redis-cli -p "$rp" cluster info 2>/dev/null | grep -q "cluster_state:ok" || ok=false
    done
    $ok && break
    sleep 0.2
  done
  $ok || { echo "the Redis Cluster did not become ready; see $work/cluster-create.log" >&2; exit 1; }
  redis_url="redis://$(IFS=,; echo "${redis_ports[*]/#/127.0.0.1:}")"
  redis_args=(--redis "$redis_url" --redis-adapter "${REDIS_ADAPTER:-sharded}")
  redis_desc="Redis Cluster ${redis_ports[*]}"
else
  cluster_start_redis "$redis_port"
  redis_args=(--redis "redis://127.0.0.1:$redis_port")
  redis_desc="Redis $redis_port"
fi

for p in "${node_ports[@]}"; do cluster_start_node "$p" "${redis_args[@]}" --secret "$secret"; done
cluster_start_nginx "$port" "${node_ports[@]}"
cluster_wait_healthy "${node_ports[@]}"
echo "Parley chat cluster: open http://127.0.0.1:$port in two browsers (nodes ${node_ports[*]}, $redis_desc, logs in $work). Ctrl-C stops it."
wait

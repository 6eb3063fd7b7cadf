# Shared by scripts/cluster.sh and bench/chaos.sh (sourced, not run): the pieces of a chat cluster on loopback.
# The caller sets `work` (a scratch folder) and a `pids` array; every process started here is appended to `pids`
# so that the caller's cleanup stops it.

# redis-server and nginx, installed with apt-get when missing (their system services stopped: we run our own).
cluster_install_deps() {
  local missing=()
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v nginx >/dev/null 2>&1 || missing+=(nginx)
  if [ ${#missing[@]} -gt 0 ]; then
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
    for svc in redis-server nginx; do $sudo service "$svc" stop >/dev/null 2>&1 || true; done
  fi
}

# cluster_start_redis PORT: one throwaway redis-server (no persistence), waited for.
cluster_start_redis() {
  local port=$1
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" > "$work/redis.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
}

# cluster_start_node PORT ARGS...: one chat node (Release build) on PORT, its log in $work/node-PORT.log (appended,
# so a restarted node keeps its earlier life in the same file). Its pid is in `cluster_node_pid`.
cluster_dll=src/Parley.Chat/bin/Release/net10.0/Parley.Chat.dll
cluster_start_node() {
  local port=$1; shift
  dotnet "$cluster_dll" --urls "http://127.0.0.1:$port" "$@" >> "$work/node-$port.log" 2>&1 &
  cluster_node_pid=$!
  pids+=($!)
}

# cluster_wait_healthy PORT...: waits (up to 20 s each) for the nodes' /healthz.
cluster_wait_healthy() {
  local p
  for p in "$@"; do
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$p/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
  done
}

# cluster_start_nginx PORT NODE_PORT...: the balancer of scripts/cluster/nginx.conf (sticky by connect.sid).
# `cluster_server_params` goes on each `server` line. Its default, max_fails=0, never marks a node down: a refused
# connection just moves on to the next node (proxy_next_upstream). nginx's own default (max_fails=1 fail_timeout=10s)
# strands users of WebSockets: it clears a node's failure only when a request to it ends well, and an upgraded
# connection ends only when the WebSocket closes, so a node that failed once admits one new connection per
# fail_timeout (bench/chaos.sh found 138 of 200 clients still out after five minutes of node kills).
cluster_server_params=${cluster_server_params:-max_fails=0}
cluster_start_nginx() {
  local port=$1; shift
  local servers="" p conf
  for p in "$@"; do servers+="    server 127.0.0.1:$p $cluster_server_params;"$'\n'; done
  mkdir -p "$work/temp"
  conf=$(<scripts/cluster/nginx.conf)
  conf=${conf//\{\{WORK\}\}/$work}
  conf=${conf//\{\{PORT\}\}/$port}
  conf=${conf//\{\{SERVERS\}\}/$servers}
  printf '%s\n' "$conf" > "$work/nginx.conf"
  nginx -p "$work" -c "$work/nginx.conf" &
  pids+=($!)
}

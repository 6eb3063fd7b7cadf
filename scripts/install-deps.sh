#!/usr/bin/env bash
# Installs what Parley's tests and tools need that a fresh machine (only the .NET SDK, Node and npm) lacks.
# Idempotent: each piece is installed only when missing.
#   scripts/install-deps.sh          everything the test suite needs
#   scripts/install-deps.sh --run    only what running the chat needs (nothing beyond npm for the client bundle)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-test}
missing=()
if [ "$mode" != "--run" ]; then
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  # Debian packages Sentinel apart (the Sentinel fixture runs redis-sentinel).
  command -v redis-sentinel >/dev/null 2>&1 || missing+=(redis-sentinel)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v nginx >/dev/null 2>&1 || missing+=(nginx)
  # python-socketio for the client interop tests, with what its client needs for polling and WebSocket.
  /usr/bin/python3 -c 'import socketio, requests, websocket' >/dev/null 2>&1 || missing+=(python3-socketio python3-requests python3-websocket)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
  # The packages start system services we do not use: tests start their own servers on free ports.
  for svc in redis-server redis-sentinel postgresql nginx; do
    $sudo service "$svc" stop >/dev/null 2>&1 || true
  done
fi

if [ "$mode" != "--run" ]; then
  # The official JS clients, Express and Node socket.io peers the tests drive (versions locked in package-lock.json).
  if [ ! -d test/js/node_modules ] || [ test/js/package-lock.json -nt test/js/node_modules/.package-lock.json ]; then
    (cd test/js && npm ci --no-audit --no-fund)
  fi
  # The Express half of samples/ExpressAndParley, which Parley.Samples.Tests runs.
  sample=samples/ExpressAndParley/express
  if [ ! -d $sample/node_modules ] || [ $sample/package-lock.json -nt $sample/node_modules/.package-lock.json ]; then
    (cd $sample && npm ci --no-audit --no-fund)
  fi
fi

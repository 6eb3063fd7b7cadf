# Sourced by the benchmarks that hold many connections with the server and the load on separate cores; not run.
#   . bench/pinning.sh; need_descriptors "$N"; pin_cores
# Never run by the tests.

# Raises `ulimit -n` to the hard limit and stops the script unless N sockets (and 1,000 more) fit: N connections
# in one process need more descriptors than the usual 1,024.
need_descriptors() {
  local n=$1
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  if (( $(ulimit -n) < n + 1000 )); then
    echo "ulimit -n is $(ulimit -n): too low for $n connections (raise the hard limit)" >&2
    exit 2
  fi
}

# SERVER_CPU and LOAD_CPU: the server on core 0, the load on core 1 (core 0 too on a one-core machine), for taskset.
pin_cores() {
  command -v taskset >/dev/null || { echo "taskset (util-linux) is needed" >&2; exit 2; }
  SERVER_CPU=0
  LOAD_CPU=$(( $(nproc) > 1 ? 1 : 0 ))
}

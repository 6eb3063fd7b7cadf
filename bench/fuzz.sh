#!/usr/bin/env bash
# Coverage-guided fuzzing of Parley's decoders with SharpFuzz + AFL++ (not run by CI: CI replays the committed corpus
# in test/Parley.Fuzz.Tests). Installs afl++ (Debian) and the sharpfuzz instrumenter, builds bench/Parley.Fuzz,
# instruments the Parley assemblies, then runs each target for a fixed time.
#   bench/fuzz.sh [seconds-per-target] [target...]     targets: eio-payload eio3-payload sio-packet cookie session-json msgpack
# Findings land in artifacts/fuzz/<target>/default/{crashes,hangs}; copy each crash into test/fuzz-corpus/<target>
# (it becomes a regression test) and fix the decoder. New coverage (queue/) may be merged into the corpus with afl-cmin.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(eio-payload eio3-payload sio-packet cookie session-json msgpack)

command -v afl-fuzz >/dev/null || { sudo -n true 2>/dev/null && SUDO=sudo || SUDO=; $SUDO apt-get install -y afl++; }
tools=artifacts/fuzz-tools
[ -x "$tools/sharpfuzz" ] || dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$tools"

out=artifacts/fuzz-build
dotnet publish bench/Parley.Fuzz -c Release -o "$out" -nologo -v quiet
# Instrument the code under test (not the harness, not the framework): AFL sees edges of these assemblies. The
# msgpack target runs Parley's bridge (Parley.dll) over MessagePack-CSharp's reader (MessagePack.dll).
for dll in Parley.Protocol Parley.Sessions Parley MessagePack; do
  "$tools/sharpfuzz" "$out/$dll.dll"
done

export AFL_NO_AFFINITY=1 AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1
for target in "${targets[@]}"; do
  mkdir -p "artifacts/fuzz/$target"
  echo "== $target: ${seconds}s"
  afl-fuzz -V "$seconds" -i "test/fuzz-corpus/$target" -o "artifacts/fuzz/$target" -t 5000 -m none \
    -- dotnet "$out/Parley.Fuzz.dll" "$target" > "artifacts/fuzz/$target.log" 2>&1 || true
  stats="artifacts/fuzz/$target/default/fuzzer_stats"
  if [ -f "$stats" ]; then
    grep -E '^(execs_done|execs_per_sec|bitmap_cvg|edges_found|total_edges|saved_crashes|saved_hangs|corpus_count) ' "$stats"
  else
    tail -20 "artifacts/fuzz/$target.log"
  fi
done

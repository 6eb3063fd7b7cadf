#!/usr/bin/env bash
# Runs every Parley test on a fresh machine: installs what the tests need, then builds and runs all test projects.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
dotnet build Parley.slnx -c Release -v quiet -nologo
mkdir -p artifacts
set +e
dotnet test Parley.slnx -c Release --no-build -nologo "$@" 2>&1 | tee artifacts/test-output.txt
status=${PIPESTATUS[0]}
set -e
# One closing line for humans and CI: the sum over every test assembly.
awk '/(Passed|Failed)!/ { for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' artifacts/test-output.txt
exit "$status"

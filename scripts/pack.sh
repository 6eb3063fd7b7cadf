#!/usr/bin/env bash
# Packs every shipped package (src/*, the chat excepted) and the parley-load tool into one folder, a local feed:
#   scripts/pack.sh [out-dir] [dotnet pack arguments…]      # out-dir: artifacts/packages
# e.g. scripts/pack.sh /tmp/feed -p:Version=1.0.0 (CI=true for a release: deterministic paths and SourceLink).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(realpath -m "${1:-artifacts/packages}")
shift $(( $# > 0 ? 1 : 0 ))
mkdir -p "$OUT"
for project in src/*/*.csproj tools/Parley.Load/Parley.Load.csproj; do
  [[ $project == src/Parley.Chat/* ]] && continue
  dotnet pack "$project" -c Release -o "$OUT" -v quiet -nologo "$@"
done
ls "$OUT"

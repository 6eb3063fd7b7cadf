#!/usr/bin/env bash
# Rewrites each shipped package's PublicAPI.Unshipped.txt from what the public API analyzer finds in the code.
# Run it after an intended change of a public surface, then review the diff: it is the API change.
# PublicAPI.Shipped.txt is edited by hand at a release (move the released lines into it).
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for project in src/*/*.csproj; do
  dir=$(dirname "$project")
  [ "$(dotnet msbuild "$project" -getProperty:IsPackable)" = "true" ] || continue
  [ -f "$dir/PublicAPI.Shipped.txt" ] || echo '#nullable enable' > "$dir/PublicAPI.Shipped.txt"
  echo '#nullable enable' > "$dir/PublicAPI.Unshipped.txt"
done
# RS0016: "Symbol 'X' is not part of the declared public API": every such X goes into its project's Unshipped file.
dotnet build Parley.slnx -c Release -nologo -v quiet --no-incremental -p:TreatWarningsAsErrors=false >"$log" 2>&1 || true
grep -o "RS0016: Symbol '.*' is not part of the declared public API.*\[.*\.csproj" "$log" |
  sed -E "s/^RS0016: Symbol '(.*)' is not part of the declared public API.*\[(.*)\.csproj$/\2\t\1/" |
  sort -u |
  while IFS=$'\t' read -r project symbol; do
    echo "$symbol" >> "$(dirname "$project")/PublicAPI.Unshipped.txt"
  done
for file in src/*/PublicAPI.Unshipped.txt; do
  { head -n1 "$file"; tail -n +2 "$file" | LC_ALL=C sort -u; } > "$file.tmp" && mv "$file.tmp" "$file"
  echo "$file: $(($(wc -l < "$file") - 1)) symbols"
done

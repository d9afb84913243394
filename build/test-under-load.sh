#!/usr/bin/env bash
# Runs tests while every core is kept busy by another process, as on a user's machine with a build or a game running:
# the suite promises counts and orders, never speed, so it must pass like this. One busy loop per core (or LOAD of
# them), started before the tests and stopped by their pids after, whatever the tests did.
# Usage: build/test-under-load.sh [dotnet test arguments...]
#   e.g. build/test-under-load.sh tests/SaCam.Serve.Tests --filter "FullyQualifiedName~MonoClientTests"
#        LOAD=4 build/test-under-load.sh SaCam.Realtime.sln
set -euo pipefail
case "${1:-}" in -h|--help)
  echo "usage: build/test-under-load.sh [dotnet test arguments...]   (default: the whole solution; LOAD=N busy loops, default one per core)"
  exit 0 ;;
esac
load=${LOAD:-$(nproc)}
case "$load" in ''|*[!0-9]*) echo "test-under-load.sh: LOAD must be a whole number (got '$load')" >&2; exit 2 ;; esac
[ $# -gt 0 ] || set -- "$(cd "$(dirname "$0")/.." && pwd)/SaCam.Realtime.sln"
pids=()
stop_load() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap stop_load EXIT
for _ in $(seq 1 "$load"); do
  sh -c 'while :; do :; done' &
  pids+=("$!")
done
echo "test-under-load.sh: $load busy loops (pids ${pids[*]}); running: dotnet test $*" >&2
dotnet test "$@"

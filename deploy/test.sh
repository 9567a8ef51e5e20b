#!/usr/bin/env bash
# The test command: installs what is missing, brings the local stack up, runs every test (unit and integration).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash deploy/bootstrap.sh
bash deploy/stack/stack.sh up
status=0
npm test || status=$?
if [ "$status" -ne 0 ]; then
  # What the stack said near the failure (the logs go with the machine; CI keeps only this output).
  for log in .stack/apicurio/registry.log .stack/kafka/kafka.log; do
    [ -f "$log" ] || continue
    echo "[test] last warnings and errors in $log:"
    grep -E ' (WARN|ERROR) ' "$log" | tail -n 15 || true
  done
  for gc in .stack/apicurio/gc.log .stack/kafka/gc.log; do
    [ -f "$gc" ] || continue
    echo "[test] longest GC pauses in $gc:"
    grep -oE '[0-9]+\.[0-9]+ms$' "$gc" | sort -n | tail -n 3 | tr '\n' ' '; echo
  done
fi
exit "$status"

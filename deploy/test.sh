#!/usr/bin/env bash
# The test command: installs what is missing, brings the local stack up, runs every test (unit and integration).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash deploy/bootstrap.sh
bash deploy/stack/stack.sh up
npm test

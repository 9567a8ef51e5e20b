#!/usr/bin/env bash
# The main job: installs what is missing, brings the local stack up, then runs every service built so
# far in the foreground (Ctrl-C stops the services; `npm run stack:down` stops the stack).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash deploy/bootstrap.sh
bash deploy/stack/stack.sh up
exec node --import tsx deploy/run-services.ts

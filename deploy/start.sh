#!/usr/bin/env bash
# The main job: installs what is missing, brings the local stack up, then runs every service in the
# foreground under a supervisor (deploy/run-services.ts): a service that exits is restarted with backoff,
# a crash loop is reported on stderr, an empty campaign catalogue gets a small demo seed (skip it with
# --no-demo-seed or RTB_SKIP_DEMO_SEED=1), and Ctrl-C stops the services (`npm run stack:down` stops the stack).
# Service logs: .stack/logs/<service>.log. A local run is a development run: RTB_DEV_MODE defaults to 1
# (the campaign API then generates its operator token in .stack/operator-token); RTB_DEV_MODE=0 to refuse that.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash deploy/bootstrap.sh
bash deploy/stack/stack.sh up
exec node --import tsx deploy/run-services.ts "$@"

#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian machine, idempotently:
# Debian packages, the Kafka jars and the schema registry (deploy/stack/stack.sh install), then npm ci
# (building the Kafka client's bundled librdkafka against Debian's libraries).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { printf '[bootstrap] %s\n' "$*"; }
die() { printf '[bootstrap] error: %s\n' "$*" >&2; exit 1; }

command -v node >/dev/null || die "node not found: install Node.js 20+ (apt-get install nodejs npm)"
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] || die "Node.js $(node -v) is too old: install Node.js 20+"
command -v npm >/dev/null || die "npm not found: install npm (apt-get install npm)"

bash deploy/stack/stack.sh install

stamp="node_modules/.rtb-lock.sha"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
native="node_modules/@confluentinc/kafka-javascript/build/Release/confluent-kafka-javascript.node"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -f "$native" ]; then
  say "npm ci (builds librdkafka for @confluentinc/kafka-javascript from source: about a minute)"
  export CKJS_LINKING=dynamic
  # node-gyp must use the installed Node headers: nothing can be downloaded from nodejs.org here.
  [ -d /usr/include/node ] && export npm_config_nodedir=/usr
  npm ci --no-audit --no-fund >.stack/npm-ci.log 2>&1 || { tail -n 30 .stack/npm-ci.log >&2; die "npm ci failed (see .stack/npm-ci.log): check the build libraries (zlib1g-dev libssl-dev libzstd-dev liblz4-dev libsasl2-dev) and the npm registry"; }
  [ -f "$native" ] || die "the Kafka client's native module was not built ($native): run 'CKJS_LINKING=dynamic npm rebuild @confluentinc/kafka-javascript' and read its output"
  echo "$want" >"$stamp"
else
  say "node_modules up to date"
fi

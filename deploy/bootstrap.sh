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

# promtool, which checks and unit-tests the alert rules (deploy/prometheus/rules.test.ts): only the binary
# of Debian's prometheus package, extracted into .stack/tools (installing the package would start a daemon).
promtool=".stack/tools/promtool"
if [ ! -x "$promtool" ]; then
  say "promtool: apt-get download prometheus, extracting usr/bin/promtool into .stack/tools"
  ptmp="$(mktemp -d)"
  chmod 755 "$ptmp"
  if (cd "$ptmp" && apt-get download prometheus >download.log 2>&1) && dpkg-deb -x "$ptmp"/prometheus_*.deb "$ptmp/pkg" && [ -x "$ptmp/pkg/usr/bin/promtool" ]; then
    mkdir -p .stack/tools && cp "$ptmp/pkg/usr/bin/promtool" "$promtool.tmp" && mv "$promtool.tmp" "$promtool"
    rm -rf "$ptmp"
  else
    ptail="$(tail -n 1 "$ptmp/download.log" 2>/dev/null)"; rm -rf "$ptmp"
    die "could not extract promtool from Debian's prometheus package (${ptail:-dpkg-deb failed}): run 'apt-get update' (as root) and bash deploy/bootstrap.sh again"
  fi
else
  say "promtool present ($promtool)"
fi

# kubectl, which renders the Kubernetes manifests offline (`kubectl kustomize`) in deploy/k8s/manifests.test.ts:
# Debian's kubernetes-client, installed only when no kubectl is on the PATH.
if ! command -v kubectl >/dev/null; then
  say "kubectl: apt-get install kubernetes-client"
  klog="$(mktemp)"
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get install -y --no-install-recommends kubernetes-client >"$klog" 2>&1 || { apt-get update >>"$klog" 2>&1 && apt-get install -y --no-install-recommends kubernetes-client >>"$klog" 2>&1; }; }; then
    last="$(tail -n 1 "$klog")"; rm -f "$klog"
    die "could not install kubectl (${last:-apt-get failed}): run 'apt-get update && apt-get install kubernetes-client' as root, or put a kubectl on the PATH"
  fi
  rm -f "$klog"
  command -v kubectl >/dev/null || die "kubernetes-client installed but no kubectl on the PATH: run 'apt-get install --reinstall kubernetes-client' as root"
else
  say "kubectl present ($(command -v kubectl))"
fi

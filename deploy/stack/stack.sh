#!/usr/bin/env bash
# The local stack on loopback, as real processes (no Docker engine needed):
#   Apache Kafka (KRaft, one node, official jars from Maven Central)   127.0.0.1:9092 (controller :9093)
#   Apicurio Registry (Confluent-compatible API, PostgreSQL storage)  127.0.0.1:8081/apis/ccompat/v7
#   PostgreSQL and Redis (Debian packages)                            127.0.0.1:5432, 127.0.0.1:6379
#
#   stack.sh install   install what is missing (apt packages, Kafka jars, the registry); no servers started
#   stack.sh up        install if needed, start what is not running, wait until each answers
#   stack.sh down      stop only what `up` started
#   stack.sh status    one line per component
#
# Every step says what it does; every failure is one line naming the cause and the fix, and a non-zero exit.
# Running `up` twice is harmless. State lives in .stack/ (git-ignored).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK="$ROOT/.stack"
KAFKA_DIR="$STACK/kafka"
REG_DIR="$STACK/apicurio"
STARTED="$STACK/started"   # components `up` started (one name a line); `down` stops only these

KAFKA_PORT="${STACK_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${STACK_KAFKA_CONTROLLER_PORT:-9093}"
REGISTRY_PORT="${STACK_REGISTRY_PORT:-8081}"
REGISTRY_MGMT_PORT="${STACK_REGISTRY_MGMT_PORT:-9000}"
PG_PORT="${STACK_PG_PORT:-5432}"
REDIS_PORT="${STACK_REDIS_PORT:-6379}"
DB_USER="${STACK_DB_USER:-rtb}"
DB_PASSWORD="${STACK_DB_PASSWORD:-rtb}"
DB_NAME="${STACK_DB_NAME:-rtb}"
REGISTRY_DB="${STACK_REGISTRY_DB:-rtb_registry}"
KAFKA_HEAP="${STACK_KAFKA_HEAP:--Xms256m -Xmx1g}"
# Kafka's own start script's JVM settings (kafka-run-class.sh): G1 aiming at 20 ms pauses. The JVM's
# default 200 ms target let young collections stall every produce acknowledgement for tens of ms.
KAFKA_JVM_OPTS="${STACK_KAFKA_JVM_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true}"
REGISTRY_HEAP="${STACK_REGISTRY_HEAP:--Xms128m -Xmx512m}"
APT_PACKAGES=(postgresql redis-server zlib1g-dev libssl-dev libzstd-dev liblz4-dev libsasl2-dev curl)

step() { printf '[stack] %s\n' "$*"; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
mark_started() { mkdir -p "$STACK"; grep -qx "$1" "$STARTED" 2>/dev/null || echo "$1" >>"$STARTED"; }
was_started() { grep -qx "$1" "$STARTED" 2>/dev/null; }
unmark_started() { [ -f "$STARTED" ] && sed -i "/^$1\$/d" "$STARTED" || true; }
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for() { # wait_for <what> <seconds> <log file> [--pid <pidfile>] <command...>
  local what="$1" secs="$2" log="$3" pidfile=""; shift 3
  [ "${1:-}" = "--pid" ] && { pidfile="$2"; shift 2; }
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ -n "$pidfile" ] && ! pid_alive "$pidfile"; then
      [ -f "$log" ] && grep -v '^\s*at \|^\s*\.\.\.' "$log" | tail -n 8 >&2
      die "$what exited during start-up; see $log"
    fi
    if [ "$SECONDS" -ge "$end" ]; then
      [ -n "$log" ] && [ -f "$log" ] && tail -n 20 "$log" >&2
      die "$what did not answer within ${secs}s; see ${log:-its log} and retry 'npm run stack:up'"
    fi
    sleep 0.5
  done
}

java_major() { "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1; }

# The registry (Apicurio 3) needs Java 21+; Kafka runs on 17+. Prefer REGISTRY_JAVA, then PATH, then /usr/lib/jvm.
registry_java() {
  local candidates=("${REGISTRY_JAVA:-}" "$(command -v java || true)") j
  for j in /usr/lib/jvm/*/bin/java; do candidates+=("$j"); done
  for j in "${candidates[@]}"; do
    [ -n "$j" ] && [ -x "$j" ] && [ "$(java_major "$j")" -ge 21 ] 2>/dev/null && { echo "$j"; return 0; }
  done
  return 1
}

need_tools() {
  command -v java >/dev/null || die "java not found: install a JDK 17+ (apt-get install openjdk-17-jre-headless)"
  [ "$(java_major java)" -ge 17 ] || die "java $(java_major java) is too old for Kafka 4: install JDK 17+ and put it first on PATH"
  command -v mvn >/dev/null || die "mvn not found: install Maven (apt-get install maven); it resolves the Kafka jars and the registry"
  registry_java >/dev/null || die "no Java 21+ found for the schema registry (Apicurio 3): install a JDK 21+ or set REGISTRY_JAVA=/path/to/bin/java"
}

install_apt() {
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && { step "Debian packages present"; return; }
  step "installing Debian packages: ${missing[*]}"
  command -v apt-get >/dev/null || die "apt-get not found: install ${missing[*]} with your package manager"
  [ "$(id -u)" -eq 0 ] || die "installing ${missing[*]} needs root: run 'sudo apt-get install ${missing[*]}' then retry"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed: check the network or the apt sources, then retry"
  apt-get install -y -qq "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed: run it by hand to see why"
}

install_jars() {
  # The pom's hash is the stamp: editing versions in the pom re-resolves on the next install.
  local want; want="$(sha256sum "$ROOT/deploy/stack/pom.xml" | cut -d' ' -f1)"
  if [ "$(cat "$STACK/jars.sha" 2>/dev/null)" = "$want" ] && [ -f "$REG_DIR/quarkus-run.jar" ]; then
    step "Kafka jars and registry present"; return
  fi
  rm -rf "$KAFKA_DIR/libs"
  step "resolving Apache Kafka 4.1.1 and Apicurio Registry 3.3.3 from Maven Central (first time: ~220 MB)"
  (cd "$ROOT/deploy/stack" && mvn -q -B package >"$STACK/maven.log" 2>&1) \
    || { tail -n 20 "$STACK/maven.log" >&2; die "Maven could not resolve the stack (see .stack/maven.log): check Maven Central is reachable, then retry"; }
  echo "$want" >"$STACK/jars.sha"
}

cmd_install() {
  mkdir -p "$STACK"
  install_apt
  need_tools
  install_jars
}

psql_admin() { runuser -u postgres -- psql -p "$PG_PORT" -v ON_ERROR_STOP=1 -qtAX "$@"; }

up_postgres() {
  if ! port_open "$PG_PORT"; then
    local cluster
    cluster="$(pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3==p {print $1" "$2; exit}')"
    if [ -z "$cluster" ]; then
      local ver name=main; ver="$(ls /usr/lib/postgresql | sort -n | tail -n1)"
      # A second stack (STACK_PG_PORT) beside the first: 'main' is taken by the first one's cluster.
      [ -d "/etc/postgresql/$ver/main" ] && name="rtb$PG_PORT"
      step "creating PostgreSQL $ver cluster '$name' on port $PG_PORT"
      pg_createcluster -p "$PG_PORT" "$ver" "$name" >/dev/null || die "pg_createcluster failed: create a cluster with 'pg_createcluster -p $PG_PORT $ver $name'"
      cluster="$ver $name"
    fi
    step "starting PostgreSQL cluster $cluster"
    # shellcheck disable=SC2086
    pg_ctlcluster $cluster start || die "PostgreSQL did not start: see /var/log/postgresql/ and fix, then retry"
    mark_started "postgres:$cluster"
  else
    step "PostgreSQL already answering on :$PG_PORT"
  fi
  wait_for "PostgreSQL" 30 "" runuser -u postgres -- psql -p "$PG_PORT" -qtAc 'select 1'
  step "ensuring role '$DB_USER' and databases '$DB_NAME', '$REGISTRY_DB'"
  psql_admin -c "do \$\$ begin if not exists (select from pg_roles where rolname = '$DB_USER') then create role $DB_USER login password '$DB_PASSWORD'; end if; end \$\$;"
  local db
  for db in "$DB_NAME" "$REGISTRY_DB"; do
    [ "$(psql_admin -c "select 1 from pg_database where datname = '$db'")" = "1" ] || psql_admin -c "create database $db owner $DB_USER"
  done
}

up_redis() {
  if port_open "$REDIS_PORT"; then step "Redis already answering on :$REDIS_PORT"; return; fi
  command -v redis-server >/dev/null || die "redis-server not found: run 'npm run stack:install' (or apt-get install redis-server)"
  mkdir -p "$STACK/redis"
  step "starting Redis on 127.0.0.1:$REDIS_PORT (data in .stack/redis)"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --dir "$STACK/redis" \
    --pidfile "$STACK/redis/redis.pid" --logfile "$STACK/redis/redis.log" --appendonly yes >/dev/null \
    || die "Redis did not start: see .stack/redis/redis.log"
  mark_started redis
  wait_for "Redis" 20 "$STACK/redis/redis.log" redis-cli -p "$REDIS_PORT" ping
}

kafka_java() { java $KAFKA_HEAP -Dlog4j2.configurationFile="$ROOT/deploy/stack/kafka-log4j2.properties" -cp "$KAFKA_DIR/libs/*" "$@"; }

write_kafka_config() {
  cat >"$KAFKA_DIR/server.properties" <<EOF
# generated by deploy/stack/stack.sh: single-node KRaft broker+controller on loopback
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=12
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=12
group.initial.rebalance.delay.ms=0
log.retention.hours=168
EOF
}

kafka_ready() { grep -q "Kafka Server started" "$KAFKA_DIR/kafka.log" && port_open "$KAFKA_PORT"; }

up_kafka() {
  if pid_alive "$KAFKA_DIR/kafka.pid"; then step "Kafka already running (pid $(cat "$KAFKA_DIR/kafka.pid"))"; wait_for "Kafka" 60 "$KAFKA_DIR/kafka.log" kafka_ready; return; fi
  port_open "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by another process: stop it, or set STACK_KAFKA_PORT (and KAFKA_BROKERS) to a free port"
  port_open "$KAFKA_CONTROLLER_PORT" && die "port $KAFKA_CONTROLLER_PORT is taken by another process: stop it, or set STACK_KAFKA_CONTROLLER_PORT"
  mkdir -p "$KAFKA_DIR/data"
  write_kafka_config
  if [ ! -f "$KAFKA_DIR/data/meta.properties" ]; then
    step "formatting KRaft storage in .stack/kafka/data"
    local cluster_id; cluster_id="$(kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
    kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_DIR/server.properties" >"$KAFKA_DIR/format.log" 2>&1 \
      || { cat "$KAFKA_DIR/format.log" >&2; die "formatting Kafka storage failed: remove .stack/kafka/data and retry"; }
  fi
  step "starting Kafka 4.1.1 (KRaft) on 127.0.0.1:$KAFKA_PORT"
  : >"$KAFKA_DIR/kafka.log"
  # shellcheck disable=SC2086
  nohup setsid java $KAFKA_HEAP $KAFKA_JVM_OPTS -Xlog:gc:file="$KAFKA_DIR/gc.log":time,uptime:filecount=2,filesize=20M \
    -Dlog4j2.configurationFile="$ROOT/deploy/stack/kafka-log4j2.properties" -cp "$KAFKA_DIR/libs/*" kafka.Kafka "$KAFKA_DIR/server.properties" >>"$KAFKA_DIR/kafka.log" 2>&1 </dev/null &
  echo $! >"$KAFKA_DIR/kafka.pid"
  mark_started kafka
  wait_for "Kafka" 90 "$KAFKA_DIR/kafka.log" --pid "$KAFKA_DIR/kafka.pid" kafka_ready
}

registry_url() { echo "http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7"; }
registry_ready() { curl -fsS "$(registry_url)/subjects" >/dev/null; }

up_registry() {
  if pid_alive "$REG_DIR/registry.pid"; then step "schema registry already running (pid $(cat "$REG_DIR/registry.pid"))"
  else
    port_open "$REGISTRY_PORT" && die "port $REGISTRY_PORT is taken by another process: stop it, or set STACK_REGISTRY_PORT (and SCHEMA_REGISTRY_URL)"
    port_open "$REGISTRY_MGMT_PORT" && die "port $REGISTRY_MGMT_PORT (registry management) is taken by another process: stop it, or set STACK_REGISTRY_MGMT_PORT"
    local java; java="$(registry_java)" || die "no Java 21+ found for the schema registry: install a JDK 21+ or set REGISTRY_JAVA"
    step "starting Apicurio Registry 3.3.3 on 127.0.0.1:$REGISTRY_PORT (storage: PostgreSQL database '$REGISTRY_DB')"
    : >"$REG_DIR/registry.log"
    QUARKUS_HTTP_PORT="$REGISTRY_PORT" QUARKUS_HTTP_HOST=127.0.0.1 \
    QUARKUS_MANAGEMENT_PORT="$REGISTRY_MGMT_PORT" QUARKUS_MANAGEMENT_HOST=127.0.0.1 \
    APICURIO_STORAGE_KIND=sql APICURIO_STORAGE_SQL_KIND=postgresql \
    APICURIO_DATASOURCE_URL="jdbc:postgresql://127.0.0.1:$PG_PORT/$REGISTRY_DB" \
    APICURIO_DATASOURCE_USERNAME="$DB_USER" APICURIO_DATASOURCE_PASSWORD="$DB_PASSWORD" \
    APICURIO_DATASOURCE_JDBC_INITIAL_SIZE=2 APICURIO_DATASOURCE_JDBC_MIN_SIZE=2 APICURIO_DATASOURCE_JDBC_MAX_SIZE=10 \
    QUARKUS_LOG_CATEGORY__IO_QUARKUS_HTTP_ACCESS_LOG__LEVEL=WARN \
      nohup setsid "$java" $REGISTRY_HEAP -Xlog:gc:file="$REG_DIR/gc.log":time,uptime:filecount=2,filesize=20M -jar "$REG_DIR/quarkus-run.jar" >>"$REG_DIR/registry.log" 2>&1 </dev/null &
    echo $! >"$REG_DIR/registry.pid"
    mark_started registry
  fi
  wait_for "schema registry" 120 "$REG_DIR/registry.log" --pid "$REG_DIR/registry.pid" registry_ready
  step "registry default compatibility: BACKWARD"
  curl -fsS -X PUT -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
    --data '{"compatibility":"BACKWARD"}' "$(registry_url)/config" >/dev/null \
    || die "could not set the registry's default compatibility: see .stack/apicurio/registry.log"
}

cmd_up() {
  cmd_install
  up_postgres
  up_redis
  up_kafka
  up_registry
  step "stack is up: kafka 127.0.0.1:$KAFKA_PORT, registry $(registry_url), postgres 127.0.0.1:$PG_PORT/$DB_NAME, redis 127.0.0.1:$REDIS_PORT"
}

stop_pidfile() { # stop_pidfile <name> <pidfile>
  local pid; pid="$(cat "$2" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    step "stopping $1 (pid $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local end=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do sleep 0.3; done
    kill -0 "$pid" 2>/dev/null && { step "$1 did not stop in 30s: killing"; kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" || true; }
  fi
  rm -f "$2"
}

cmd_down() {
  # Reverse order: the registry stores in Postgres, so it stops first.
  was_started registry && stop_pidfile "schema registry" "$REG_DIR/registry.pid"; unmark_started registry
  was_started kafka && stop_pidfile "Kafka" "$KAFKA_DIR/kafka.pid"; unmark_started kafka
  if was_started redis; then
    step "stopping Redis"
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || stop_pidfile Redis "$STACK/redis/redis.pid"
    unmark_started redis
  fi
  local line
  while read -r line; do
    case "$line" in postgres:*) step "stopping PostgreSQL cluster ${line#postgres:}"
      # shellcheck disable=SC2086
      pg_ctlcluster ${line#postgres:} stop || true; unmark_started "$line" ;; esac
  done < <(cat "$STARTED" 2>/dev/null || true)
  step "stack is down (components not started by 'up' were left alone)"
}

status_line() { printf '%-16s %s\n' "$1" "$2"; }
cmd_status() {
  port_open "$PG_PORT" && status_line postgres "up :$PG_PORT" || status_line postgres down
  port_open "$REDIS_PORT" && status_line redis "up :$REDIS_PORT" || status_line redis down
  if pid_alive "$KAFKA_DIR/kafka.pid"; then status_line kafka "up :$KAFKA_PORT (pid $(cat "$KAFKA_DIR/kafka.pid"))"; else status_line kafka down; fi
  if registry_ready 2>/dev/null; then status_line registry "up $(registry_url)"; else status_line registry down; fi
}

case "${1:-}" in
  install) cmd_install ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) die "usage: stack.sh install|up|down|status" ;;
esac

#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft, no ZooKeeper) from Maven Central's jars, for tests
# and local runs. Needs Java 17+ and Maven; nothing else.
#
#   kafka.sh fetch                     jars into the cache (idempotent; a second run does nothing)
#   kafka.sh start DIR [PORT [CPORT]]  format KRaft storage in DIR, start the broker in the background
#                                      on 127.0.0.1:PORT (free ports when omitted), wait until it
#                                      serves, print "127.0.0.1:PORT"; pid and logs stay in DIR
#   kafka.sh stop DIR                  stop the broker started in DIR (SIGTERM, then SIGKILL after 30 s)
#   kafka.sh classpath                 print the broker's classpath (after fetch)
#
# Environment: KAFKA_VERSION (default below), WALAUDIT_KAFKA_CACHE (default ~/.cache/walaudit/kafka),
# KAFKA_HEAP (default -Xmx512m), KAFKA_START_TIMEOUT seconds (default 60).
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
# log4j-slf4j-impl: the broker logs through slf4j 1.x, and kafka_2.13's pom brings no binding, so
# without it the broker is silent and the "started" line this script waits for never comes.
LOG4J_VERSION="2.25.5"
CACHE="${WALAUDIT_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/walaudit/kafka}/$KAFKA_VERSION"
LIBS="$CACHE/libs"

SERVICE_NAME=kafka.sh
# shellcheck source=../lib/service.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/service.sh"

fetch() {
  [ -f "$LIBS/.complete" ] && return 0
  need_java_and_maven
  mkdir -p "$CACHE"
  local work
  work="$(mktemp -d)"
  cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>walaudit.infra</groupId>
  <artifactId>kafka-broker-jars</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
POM
  rm -rf "$LIBS.partial"
  if ! mvn -q -B -f "$work/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIBS.partial" >"$work/mvn.log" 2>&1; then
    cat "$work/mvn.log" >&2
    die "mvn could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION (see above)"
  fi
  # Renamed only when complete: an interrupted fetch is redone, never half-used.
  touch "$LIBS.partial/.complete"
  rm -rf "$LIBS"
  mv "$LIBS.partial" "$LIBS"
  rm -rf "$work"
}

start() {
  local dir="${1:?usage: kafka.sh start DIR [PORT [CPORT]]}"
  local port="${2:-$(free_port)}"
  local cport="${3:-$(free_port)}"
  fetch
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  refuse_running "$dir/broker.pid"
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
# One broker: internal topics cannot have more replicas than that.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests join groups often; the default 3 s wait before the first rebalance would add up.
group.initial.rebalance.delay.ms=0
# walaudit creates its topics itself; a typo'd topic name should fail, not appear.
auto.create.topics.enable=false
PROPS
  cat >"$dir/log4j2.properties" <<'LOG'
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
appender.file.type = File
appender.file.name = file
appender.file.fileName = ${sys:kafka.logs.dir}/broker.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.request.name = kafka.request.logger
logger.request.level = WARN
LOG
  local cp="$LIBS/*"
  local java_opts=(${KAFKA_HEAP:--Xmx512m -Xms128m} -XX:+UseSerialGC -Djava.awt.headless=true
    "-Dkafka.logs.dir=$dir" "-Dlog4j2.configurationFile=$dir/log4j2.properties")
  # Format only once: a restart of the same DIR keeps its topics and offsets (broker-restart tests).
  if [ ! -f "$dir/data/meta.properties" ]; then
    # A cluster id is 16 random bytes in URL-safe base64 (what `StorageTool random-uuid` prints),
    # made here to save a JVM start. Like Kafka's own, never one starting with "-": the format
    # command would take it for an option (1 start in 64 failed before this).
    local cluster_id="-"
    while [ "${cluster_id:0:1}" = "-" ]; do
      cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    done
    java -cp "$cp" "${java_opts[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" >"$dir/format.log" 2>&1 ||
      { cat "$dir/format.log" >&2; die "formatting KRaft storage in $dir failed"; }
  fi
  : >"$dir/broker.log"
  setsid java -cp "$cp" "${java_opts[@]}" kafka.Kafka "$dir/server.properties" >"$dir/stdout.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$dir/broker.pid"
  echo "127.0.0.1:$port" >"$dir/bootstrap"
  local deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-60}))
  until grep -q "Kafka Server started" "$dir/broker.log" 2>/dev/null && port_open "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -30 "$dir/broker.log" "$dir/stdout.log" >&2
      die "the broker exited during startup (logs in $dir)"
    fi
    [ "$SECONDS" -lt "$deadline" ] || { stop "$dir"; die "the broker did not start within ${KAFKA_START_TIMEOUT:-60} s (logs in $dir)"; }
    sleep 0.1
  done
  echo "127.0.0.1:$port"
}

stop() {
  local dir="${1:?usage: kafka.sh stop DIR}"
  stop_pidfile "$dir/broker.pid"
}

case "${1:-}" in
  fetch) fetch; echo "$LIBS" ;;
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  classpath) fetch; echo "$LIBS/*" ;;
  *) die "usage: kafka.sh fetch | start DIR [PORT [CPORT]] | stop DIR | classpath" ;;
esac

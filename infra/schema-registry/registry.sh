#!/usr/bin/env bash
# A real Confluent-compatible schema registry (Apicurio Registry, in-memory storage) built from
# Maven Central's artifacts, for the Avro tests and local runs. Needs Java 17+ and Maven; nothing else.
#
#   registry.sh fetch               build the registry into the cache (idempotent; about 2 minutes
#                                   and 210 MB of downloads the first time, nothing after)
#   registry.sh start DIR [PORT]    start it in the background on 127.0.0.1:PORT (a free port when
#                                   omitted), wait until its Confluent API answers, print that API's
#                                   URL (the value of kafka.schemaRegistryUrl); pid and log stay in DIR
#   registry.sh stop DIR            stop the registry started in DIR
#
# Environment: WALAUDIT_REGISTRY_CACHE (default ~/.cache/walaudit/schema-registry),
# REGISTRY_HEAP (default -Xmx128m), REGISTRY_START_TIMEOUT seconds (default 90).
#
# Why a build and not a download: Maven Central holds Apicurio's application as the plain jar of a
# Quarkus app, not a runnable one, so the Quarkus plugin builds it here. Apicurio 3.x cannot be
# resolved from Central (parent POMs and modules missing at the served versions); 2.4.2.Final can,
# with two repairs, both in the POM below:
# - org.everit.json.schema comes from JitPack upstream; Central has the same library (same classes)
#   as com.github.erosb:everit-json-schema.
# - the build step of one Quarkus extension, apicurio-common-app-components-config-index-deployment,
#   is not on Central at 0.1.18.Final, the version its runtime names; 0.1.10.Final is, and its
#   runtime classes are the same, so it is installed under 0.1.18.Final into a private local
#   repository (never ~/.m2) that is thrown away after the build.
# Its storage is in memory: a restart forgets every schema, as a test wants.
set -euo pipefail

SERVICE_NAME=registry.sh
# shellcheck source=../lib/service.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/service.sh"

APICURIO_VERSION="2.4.2.Final"
QUARKUS_VERSION="2.16.4.Final" # the quarkus.version of Apicurio's parent POM at that version
CACHE="${WALAUDIT_REGISTRY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/walaudit/schema-registry}/$APICURIO_VERSION"
APP="$CACHE/app"
JAR="$APP/apicurio-registry-runner.jar"
# The Confluent-compatible API of Apicurio 2.x (v6 answers too).
API_PATH="/apis/ccompat/v7"

write_build() {
  local work="$1"
  cat >"$work/config-index-deployment.pom" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>io.apicurio</groupId>
  <artifactId>apicurio-common-app-components-config-index-deployment</artifactId>
  <version>0.1.18.Final</version>
  <dependencies>
    <dependency><groupId>io.apicurio</groupId><artifactId>apicurio-common-app-components-config-definitions</artifactId><version>0.1.18.Final</version></dependency>
    <dependency><groupId>io.apicurio</groupId><artifactId>apicurio-common-app-components-config-index</artifactId><version>0.1.18.Final</version></dependency>
    <dependency><groupId>io.quarkus</groupId><artifactId>quarkus-arc-deployment</artifactId><version>$QUARKUS_VERSION</version></dependency>
  </dependencies>
</project>
POM
  # No sources of its own: the app's dependencies (type pom), the app jar unpacked into the
  # classes (so its own application.properties applies), Apicurio's parent as the BOM.
  cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>walaudit.infra</groupId>
  <artifactId>apicurio-registry-runner</artifactId>
  <version>$APICURIO_VERSION</version>
  <properties>
    <maven.compiler.release>17</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencyManagement>
    <dependencies>
      <dependency><groupId>io.apicurio</groupId><artifactId>apicurio-registry</artifactId><version>$APICURIO_VERSION</version><type>pom</type><scope>import</scope></dependency>
    </dependencies>
  </dependencyManagement>
  <dependencies>
    <dependency>
      <groupId>io.apicurio</groupId><artifactId>apicurio-registry-app</artifactId><version>$APICURIO_VERSION</version><type>pom</type>
      <exclusions>
        <exclusion><groupId>com.github.everit-org.json-schema</groupId><artifactId>org.everit.json.schema</artifactId></exclusion>
        <!-- already inside the app jar -->
        <exclusion><groupId>io.apicurio</groupId><artifactId>apicurio-registry-ui</artifactId></exclusion>
      </exclusions>
    </dependency>
    <dependency><groupId>com.github.erosb</groupId><artifactId>everit-json-schema</artifactId><version>1.14.2</version></dependency>
  </dependencies>
  <build>
    <finalName>apicurio-registry</finalName>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>3.6.1</version>
        <executions>
          <execution>
            <id>fetch-config-index-deployment</id><phase>initialize</phase><goals><goal>copy</goal></goals>
            <configuration>
              <artifactItems><artifactItem><groupId>io.apicurio</groupId><artifactId>apicurio-common-app-components-config-index-deployment</artifactId><version>0.1.10.Final</version><destFileName>config-index-deployment.jar</destFileName></artifactItem></artifactItems>
              <outputDirectory>\${project.build.directory}/stand-in</outputDirectory>
            </configuration>
          </execution>
          <execution>
            <id>unpack-app</id><phase>process-resources</phase><goals><goal>unpack</goal></goals>
            <configuration>
              <artifactItems><artifactItem><groupId>io.apicurio</groupId><artifactId>apicurio-registry-app</artifactId><version>$APICURIO_VERSION</version><overWrite>true</overWrite></artifactItem></artifactItems>
              <excludes>META-INF/maven/**</excludes>
              <outputDirectory>\${project.build.outputDirectory}</outputDirectory>
            </configuration>
          </execution>
        </executions>
      </plugin>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId><artifactId>maven-install-plugin</artifactId><version>3.1.1</version>
        <executions>
          <execution>
            <id>install-config-index-deployment</id><phase>initialize</phase><goals><goal>install-file</goal></goals>
            <configuration>
              <file>\${project.build.directory}/stand-in/config-index-deployment.jar</file>
              <pomFile>\${project.basedir}/config-index-deployment.pom</pomFile>
            </configuration>
          </execution>
        </executions>
      </plugin>
      <plugin>
        <groupId>io.quarkus</groupId><artifactId>quarkus-maven-plugin</artifactId><version>$QUARKUS_VERSION</version>
        <executions><execution><goals><goal>build</goal></goals></execution></executions>
      </plugin>
    </plugins>
  </build>
</project>
POM
}

fetch() {
  [ -f "$APP/.complete" ] && return 0
  need_java_and_maven
  mkdir -p "$CACHE"
  local work
  work="$(mktemp -d)"
  write_build "$work"
  # skipDefault: Apicurio's parent adds JitPack and Confluent's repository unless it is set.
  if ! mvn -B -q -f "$work/pom.xml" -DskipDefault=true -Dmaven.repo.local="$work/m2" package >"$work/mvn.log" 2>&1; then
    grep -E 'ERROR|FAIL' "$work/mvn.log" | head -30 >&2
    die "mvn could not build Apicurio Registry $APICURIO_VERSION from Maven Central (full log: $work/mvn.log)"
  fi
  # The Quarkus legacy-jar layout: a runner jar whose manifest names lib/*.
  rm -rf "$APP.partial"
  mkdir -p "$APP.partial"
  mv "$work/target/apicurio-registry-runner.jar" "$APP.partial/"
  mv "$work/target/lib" "$APP.partial/lib"
  # Renamed only when complete: an interrupted build is redone, never half-used.
  touch "$APP.partial/.complete"
  rm -rf "$APP"
  mv "$APP.partial" "$APP"
  rm -rf "$work"
}

# True when the Confluent API answers 200 (bash's /dev/tcp: no curl needed).
api_answers() {
  local port="$1" status
  exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
  printf 'GET %s/subjects HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$API_PATH" >&3
  read -r -t 5 _ status _ <&3 || status=""
  exec 3<&-
  [ "$status" = "200" ]
}

# Starts the JVM on PORT and waits until the API answers. Returns 1 when the JVM exited during
# startup (its log is in DIR), dies on a timeout.
launch() {
  local dir="$1" port="$2"
  # shellcheck disable=SC2086 # REGISTRY_HEAP is a list of JVM options
  setsid java ${REGISTRY_HEAP:--Xmx128m} -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$port" -jar "$JAR" >"$dir/registry.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$dir/registry.pid"
  local deadline=$((SECONDS + ${REGISTRY_START_TIMEOUT:-90}))
  # Quarkus's own line first: another server that answers on the port must not pass for ours.
  until grep -q "Listening on: http://127.0.0.1:$port" "$dir/registry.log" 2>/dev/null && api_answers "$port" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$dir/registry.pid"
      return 1
    fi
    [ "$SECONDS" -lt "$deadline" ] || { stop "$dir"; die "the registry did not answer within ${REGISTRY_START_TIMEOUT:-90} s (log in $dir/registry.log)"; }
    sleep 0.2
  done
}

start() {
  local dir="${1:?usage: registry.sh start DIR [PORT]}"
  local port="${2:-}"
  fetch
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  refuse_running "$dir/registry.pid"
  # A free port can be taken by another process before the JVM binds it (tests start brokers
  # and servers side by side): with no PORT given, two more tries on other ports.
  local tries=1
  [ -n "$port" ] || tries=3
  for attempt in $(seq 1 "$tries"); do
    local try_port="${port:-$(free_port)}"
    if launch "$dir" "$try_port"; then
      local url="http://127.0.0.1:$try_port$API_PATH"
      echo "$url" >"$dir/url"
      echo "$url"
      return 0
    fi
    echo "registry.sh: the registry on port $try_port exited during startup (attempt $attempt of $tries); its log:" >&2
    tail -30 "$dir/registry.log" >&2
    cp "$dir/registry.log" "$dir/registry-attempt-$attempt.log"
  done
  die "the registry exited during startup (logs in $dir)"
}

stop() {
  local dir="${1:?usage: registry.sh stop DIR}"
  stop_pidfile "$dir/registry.pid"
}

case "${1:-}" in
  fetch) fetch; echo "$APP" ;;
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) die "usage: registry.sh fetch | start DIR [PORT] | stop DIR" ;;
esac

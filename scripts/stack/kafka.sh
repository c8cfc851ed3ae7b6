#!/usr/bin/env bash
# Kafka component: jars from Maven, the JMX exporter agent, KRaft format, start, health, CLI tools.
# Sourced by scripts/stack.sh (after lib.sh); run directly, it is `stack.sh <command> kafka`.

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  exec bash "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/stack.sh" "${1:-status}" kafka "${@:2}"
fi

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

# The PLAINTEXT listener stays (inter-broker traffic and the health check use it); a
# SASL_PLAINTEXT one that accepts only SCRAM-SHA-512 is added beside it.
add_sasl_listener() {  # server.properties
  local conf="$1"
  sed -i -E \
    -e "s#^(listeners=.*)#\\1,SASL_PLAINTEXT://127.0.0.1:$KAFKA_SASL_PORT#" \
    -e "s#^(advertised\\.listeners=.*)#\\1,SASL_PLAINTEXT://127.0.0.1:$KAFKA_SASL_PORT#" \
    -e "s#^(listener\\.security\\.protocol\\.map=.*)#\\1,SASL_PLAINTEXT:SASL_PLAINTEXT#" "$conf"
  cat >>"$conf" <<'EOF'

############################# SASL/SCRAM listener (KAFKA_SASL_PORT) #############################
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_plaintext.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOF
}

start_kafka() {
  ensure_kafka_libs   # also needed by the health check of an already running broker
  already_running kafka && return 0
  require_port_free kafka "$KAFKA_PORT" "KAFKA_PORT"
  require_port_free kafka "$KAFKA_CONTROLLER_PORT" "KAFKA_CONTROLLER_PORT"

  local data="$DATA_DIR/kafka" conf="$CONF_DIR/kafka/server.properties" cluster_id
  mkdir -p "$data"
  render "$TEMPLATES/kafka/server.properties.tmpl" "$conf" \
    KAFKA_PORT="$KAFKA_PORT" KAFKA_CONTROLLER_PORT="$KAFKA_CONTROLLER_PORT" KAFKA_LOG_DIR="$data"
  local scram=() users=() user
  if ((KAFKA_SASL_PORT > 0)); then
    require_port_free kafka "$KAFKA_SASL_PORT" "KAFKA_SASL_PORT"
    add_sasl_listener "$conf"
    IFS=',' read -r -a users <<<"$KAFKA_SASL_USERS"
    for user in "${users[@]}"; do
      [[ "$user" == *:* ]] || die "kafka: KAFKA_SASL_USERS entry '$user' is not name:password"
      scram+=(--add-scram "SCRAM-SHA-512=[name=${user%%:*},password=${user#*:}]")
    done
  fi

  if [[ ! -f "$data/meta.properties" ]]; then
    cluster_id="$(kafka_java kafka.tools.StorageTool random-uuid | tail -n 1)"
    [[ "$cluster_id" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "kafka: StorageTool random-uuid returned '$cluster_id'"
    log "kafka: formatting KRaft storage in $data (cluster id $cluster_id)"
    mkdir -p "$LOG_DIR"
    kafka_java kafka.tools.StorageTool format --cluster-id "$cluster_id" --config "$conf" --ignore-formatted "${scram[@]}" \
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

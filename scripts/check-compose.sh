#!/usr/bin/env bash
# Validates docker-compose.yml without a Docker daemon: `docker-compose config` parses the file,
# resolves anchors and variables, and rejects unknown keys. Also checks the Prometheus config and
# rules the compose stack mounts (promtool), when promtool is available.
#
#   bash scripts/check-compose.sh [compose-file]
#
# Installs Debian's docker-compose (and prometheus, for promtool) when missing, if running as
# root with apt-get and NEXTACT_NO_INSTALL is unset. Exit status: 0 valid, 1 invalid, 2 tool missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FILE="${1:-$ROOT/docker-compose.yml}"
APT_UPDATED=0

log() { printf '[check-compose] %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }

can_install() { [[ -z "${NEXTACT_NO_INSTALL:-}" && "$(id -u)" == 0 ]] && have apt-get; }

apt_install() {  # package...
  if (( APT_UPDATED == 0 )); then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# A compose implementation: docker-compose (v1, Debian) or the `docker compose` plugin.
COMPOSE=()
if have docker-compose; then
  COMPOSE=(docker-compose)
elif have docker && docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif can_install; then
  log "docker-compose not found; installing the Debian package ..."
  apt_install docker-compose
  COMPOSE=(docker-compose)
else
  echo "[check-compose] ERROR: neither docker-compose nor 'docker compose' is available;" \
       "install it (apt-get install -y docker-compose) or run as root with apt-get." >&2
  exit 2
fi

log "${COMPOSE[*]} -f $FILE config"
if ! out="$(cd "$(dirname "$FILE")" && "${COMPOSE[@]}" -f "$FILE" config 2>&1 >/dev/null)"; then
  printf '%s\n' "$out" >&2
  echo "[check-compose] FAILED: $FILE is not a valid compose file" >&2
  exit 1
fi
[[ -n "$out" ]] && printf '%s\n' "$out" >&2
log "OK: $FILE"

if ! have promtool && can_install; then
  log "promtool not found; installing the Debian package prometheus ..."
  apt_install prometheus || true
fi
if have promtool; then
  promtool check config "$ROOT/infra/prometheus/prometheus.compose.yml" >/dev/null ||
    { promtool check config "$ROOT/infra/prometheus/prometheus.compose.yml"; exit 1; }
  promtool check rules "$ROOT"/infra/prometheus/rules/*.yml >/dev/null ||
    { promtool check rules "$ROOT"/infra/prometheus/rules/*.yml; exit 1; }
  log "OK: prometheus.compose.yml and rules/*.yml (promtool)"
else
  log "promtool not available: skipped the Prometheus config/rules check"
fi

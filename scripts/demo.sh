#!/usr/bin/env bash
# `npm run demo`: one command on a fresh clone — install, start the stack, run the pipeline.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node.sh   # Node 24 LTS, fetched into .cache when the machine has an older one
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== installing npm dependencies"
  npm install --no-audit --no-fund   # not `npm ci`: see .ci/run
fi
echo "== starting the local stack (Kafka, schema registry, Prometheus)"
bash scripts/stack.sh up
exec npx tsx scripts/demo.ts "$@"

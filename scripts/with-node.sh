#!/usr/bin/env bash
# Runs a command under Node 24 LTS (fetched into .cache when the machine's node is older): npm scripts
# go through here so `npm test` and friends run on the project's Node whatever the machine has.
set -euo pipefail
# shellcheck source=scripts/node.sh
source "$(dirname "${BASH_SOURCE[0]}")/node.sh"
exec "$@"

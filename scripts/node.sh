#!/usr/bin/env bash
# Source this file: it puts Node 24 LTS first on PATH. When the machine's node is older, it fetches the
# pinned Node 24 from the npm registry (which ships Node binaries as packages, node-<platform>-<arch>)
# into the git-ignored cache, once. Nothing is installed system-wide.
#   source scripts/node.sh            # then node/npm/npx are Node 24's
#   NEXTACT_NODE_VERSION=24.x.y ...   # another pin
NEXTACT_NODE_VERSION="${NEXTACT_NODE_VERSION:-24.22.3}"
_nxa_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_nxa_cache="${NEXTACT_CACHE_DIR:-$_nxa_root/.cache}"
_nxa_major="${NEXTACT_NODE_VERSION%%.*}"

_nxa_node_major() { command -v node >/dev/null 2>&1 && node -p 'process.versions.node.split(".")[0]' 2>/dev/null; }

if [ "$(_nxa_node_major)" != "$_nxa_major" ]; then
  _nxa_pkg="node-$(uname -s | tr '[:upper:]' '[:lower:]')-$(uname -m | sed -e 's/x86_64/x64/' -e 's/aarch64/arm64/')"
  _nxa_dir="$_nxa_cache/node-$NEXTACT_NODE_VERSION"
  _nxa_bin="$_nxa_dir/node_modules/$_nxa_pkg/bin"
  if [ ! -x "$_nxa_bin/node" ]; then
    command -v npm >/dev/null 2>&1 || { echo "[node] ERROR: npm is needed to fetch Node $NEXTACT_NODE_VERSION" >&2; return 1 2>/dev/null || exit 1; }
    echo "[node] fetching Node $NEXTACT_NODE_VERSION ($_nxa_pkg from the npm registry) into $_nxa_dir (first run only)" >&2
    mkdir -p "$_nxa_dir"
    # A package of its own, so the project's lock file and node_modules are untouched.
    (cd "$_nxa_dir" && printf '{"private":true}\n' > package.json \
      && npm install --no-audit --no-fund --no-save --silent "$_nxa_pkg@$NEXTACT_NODE_VERSION" >&2) \
      || { echo "[node] ERROR: could not fetch $_nxa_pkg@$NEXTACT_NODE_VERSION" >&2; return 1 2>/dev/null || exit 1; }
  fi
  # npm and npx come with the machine's npm; node itself is the fetched one.
  export PATH="$_nxa_bin:$PATH"
fi
unset -f _nxa_node_major
unset _nxa_root _nxa_cache _nxa_major _nxa_pkg _nxa_dir _nxa_bin

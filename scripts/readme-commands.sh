#!/usr/bin/env bash
# Runs the commands of README.md's ```sh blocks, so the README cannot quietly go stale (the old
# `pnpm token` ran `npm token`). Every command line is either run, run with --help (when the real
# run takes minutes and .ci/run does it elsewhere), run against a server this script starts, or
# skipped with a stated reason. A command this script has no rule for fails the run: whoever adds
# one to the README decides here how CI checks it.
#
#   scripts/readme-commands.sh [README.md]
#
# Needs PostgreSQL at PG_TEST_URL's host (for the "Running against PostgreSQL" block) and a free
# port (README_PORT, default: one the OS picks). Exit code: 0 when every command passed, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
readme=${1:-README.md}

pg_url=${PG_TEST_URL:-postgres://postgres@127.0.0.1:5432/postgres}
pg_host=$(node -e 'const u=new URL(process.argv[1]);console.log(u.hostname)' "$pg_url")
port=${README_PORT:-$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}
db="archbench_readme_$$"
work=$(mktemp -d)
failures=0
server_pgid=

cleanup() {
  stop_server
  dropdb -h "$pg_host" -U postgres --if-exists "$db" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

pass() { printf 'ok    %s\n' "$1"; }
fail() { printf 'FAIL  %s\n' "$1"; [ -s "$work/out" ] && sed 's/^/      /' "$work/out" | tail -20; failures=$((failures + 1)); }
skip() { printf 'skip  %s  (%s)\n' "$1" "$2"; }

# Runs one shell command line; fails on a non-zero exit. The README's curl calls are made strict
# (-f), so an HTTP error fails the line too.
run() {
  local shown=$1 command=$2
  if timeout 180 bash -c "set -euo pipefail; curl() { command curl --fail-with-body --max-time 30 \"\$@\"; }; $command" >"$work/out" 2>&1; then
    pass "$shown"
  else
    fail "$shown"
  fi
}

# Starts a server command in its own process group and waits for GET /health.
start_server() {
  local command=$1
  PORT=$port DATA_DIR="$work/data" SUPERVISOR_PORT=off setsid bash -c "$command" >"$work/server.log" 2>&1 &
  server_pgid=$!
  for _ in $(seq 1 120); do
    curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && return 0
    kill -0 "$server_pgid" 2>/dev/null || break
    sleep 1
  done
  cp "$work/server.log" "$work/out"
  return 1
}

stop_server() {
  [ -n "$server_pgid" ] || return 0
  kill -TERM -- "-$server_pgid" 2>/dev/null
  for _ in $(seq 1 20); do kill -0 -- "-$server_pgid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL -- "-$server_pgid" 2>/dev/null
  server_pgid=
}

# The README's blocks, one logical command per line (backslash continuations joined, trailing
# comments dropped), each prefixed by its block number. The README's fixed port and database
# name become this run's.
commands=$(awk '
  /^```sh[[:space:]]*$/ { inblock = 1; block++; next }
  /^```/ { inblock = 0; next }
  inblock {
    line = $0
    if (line ~ /\\$/) { sub(/\\$/, "", line); pending = pending line; next }
    line = pending line; pending = ""
    sub(/[[:space:]]+#[^"'\'']*$/, "", line)
    gsub(/[[:space:]]+/, " ", line)
    if (line != "") print block "\t" line
  }' "$readme" | sed -e "s/localhost:3000/127.0.0.1:$port/g; s/127\.0\.0\.1:3000/127.0.0.1:$port/g; s/archbench_monolith/$db/g")

[ -n "$commands" ] || { echo "no \`\`\`sh blocks found in $readme"; exit 1; }

# The "API in one minute" block runs as one script (it shares $TOKEN) against a started monolith,
# and the conformance command from the README text runs against the same server.
api_block=
while IFS=$'\t' read -r block line; do
  case "$line" in
    'TOKEN=$('*|'curl '*) api_block+="$line"$'\n' ;;
  esac
done <<<"$commands"

while IFS=$'\t' read -r block line; do
  case "$line" in
    'npm install -g pnpm@'*)
      skip "$line" 'installing pnpm and dependencies is the CI step before this one; pnpm start is covered by packages/stack tests' ;;
    'pnpm test')
      skip "$line" 'the CI step before this one' ;;
    'pnpm bench')
      skip "$line" 'benchmarks take minutes and need a quiet machine' ;;
    'pnpm compare --target '*)
      skip "$line" 'needs the deployed stack of the line above' ;;
    'docker '*|'kubectl '*)
      skip "$line" 'no Docker or Kubernetes in CI; deploy/ has its own tests' ;;
    'pnpm compare '*|'pnpm decide'|'pnpm decide '*)
      # The real runs are .ci/run's comparison and decision CLI steps; here: the command exists.
      run "$line  [--help]" "$(printf '%s' "$line" | awk '{print $1, $2}') --help" ;;
    'pnpm dev-token '*|'pnpm --silent dev-token '*)
      run "$line" "out=\$($line); printf '%s\n' \"\$out\" | grep -Eq '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\$'" ;;
    'TOKEN=$('*|'curl '*)
      ;; # run below as one block
    'createdb '*)
      run "$line" "$line" ;;
    'DATABASE_URL='*' pnpm start:'*)
      if start_server "$line"; then pass "$line  [started, /health answered]"; else fail "$line"; fi
      stop_server ;;
    *)
      printf 'FAIL  %s\n      no rule for this README command: add one to %s\n' "$line" "$0"
      failures=$((failures + 1)) ;;
  esac
done <<<"$commands"

if [ -n "$api_block" ]; then
  if start_server 'pnpm start:monolith'; then
    run "API in one minute (against pnpm start:monolith on :$port)" "$api_block"
    conformance=$(grep -o '`pnpm conformance [^`]*`' "$readme" | head -1 | tr -d '`' | sed "s/127\.0\.0\.1:3000/127.0.0.1:$port/")
    if [ -n "$conformance" ]; then run "$conformance" "$conformance"; else fail 'README names no `pnpm conformance --base-url …` command'; fi
  else
    fail 'pnpm start:monolith (for the API block)'
  fi
  stop_server
fi

if [ "$failures" -gt 0 ]; then
  echo "$failures README command(s) failed"
  exit 1
fi
echo 'every README command passed or was skipped for a stated reason'

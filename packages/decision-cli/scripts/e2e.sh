#!/bin/sh
# End-to-end check of the decision CLI on a real `pnpm compare` result:
#   1. decide --answers (scripts/e2e-answers.yaml) --comparison RESULTS_DIR/comparison.json
#   2. verify the new ADR against the same comparison        -> must exit 0
#   3. verify it against a copy with p95 x 100 and CPU x 10   -> must exit 1
# The ADR, index and HTML report are copied to RESULTS_DIR/decision-e2e/ for inspection.
# Usage (from the repo root): sh packages/decision-cli/scripts/e2e.sh results
set -eu

RESULTS_DIR=${1:?usage: e2e.sh RESULTS_DIR (the folder holding comparison.json)}
PKG=$(cd "$(dirname "$0")/.." && pwd)
COMPARISON="$(cd "$RESULTS_DIR" && pwd)/comparison.json"
if [ ! -f "$COMPARISON" ]; then
  echo "e2e: $COMPARISON not found; run 'pnpm compare --profile quick' first" >&2
  exit 2
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cli() { (cd "$WORK" && "$PKG/node_modules/.bin/tsx" "$PKG/src/bin.ts" "$@"); }

echo "e2e: decide from $COMPARISON"
cli decide --answers "$PKG/scripts/e2e-answers.yaml" --comparison "$COMPARISON" --dir decisions --html decisions/report.html --date 2025-01-01
ADR=$(cd "$WORK" && ls decisions/0001-*.md)

echo "e2e: verify $ADR against the same comparison (expect exit 0)"
cli verify "$ADR" --comparison "$COMPARISON"

echo "e2e: verify against a degraded copy (expect exit 1)"
node -e '
  const fs = require("fs");
  const c = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  for (const s of c.scenarios) for (const k of Object.keys(s.latencyMs)) s.latencyMs[k] *= 100;
  for (const t of c.topologies) if (t.cpuSecondsPer1kOrders !== null) t.cpuSecondsPer1kOrders *= 10;
  fs.writeFileSync(process.argv[2], JSON.stringify(c));
' "$COMPARISON" "$WORK/degraded.json"
set +e
cli verify "$ADR" --comparison "$WORK/degraded.json"
CODE=$?
set -e
if [ "$CODE" -ne 1 ]; then
  echo "e2e: FAILED: verify on degraded evidence exited $CODE, expected 1" >&2
  exit 1
fi

mkdir -p "$RESULTS_DIR/decision-e2e"
cp "$WORK"/decisions/* "$RESULTS_DIR/decision-e2e/"
echo "e2e: passed; ADR and report in $RESULTS_DIR/decision-e2e/"

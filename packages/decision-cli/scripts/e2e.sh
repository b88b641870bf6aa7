#!/bin/sh
# End-to-end check of the decision CLI on a real `pnpm compare` result (schema version 1, 2 or 3):
#   1. decide --answers (scripts/e2e-answers.yaml) --comparison RESULTS_DIR/comparison.json
#      -> ADR, answers beside it, index and HTML report (with its Confidence section)
#   2. verify the new ADR against the same comparison                  -> must exit 0
#   3. verify against a copy with p95 x 100 and CPU x 10                -> must exit 1
#   4. verify against a copy with p95 x 5 (still within the budget)     -> must exit 1 (measured + tolerance)
#   5. diff the ADR against a 14-team answers file                       -> must exit 0 and name the answers
#   6. --html pointing at a folder                                       -> must exit 2, nothing written
#   7. an ADR decided without evidence                                   -> verify must exit 3
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
fail() {
  echo "e2e: FAILED: $*" >&2
  exit 1
}
expect_exit() {
  want=$1
  shift
  set +e
  cli "$@"
  got=$?
  set -e
  [ "$got" -eq "$want" ] || fail "archbench $* exited $got, expected $want"
}
# Copies the comparison with every latency multiplied by $2 and CPU by $3.
degrade() {
  node -e '
    const fs = require("fs");
    const [, src, dst, lat, cpu] = process.argv;
    const c = JSON.parse(fs.readFileSync(src, "utf8"));
    for (const s of c.scenarios) for (const k of Object.keys(s.latencyMs)) s.latencyMs[k] *= Number(lat);
    for (const t of c.topologies) if (t.cpuSecondsPer1kOrders !== null) t.cpuSecondsPer1kOrders *= Number(cpu);
    fs.writeFileSync(dst, JSON.stringify(c));
  ' "$COMPARISON" "$1" "$2" "$3"
}

echo "e2e: decide from $COMPARISON"
cli decide --answers "$PKG/scripts/e2e-answers.yaml" --comparison "$COMPARISON" --dir decisions --html decisions/report.html --date 2025-01-01
ADR=$(cd "$WORK" && ls decisions/0001-*.md)
[ -f "$WORK/${ADR%.md}.answers.yaml" ] || fail "the answers were not saved beside $ADR"
grep -q '<h2>Confidence</h2>' "$WORK/decisions/report.html" || fail "the report has no Confidence section"

echo "e2e: verify $ADR against the same comparison (expect exit 0)"
cli verify "$ADR" --comparison "$COMPARISON"

echo "e2e: verify against a degraded copy, p95 x 100 and CPU x 10 (expect exit 1)"
degrade "$WORK/degraded.json" 100 10
expect_exit 1 verify "$ADR" --comparison "$WORK/degraded.json"

echo "e2e: verify against a copy 5x slower but still within the budget (expect exit 1)"
degrade "$WORK/slower.json" 5 1
expect_exit 1 verify "$ADR" --comparison "$WORK/slower.json"

echo "e2e: diff the decision against 14 teams releasing independently"
sed -e 's/teams: 1$/teams: 14/' -e 's/engineers: 5$/engineers: 84/' -e 's/independentReleases: none/independentReleases: most/' "$PKG/scripts/e2e-answers.yaml" >"$WORK/fourteen.yaml"
cli diff "$ADR" fourteen.yaml --comparison "$COMPARISON" >"$WORK/diff.txt"
cat "$WORK/diff.txt"
grep -q 'team.teams: 1 → 14' "$WORK/diff.txt" || fail "diff does not name team.teams"

echo "e2e: --html pointing at a folder (expect exit 2, nothing written)"
mkdir "$WORK/a-folder"
BEFORE=$(cd "$WORK" && find . | sort | md5sum)
expect_exit 2 decide --answers "$PKG/scripts/e2e-answers.yaml" --comparison "$COMPARISON" --dir decisions --html a-folder
AFTER=$(cd "$WORK" && find . | sort | md5sum)
[ "$BEFORE" = "$AFTER" ] || fail "a failed decide wrote files"

echo "e2e: an ADR decided without evidence (verify expects exit 3)"
cli decide --answers "$PKG/scripts/e2e-answers.yaml" --dir no-evidence --date 2025-01-01 >/dev/null
expect_exit 3 verify 1 --dir no-evidence --comparison "$COMPARISON"

mkdir -p "$RESULTS_DIR/decision-e2e"
cp "$WORK"/decisions/* "$RESULTS_DIR/decision-e2e/"
echo "e2e: passed; ADR and report in $RESULTS_DIR/decision-e2e/"

/** Help texts: one per command, each with examples. */
const HELP: Record<string, string> = {
  main: `archbench — decide between a modular monolith, microservices, serverless or a hybrid from answers and measured evidence

Usage: archbench <command> [options]
       archbench [decide options]      (no command: decide)

Commands:
  decide             questionnaire (or --answers) → recommendation → ADR (+ optional HTML report)
  score              score answers + evidence; a table, or --json
  verify             re-check an ADR's confirmation criteria against a newer comparison.json
  diff               what changed between two answer sets (answers files or ADRs) and what it moved
  report             write a self-contained HTML report
  answers-template   write a commented YAML answers template
  adr                manage the decision log: new, list, status, supersede, index

Run \`archbench <command> --help\` for options and examples.
Exit codes: 0 ok, 1 verify found a failed criterion, 2 bad input or an output that cannot be written
(one line, nothing written), 3 verify of an ADR decided without evidence (nothing to check), 130 cancelled.`,

  decide: `Usage: archbench decide [--answers FILE] [evidence options] [options]

Asks the questionnaire (or reads --answers), scores the options, and writes an MADR 4.0 record
NNNN-title.md into the decisions folder with the answers beside it (NNNN-title.answers.yaml),
updating its README.md index. Every output path is checked before scoring, and all files are
written at the end, all or nothing: an invalid input or an output that cannot be written exits 2
with one line and nothing written. An existing record is never overwritten. A result that is too
close to call stays proposed, whatever --status says.

Options:
  --answers FILE          answers (YAML or JSON); without it the questionnaire is asked (needs a
                          terminal; --interactive asks through a pipe anyway)
  --save-answers FILE     save the answers there instead of beside the ADR (refuses to overwrite)
  --no-save-answers       do not save the answers beside the ADR
  --dir DIR               decisions folder (default docs/decisions)
  --title TEXT            ADR title (default: "Use <option> for <project name>")
  --status STATUS         proposed (default), accepted, rejected or deprecated
  --decision-makers LIST  comma-separated; also --consulted LIST, --informed LIST
  --supersedes ADR        mark an existing ADR (number or file) superseded by the new one
  --html FILE             also write the HTML report there
  --dry-run               print the ADR instead of writing anything
  --date YYYY-MM-DD       date in the front matter (default today)
@EVIDENCE@

Examples:
  archbench decide
  archbench decide --answers answers.yaml --comparison results/comparison.json --html results/decision.html
  archbench decide --answers answers.yaml --k6 monolith=k6-mono.json --k6 microservices-http=k6-ms.json --dry-run`,

  score: `Usage: archbench score --answers FILE [evidence options] [--json]

Scores every option: a ranking, the breakdown by criterion, and the sensitivity analysis.

Options:
  --answers FILE   answers (YAML or JSON), required
  --json           machine-readable output
@EVIDENCE@

Examples:
  archbench score --answers answers.yaml
  archbench score --answers answers.yaml --comparison results/comparison.json --json`,

  verify: `Usage: archbench verify ADR --comparison FILE [--k6 TOPOLOGY=FILE] [--dir DIR]

Re-checks the thresholds recorded in an ADR's Confirmation block against newer evidence: p95
within the budget and within 50% of the measured p95, errors, CPU and memory within 25%, process
count, and each fault experiment's availability, recovery time, lost/stuck orders, duplicate
charges and stock drift when they were recorded. ADRs of every model version are read.
Exits 0 when every criterion holds, 1 listing each failed criterion, 2 on bad input, 3 when the
ADR was decided without evidence for the chosen option (nothing to verify).
ADR is a path, or a number looked up in --dir (default docs/decisions).

Examples:
  archbench verify docs/decisions/0003-use-a-modular-monolith.md --comparison results/comparison.json
  archbench verify 3 --comparison results/comparison.json`,

  report: `Usage: archbench report --answers FILE [evidence options] --out FILE

Writes one self-contained HTML file (inline CSS and SVG charts, no network needed): the
confidence of the result, latency percentiles, throughput, cost and memory per topology, a chart
per fault experiment, and the score breakdown.

Options:
  --answers FILE   answers (YAML or JSON), required
  --out FILE       where to write the HTML file, required
  --title TEXT     the report's title (default: "Architecture options for the <project name>")
@EVIDENCE@

Examples:
  archbench report --answers answers.yaml --comparison results/comparison.json --out results/report.html`,

  diff: `Usage: archbench diff A B [evidence options] [--model VERSION] [--json]

Scores two answer sets with the same model (default: the current one) and evidence and shows
what changed: the scores of each option, each answer that differs with the points it alone moves
between the two leading options, and the criteria whose points moved. A and B are answers files
(YAML or JSON) or decision ADRs (their answers block, or the answers file saved beside them).

Examples:
  archbench diff answers-2024.yaml answers-2025.yaml
  archbench diff docs/decisions/0002-use-a-modular-monolith.md docs/decisions/0005-use-a-hybrid.md --comparison results/comparison.json`,

  'answers-template': `Usage: archbench answers-template [--out FILE] [--force]

Writes a commented YAML answers template (every question, its help and allowed values, filled
with defaults) to FILE or stdout. Refuses to overwrite FILE unless --force.
The JSON Schema of the file is schema/answers.schema.json in this package.

Examples:
  archbench answers-template --out answers.yaml
  archbench answers-template > answers.yaml`,

  adr: `Usage: archbench adr <new|list|status|supersede|index> [options]

  adr new TITLE [options]        a blank MADR 4.0 record, next number
  adr list [--json]              number, status, date and title
  adr status ADR STATUS          proposed, accepted, rejected, deprecated
  adr supersede OLD NEW          OLD becomes "superseded by ADR-NEW"; both link to each other
                                 (a superseded record keeps that status and supersedes nothing)
  adr index                      rewrite README.md in the folder

Options:
  --dir DIR               decisions folder (default docs/decisions); every subcommand
  --status STATUS         new: proposed (default), accepted, rejected or deprecated
  --decision-makers LIST  new: comma-separated front matter; also --consulted LIST, --informed LIST
  --date YYYY-MM-DD       new, status, supersede: the date written (default today)
  --json                  list: machine-readable output

A subcommand refuses a flag it does not use (exit 2). ADR is a number (3 or 0003) or a file name.

Examples:
  archbench adr new "Use PostgreSQL for orders"
  archbench adr status 2 accepted
  archbench adr supersede 2 5 --dir docs/decisions`,
};

const EVIDENCE = `Evidence options:
  --comparison FILE       comparison.json from \`pnpm compare\` (repeatable)
  --k6 TOPOLOGY=FILE[:SCENARIO]
                          a k6 summary (--summary-export or handleSummary JSON) for a topology
                          (monolith, microservices-http, microservices-amqp, hybrid, serverless);
                          repeatable
  --scenario NAME         only these scenarios count as latency evidence (repeatable; default all
                          but reads, the read-only run at capacity)
  --price ID=VALUE        override one price of the monthly estimate (model v2 on), the same price
                          list and flag as \`pnpm compare\` (USD; repeatable; ids in the ADR)
  --vcpu-hour-eur N       model v1 only: price of a vCPU-hour per 1,000 orders (default 0.0405)
  --gb-hour-eur N         model v1 only: price of a GB-hour of memory (default 0.0045)`;

/** Help text for a command, with the shared evidence options expanded. */
/** Whether `archbench help TOPIC` has a text for the topic. */
export function hasHelp(topic: string): boolean {
  return topic in HELP;
}

export function helpFor(command: string): string {
  return (HELP[command] ?? HELP.main!).replaceAll('@EVIDENCE@', EVIDENCE);
}

import { getAnswer, type Answers } from './answers';
import { convertedNote, latencyVerdict, priceAssumptionLines, priceList, usd, type Evidence } from './evidence';
import { OPTION_IDS, optionTitle, type Model, type OptionId } from './model';
import { answerLabel, QUESTION_GROUPS, QUESTIONS } from './questions';
import type { ScoreResult } from './scoring';
import { describeFlip, type Confidence, type Sensitivity } from './sensitivity';
import { eur } from './markdown';
import { barChart, esc, stackedBars } from './svg';

export interface HtmlReportInput {
  title: string;
  date: string;
  answers: Answers;
  result: ScoreResult;
  sensitivity: Sensitivity;
  /** Shown as the Confidence section when given. */
  confidence?: Confidence;
  evidence: Evidence;
  model: Model;
  generator: string;
}

const n = (v: number | null | undefined, d = 1) =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

// Two measurement charts side by side within the page's 1040 px.
const CHART_WIDTH = 500;

const CSS = `
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1040px;padding:24px;color:#1d2329;background:#fff}
h1{font-size:1.6em;margin:.2em 0}h2{margin-top:2em;border-bottom:1px solid #dde2e7;padding-bottom:.2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}th,td{border:1px solid #dde2e7;padding:4px 8px;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f5f7}
.winner{background:#e7f3ea}.note{color:#5a6570}.badge{display:inline-block;padding:0 6px;border-radius:4px;font-size:.85em;background:#eef1f4}
.measured{background:#e2efff}.prior{background:#fff1df}.unknown{background:#efe8fb}
.charts{display:flex;flex-wrap:wrap;gap:16px}svg{max-width:100%;height:auto;background:#fbfcfd;border:1px solid #e6eaee}
.chart-title{font-weight:600;font-size:14px}.tick{font-size:11px;fill:#4a5560}.grid{stroke:#e3e7eb}.na{font-size:10px;fill:#99a}
.close{background:#fde8e4;border:1px solid #e4a59a;padding:8px 12px;border-radius:6px}.clear{background:#e7f3ea;border:1px solid #9cc9a7;padding:8px 12px;border-radius:6px}
.reference{stroke:#c0392b;stroke-dasharray:6 4;stroke-width:1.5}.reference-label{font-size:11px;fill:#c0392b}
@media (prefers-color-scheme:dark){body{background:#15191d;color:#e3e7eb}th{background:#222a31}th,td{border-color:#33404b}svg{background:#1b2126;border-color:#33404b}.tick{fill:#b9c3cc}.winner{background:#1f3a27}.measured{background:#1d2d44}.prior{background:#3d2f1b}}
`;

/**
 * A self-contained HTML report: inline CSS and SVG only, no scripts, fonts or links to fetch.
 * @example writeFileSync('report.html', renderHtmlReport({ title, date, answers, result, sensitivity, evidence, model, generator }))
 */
export function renderHtmlReport(input: HtmlReportInput): string {
  const { result, model, evidence, answers, sensitivity } = input;
  const title = (id: OptionId) => optionTitle(model, id);
  const scenarioNames = [...new Set(evidence.topologies.flatMap((t) => t.scenarios.map((s) => s.scenario)))];
  const topoNames = evidence.topologies.map((t) => t.topology);
  // With a local run and a deployment merged, the charts show the deployment's figure (the one that counts).
  const counted = <T extends { emulated?: boolean | undefined }>(runs: readonly T[]) => runs.find((x) => !x.emulated) ?? runs[0];
  const scenarioOf = (topology: string, scenario: string) =>
    counted(evidence.topologies.find((t) => t.topology === topology)?.scenarios.filter((s) => s.scenario === scenario) ?? []);
  /** A topology's name, marked when the figure shown was measured on a local emulator. */
  const shown = (topology: string, emulated: boolean | undefined) => (emulated ? `${topology} (local emulator)` : topology);
  const emulatedOnly = (topology: string) => {
    const scenarios = evidence.topologies.find((t) => t.topology === topology)?.scenarios ?? [];
    return scenarios.length > 0 && scenarios.every((s) => s.emulated);
  };

  const charts: string[] = [];
  if (scenarioNames.length) {
    for (const scenario of scenarioNames) {
      charts.push(
        barChart({
          title: `Latency percentiles: ${scenario}`,
          unit: 'ms',
          categories: topoNames.map((t) => shown(t, scenarioOf(t, scenario)?.emulated)),
          series: (['p50Ms', 'p95Ms', 'p99Ms'] as const).map((k) => ({
            name: k.replace('Ms', ''),
            values: topoNames.map((t) => scenarioOf(t, scenario)?.[k] ?? null),
          })),
          reference:
            typeof answers.load.p95BudgetMs === 'number' ? { value: answers.load.p95BudgetMs, label: `p95 budget ${answers.load.p95BudgetMs} ms` } : undefined,
          width: CHART_WIDTH,
        }),
      );
    }
    charts.push(
      barChart({
        title: 'Throughput by scenario',
        unit: 'requests/s',
        categories: scenarioNames,
        series: topoNames.map((t) => ({ name: shown(t, emulatedOnly(t)), values: scenarioNames.map((s) => scenarioOf(t, s)?.throughputRps ?? null) })),
        reference:
          typeof answers.load.expectedRps === 'number' ? { value: answers.load.expectedRps, label: `expected ${answers.load.expectedRps} rps` } : undefined,
        width: CHART_WIDTH,
      }),
    );
    // One cost figure per model: model v1 estimated € per 1,000 orders, later models the monthly
    // cost in USD at the answers' load profile (the cost model of `pnpm compare`).
    if (!model.cost.monthly) {
      charts.push(
        barChart({
          title: 'Estimated cost per 1,000 orders',
          unit: '€',
          categories: topoNames,
          series: [
            {
              name: 'cost per 1,000 orders',
              values: topoNames.map((t) => result.assessments.find((a) => a.topology === t)?.cost?.totalEurPer1kOrders ?? null),
            },
          ],
          width: CHART_WIDTH,
        }),
      );
    } else if (result.assessments.some((a) => a.monthly)) {
      charts.push(
        barChart({
          title: 'Estimated monthly cost at your load profile',
          unit: '$ / month',
          categories: topoNames,
          series: [{ name: 'monthly cost', values: topoNames.map((t) => result.assessments.find((a) => a.topology === t)?.monthly?.monthlyUsd ?? null) }],
          width: CHART_WIDTH,
        }),
      );
    }
    charts.push(
      barChart({
        title: 'Peak memory (all processes)',
        unit: 'MiB',
        categories: topoNames,
        series: [
          {
            name: 'peak RSS',
            values: topoNames.map((t) => {
              const b = evidence.topologies.find((x) => x.topology === t)?.peakRssBytes;
              return b ? b / 2 ** 20 : null;
            }),
          },
        ],
        width: CHART_WIDTH,
      }),
    );
  }

  // One chart per fault experiment: what stayed available, and how fast each topology was whole again.
  const faultNames = [...new Set(evidence.topologies.flatMap((t) => (t.faults ?? []).map((f) => f.fault)))];
  const faultOf = (topology: string, fault: string) =>
    counted(evidence.topologies.find((t) => t.topology === topology)?.faults?.filter((f) => f.fault === fault) ?? []);
  const faultTopos = (fault: string) => topoNames.filter((t) => faultOf(t, fault));
  const faultCharts = faultNames.map((fault) =>
    barChart({
      title: `Fault: ${fault} — availability during the fault`,
      unit: '%',
      categories: faultTopos(fault).map((t) => shown(t, faultOf(t, fault)?.emulated)),
      series: [
        {
          name: 'browse available',
          values: faultTopos(fault).map((t) =>
            (faultOf(t, fault)?.browseAvailability ?? null) === null ? null : faultOf(t, fault)!.browseAvailability! * 100,
          ),
        },
        {
          name: 'checkout succeeded',
          values: faultTopos(fault).map((t) => ((faultOf(t, fault)?.checkoutSuccess ?? null) === null ? null : faultOf(t, fault)!.checkoutSuccess! * 100)),
        },
      ],
      width: CHART_WIDTH,
    }),
  );
  const faultRows = faultNames
    .flatMap((fault) =>
      faultTopos(fault).map((t) => {
        const f = faultOf(t, fault)!;
        return `<tr><td>${esc(fault)}</td><td><code>${esc(t)}</code>${f.emulated ? ' (local emulator)' : ''}</td><td class="num">${n(f.browseAvailability === null ? null : f.browseAvailability * 100)}%</td><td class="num">${n(f.checkoutSuccess === null ? null : f.checkoutSuccess * 100)}%</td><td class="num">${f.ordersLost ?? '—'}</td><td class="num">${f.ordersStuck ?? '—'}</td><td class="num">${f.duplicateCharges ?? '—'}</td><td class="num">${f.stockDrift ?? '—'}</td><td class="num">${f.recoverySeconds === null ? 'never' : n(f.recoverySeconds)}</td><td class="num">${n(f.p95DuringFaultMs)}</td></tr>`;
      }),
    )
    .join('');
  const emulatorFaults =
    model.evidence.notFromEmulator?.length && evidence.topologies.some((t) => t.faults?.some((f) => f.emulated))
      ? ` Runs on a local emulator count for consistency only: model v${model.version} scores their topology's failure isolation and recovery from the prior.`
      : '';
  const faultSection = faultNames.length
    ? `<h2>Faults</h2>
<p class="note">Fault experiments from the comparison: the share of browsing (what did not fail) and of checkouts that succeeded during each fault, and what was left broken afterwards. Failure isolation and recovery are scored from these.${emulatorFaults}</p>
<div class="charts">${faultCharts.join('\n')}</div>
<table><thead><tr><th>Fault</th><th>Topology</th><th>Browse available</th><th>Checkout succeeded</th><th>Orders lost</th><th>Orders stuck</th><th>Duplicate charges</th><th>Stock drift</th><th>Recovery (s)</th><th>p95 during fault (ms)</th></tr></thead><tbody>${faultRows}</tbody></table>`
    : '';

  const conf = input.confidence;
  const confidenceSection = conf
    ? `<h2>Confidence</h2>
<div class="${conf.level === 'too-close' ? 'close' : 'clear'}"><strong>${conf.level === 'too-close' ? 'Too close to call' : 'Clear recommendation'}</strong>: ${esc(title(result.recommendation))} leads ${esc(title(result.runnerUp))} by ${n(conf.margin)} points (threshold ${n(conf.threshold)}).
${conf.reasons.length ? `<ul>${conf.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : ''}</div>
${conf.deciding.length ? `<p>Answers that would decide it:</p><ul>${conf.deciding.map((d) => `<li><code>${esc(d)}</code></li>`).join('')}</ul>` : ''}
${conf.drivers.length ? `<p>Where ${esc(title(result.recommendation))} gains most over ${esc(title(result.runnerUp))}:</p><table><thead><tr><th>Criterion</th><th>Answer</th><th>Points ahead</th></tr></thead><tbody>${conf.drivers.map((d) => `<tr><td>${esc(d.criterion)}</td><td>${d.answerPath ? `<code>${esc(d.answerPath)}</code>: ${esc(answerLabel(d.answerPath, d.answer))}` : 'measured'}</td><td class="num">${n(d.points)}</td></tr>`).join('')}</tbody></table>` : ''}
${conf.unknowns.length ? `<p class="note">Answered unknown (scored from the prior; confirm before accepting): ${conf.unknowns.map((u) => `<code>${esc(u)}</code>`).join(', ')}.</p>` : ''}`
    : '';

  const groups = [...new Set(result.criteria.map((c) => c.group))];
  const scoreChart = stackedBars({
    title: 'Score by criterion group (points of 100)',
    max: 100,
    rows: result.ranking.map((o) => ({
      label: o.title,
      segments: groups.map((g) => ({ name: g, value: result.criteria.filter((c) => c.group === g).reduce((s, c) => s + c.fits[o.option].points, 0) })),
    })),
  });

  const ranking = result.ranking
    .map(
      (o, i) =>
        `<tr class="${i === 0 ? 'winner' : ''}"><td>${i + 1}</td><td>${esc(o.title)}</td><td class="num">${n(o.score)}</td><td>${o.measuredAs ? `measured as <code>${esc(o.measuredAs)}</code>${o.latencyFrom ? ` (p95 latency from <code>${esc(o.latencyFrom)}</code>)` : ''}` : 'not measured: answers and model priors only'}</td></tr>`,
    )
    .join('');

  const breakdown = result.criteria
    .map(
      (c) =>
        `<tr><td>${esc(c.title)}</td><td>${esc(c.answerPath ? answerLabel(c.answerPath, c.answerValue) : c.level)}</td><td class="num">${n(c.weight, 2)}</td>${OPTION_IDS.map(
          (id) => {
            const f = c.fits[id];
            return `<td class="num ${f.source === 'answers' ? '' : f.source}" title="${esc(f.note)}">${f.fit}/5 · ${n(f.points)}</td>`;
          },
        ).join('')}</tr>`,
    )
    .join('');

  const measuredRows = evidence.topologies
    .flatMap((t) =>
      t.scenarios.map(
        (s) =>
          `<tr><td><code>${esc(t.topology)}</code>${s.emulated ? ' (local emulator)' : ''}</td><td>${esc(s.scenario)}</td><td class="num">${n(s.throughputRps)}</td><td class="num">${n(s.p50Ms)}</td><td class="num">${n(s.p95Ms)}</td><td class="num">${n(s.p99Ms)}</td><td class="num">${n(s.errorRate * 100, 2)}%</td></tr>`,
      ),
    )
    .join('');
  const assessRows = result.assessments
    .map((a) => {
      const t = evidence.topologies.find((x) => x.topology === a.topology);
      return `<tr><td><code>${esc(a.topology)}</code></td><td>${esc(latencyVerdict(a.latency))}: ${esc(a.latency.reason)}</td><td class="num">${t?.processCount ?? '—'}</td><td class="num">${n(t?.cpuSecondsPer1kOrders ?? null, 2)}</td><td class="num">${t?.peakRssBytes ? n(t.peakRssBytes / 2 ** 20, 0) : '—'}</td><td class="num">${a.monthly ? `${usd(a.monthly.monthlyUsd)} / month (${a.monthly.billing})` : !model.cost.monthly && a.cost ? eur(a.cost.totalEurPer1kOrders) : `— <span class="note">(${esc(model.cost.monthly ? a.monthlyReason : a.costReason)})</span>`}</td><td>${a.consistency ? esc(`${a.consistency.verdict}: ${a.consistency.detail}`) : '—'}</td></tr>`;
    })
    .join('');

  const answersRows = QUESTION_GROUPS.flatMap((g) =>
    QUESTIONS.filter((q) => q.group === g).map((q) => {
      const v = getAnswer(answers, q.path);
      return `<tr><td>${esc(g)}</td><td>${esc(q.message)}</td><td>${esc(answerLabel(q.path, v))}</td></tr>`;
    }),
  ).join('');

  const flip = sensitivity.smallestFlip
    ? esc(describeFlip(sensitivity.smallestFlip, title))
    : 'no change of one answer, nor of two answers by one step each, flips it';
  const assumptions = result.assessments
    .flatMap((a) => (a.monthly ? [`${a.topology}: ${a.monthly.assumptions.join(', ')}`] : []))
    .concat(model.cost.monthly ? [] : (result.assessments.find((a) => a.cost)?.cost?.assumptions ?? []));

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(input.title)}</title>
<style>${CSS}</style>
</head>
<body>
<p class="note">archbench decision report · ${esc(input.date)} · model v${model.version}</p>
<h1>${esc(input.title)}</h1>
<p><strong>${conf?.level === 'too-close' ? 'Too close to call' : 'Recommendation'}: ${esc(title(result.recommendation))}</strong>, ${n(result.ranking[0]?.score)}/100, ahead of ${esc(title(result.runnerUp))} by ${n(result.margin)} points.</p>
<p>Sensitivity: ${flip}.</p>
${confidenceSection}
<h2>Scores</h2>
<table><thead><tr><th>#</th><th>Option</th><th>Score</th><th>Evidence</th></tr></thead><tbody>${ranking}</tbody></table>
${scoreChart}
${result.notes.length ? `<ul class="note">${result.notes.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : ''}
<h2>Measured evidence</h2>
${
  evidence.sources.length
    ? `<ul>${evidence.sources.map((s) => `<li>${s.kind === 'comparison' ? 'comparison' : 'k6 summary'} <code>${esc(s.path)}</code>: ${esc(s.description + convertedNote(s))}</li>`).join('')}</ul>
<div class="charts">${charts.join('\n')}</div>
<table><thead><tr><th>Topology</th><th>Scenario</th><th>Throughput (rps)</th><th>p50 (ms)</th><th>p95 (ms)</th><th>p99 (ms)</th><th>Errors</th></tr></thead><tbody>${measuredRows}</tbody></table>
<table><thead><tr><th>Topology</th><th>p95 budget at ${esc(String(answers.load.expectedRps))} rps</th><th>Processes</th><th>CPU s / 1k orders</th><th>Peak MiB</th><th>Cost</th><th>Consistency under faults</th></tr></thead><tbody>${assessRows}</tbody></table>
${assumptions.length ? `<p class="note">Cost assumptions: ${assumptions.map(esc).join('; ')}.</p>` : ''}${
        result.assessments.some((a) => a.monthly)
          ? `<details><summary>Price assumptions (USD, the cost model of <code>pnpm compare</code>; override with <code>--price ID=VALUE</code>)</summary><ul>${priceAssumptionLines(
              priceList(result.prices),
            )
              .map((l) => `<li>${esc(l)}</li>`)
              .join('')}</ul></details>`
          : ''
      }`
    : '<p>No measured evidence was given: every option is scored from the answers alone.</p>'
}
${faultSection}
<h2>Score breakdown</h2>
<p class="note">Fit 0–5 · points of 100. <span class="badge measured">measured</span> from the evidence, <span class="badge prior">prior</span> the model's assumption for an option not measured, or whose figures do not count (say, a local emulator's), <span class="badge unknown">unknown</span> the prior for an answer given as unknown; hover a cell for the reason.</p>
<table><thead><tr><th>Criterion</th><th>Answer</th><th>Weight</th>${OPTION_IDS.map((id) => `<th>${esc(title(id))}</th>`).join('')}</tr></thead><tbody>${breakdown}</tbody></table>
<h2>Answers</h2>
<table><thead><tr><th>Group</th><th>Question</th><th>Answer</th></tr></thead><tbody>${answersRows}</tbody></table>
<p class="note">Generated by ${esc(input.generator)}.</p>
</body>
</html>
`;
}

import { pairedThroughputRatio, ranOnLocalEmulator, type Comparison, type ScenarioResult, type TopologyResult } from '@archbench/contracts/comparison';
import { formatMiB, formatMs, formatNumber } from '../ui/format';
import { NumCell, ScrollTable, num } from '../ui/Table';
import { BarChart } from './BarChart';
import { formatRatio, ratio } from './ratios';
import { CostSection, FaultsSection, RestSection } from './ResilienceAndCost';

function ms(value: number) {
  return formatMs(value, 1);
}

const SCENARIO_COLUMNS = ['Topology', num('Throughput'), num('p50'), num('p95'), num('p99'), num('Errors'), num('Dropped'), 'Thresholds'];
const COST_COLUMNS = [
  'Topology',
  num('Processes'),
  num('CPU s / 1,000 orders'),
  num('Peak memory'),
  num('Idle memory'),
  num('Internal hops / request'),
  num('Orders placed'),
  'Consistency',
];

/** A figure's ratio to the baseline's, under the figure ("baseline" in the baseline's own row). */
function RatioNote({
  isBaseline,
  value,
  base,
  baseName,
  testId,
  computed,
}: {
  isBaseline: boolean;
  value: number | null;
  base: number | null | undefined;
  baseName: string;
  testId?: string;
  /** The ratio when it is not value / base (throughput: the median of the per-round ratios). */
  computed?: number | null;
}) {
  return (
    <span className="ratio block" data-testid={testId}>
      {isBaseline ? 'baseline' : formatRatio(computed !== undefined ? computed : ratio(value, base), baseName)}
    </span>
  );
}

/** Whether other work competed with the run: a 1-minute load average above the cores at its start (as summary.md warns). */
function busyMachine(comparison: Comparison): boolean {
  const load = comparison.machine.loadAverage;
  return load !== undefined && load[0]! > comparison.machine.cores;
}

/**
 * The error rate above which summary.md's headline calls a closed-model result not comparable
 * (either side's): the same rule as `renderSummary` in load/src/compare/summary-md.ts, which keeps
 * it inline (no shared function in @archbench/contracts to import).
 */
const NOT_COMPARABLE_ERROR_RATE = 0.01;

/** A throughput figure as the headline gives it, and whether parseComparison converted it (marked `*`). */
interface HeadlineFigure {
  text: string;
  converted: boolean;
}

type Headline =
  | { scenario: string; topology: string; comparable: false; text: string }
  | { scenario: string; topology: string; comparable: true; ratio: number | null; totals: { topology: HeadlineFigure; monolith: HeadlineFigure } };

/**
 * summary.md's "Headline": for each closed-model result of a topology other than the monolith,
 * the throughput it sustained against the monolith's (paired by round), or "not comparable" when
 * either side failed more than 1 % of its requests. None without a monolith, as in summary.md.
 * A converted total (parseComparison of a version 1 or 2 file) is marked as the table marks it.
 * @example headlines(comparison) // [{ scenario: 'checkout', topology: 'hybrid', comparable: false, text: 'checkout: not comparable, …' }]
 */
export function headlines(comparison: Comparison): Headline[] {
  const pct = (rate: number) => `${formatNumber(rate * 100, 2)} %`;
  const converted = convertedThroughput(comparison);
  const figure = (r: ScenarioResult): HeadlineFigure => ({ text: formatNumber(r.throughputRps), converted: converted.has(`${r.scenario}/${r.topology}`) });
  return comparison.scenarios.flatMap((s): Headline[] => {
    if (s.loadModel !== 'closed' || s.topology === 'monolith') return [];
    const base = comparison.scenarios.find((x) => x.scenario === s.scenario && x.topology === 'monolith');
    if (!base) return [];
    if (s.errorRate > NOT_COMPARABLE_ERROR_RATE || base.errorRate > NOT_COMPARABLE_ERROR_RATE) {
      return [
        {
          scenario: s.scenario,
          topology: s.topology,
          comparable: false,
          text: `${s.scenario}: not comparable, too many failed requests (${s.topology} ${pct(s.errorRate)}, monolith ${pct(base.errorRate)}); see the server logs.`,
        },
      ];
    }
    return [
      {
        scenario: s.scenario,
        topology: s.topology,
        comparable: true,
        ratio: pairedThroughputRatio(s, base),
        totals: { topology: figure(s), monolith: figure(base) },
      },
    ];
  });
}

/**
 * The `*` after a throughput parseComparison converted, read out as converted (see ConvertedNote).
 * `see` says where the footnote is, e.g. "below the table".
 */
function ConvertedMark({ testId, see }: { testId: string; see: string }) {
  return (
    <sup className="footnote-mark" data-testid={testId}>
      <span aria-hidden="true">*</span>
      <span className="visually-hidden"> converted to successful requests/s, see the note {see}</span>
    </sup>
  );
}

/** A comparable headline: the paired ratio and both totals, each converted total marked `*`. */
function HeadlineText({ line }: { line: Extract<Headline, { comparable: true }> }) {
  const total = (f: HeadlineFigure, topology: string) => (
    <>
      {f.text}
      {f.converted && <ConvertedMark testId={`headline-converted-${line.scenario}-${topology}`} see="below the headline" />}
    </>
  );
  return (
    <>
      {line.scenario}: {line.topology} sustains {line.ratio === null ? '–' : `${line.ratio.toFixed(2)}×`} the monolith's maximum throughput (median of per-round
      paired ratios; totals {total(line.totals.topology, line.topology)} vs {total(line.totals.monolith, 'monolith')} req/s).
    </>
  );
}

/** The headline verdicts, first thing after the run's facts; a result that is not comparable is marked as a warning. */
function HeadlineSection({ comparison }: { comparison: Comparison }) {
  const lines = headlines(comparison);
  if (lines.length === 0) return null;
  const incomparable = lines.filter((l) => !l.comparable).length;
  // The converted totals the comparable lines give (`scenario topology`), each named once.
  const convertedLines = [
    ...new Set(
      lines.flatMap((l) =>
        l.comparable
          ? [...(l.totals.topology.converted ? [`${l.scenario} ${l.topology}`] : []), ...(l.totals.monolith.converted ? [`${l.scenario} monolith`] : [])]
          : [],
      ),
    ),
  ];
  return (
    <section className="card" aria-labelledby="headline-h" data-testid="headline">
      <h3 id="headline-h">Headline</h3>
      {incomparable > 0 && (
        <p className="skipped" data-testid="not-comparable-note">
          <strong>Not comparable:</strong> {incomparable} of {lines.length} result{lines.length === 1 ? '' : 's'} failed more than 1 % of their requests (or the
          monolith's did), so their throughput says nothing about the architecture. Their figures below are shown as measured.
        </p>
      )}
      <ul className="headline">
        {lines.map((l) => (
          <li key={`${l.scenario}-${l.topology}`} className={l.comparable ? undefined : 'fail'} data-testid={`headline-${l.scenario}-${l.topology}`}>
            {l.comparable ? <HeadlineText line={l} /> : <strong>{l.text}</strong>}
          </li>
        ))}
      </ul>
      {convertedLines.length > 0 && (
        <p className="muted small" data-testid="headline-converted-note">
          <span aria-hidden="true">* </span>Converted: the throughput this version {comparison.convertedFrom?.schemaVersion} file gives for{' '}
          {convertedLines.join(', ')} counted failed requests too; shown as successful requests/s, throughput × (1 − error rate).
        </p>
      )}
    </section>
  );
}

/**
 * Said when parseComparison read a file written before the current schema version: which version,
 * that its figures are shown with the current meanings, and what the conversion changed or could
 * not (its warnings, e.g. rejected orders that may count as placed).
 */
function ConvertedNote({ comparison }: { comparison: Comparison }) {
  const from = comparison.convertedFrom;
  if (!from) return null;
  return (
    <div className="skipped" role="note" data-testid="converted-note">
      <p>
        <strong>Older file:</strong> written with schema version {from.schemaVersion}, shown with version {comparison.schemaVersion}'s meanings (throughput
        counts successful requests only).
      </p>
      {from.warnings.length > 0 && (
        <ul>
          {from.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The results (`scenario/topology`) whose throughput parseComparison converted to successful requests/s. */
function convertedThroughput(comparison: Comparison): ReadonlySet<string> {
  return new Set(comparison.convertedFrom?.throughputConverted ?? []);
}

/** The baseline of every ratio: the monolith when the run has one, else the first topology. */
function baselineOf(comparison: Comparison): TopologyResult {
  return comparison.topologies.find((t) => t.name === 'monolith') ?? comparison.topologies[0]!;
}

function ScenarioSection({
  name,
  results,
  baseline,
  series,
  converted,
  convertedFrom,
}: {
  name: string;
  results: ScenarioResult[];
  baseline: string;
  series: string[];
  /** `scenario/topology` of the results whose throughput was converted (see ConvertedNote). */
  converted: ReadonlySet<string>;
  /** The schema version the file was written with, when it was converted. */
  convertedFrom?: number;
}) {
  const base = results.find((r) => r.topology === baseline);
  const dropping = results.filter((r) => r.dropped > 0);
  const isConverted = (r: ScenarioResult) => converted.has(`${r.scenario}/${r.topology}`);
  const convertedResults = results.filter(isConverted);
  return (
    <section className="card scenario" aria-labelledby={`scenario-${name}`} data-scenario={name}>
      <h3 id={`scenario-${name}`}>
        Scenario <code>{name}</code>
      </h3>
      {results[0]?.loadModel && (
        <p className="muted small">
          {results[0].loadModel === 'open'
            ? 'Open model (fixed arrival rate): throughput is the offered rate, so compare latency and errors.'
            : 'Closed model (fixed virtual users): throughput is the most each topology sustained.'}
        </p>
      )}
      {dropping.length > 0 && (
        <p className="skipped" data-testid={`dropped-note-${name}`}>
          <strong>Requests dropped:</strong> {dropping.map((r) => `${r.topology} ${formatNumber(r.dropped, 0)}`).join(', ')}. The load generator was due to send
          them but every virtual user was still waiting on an earlier request, so they were never sent: that topology did not keep up with the offered rate, and
          its latency and errors leave those requests out.
        </p>
      )}
      <ScrollTable label={`Figures of scenario ${name}`} columns={SCENARIO_COLUMNS}>
        {results.map((r) => (
          <tr key={r.topology} data-topology={r.topology}>
            <th scope="row">{r.topology}</th>
            <td className="num">
              {formatNumber(r.throughputRps)} req/s
              {isConverted(r) && <ConvertedMark testId={`throughput-converted-${name}-${r.topology}`} see="below the table" />}
              {/* Paired by round, as summary.md and the decision CLI read it (pairedThroughputRatio). */}
              <RatioNote
                isBaseline={r.topology === baseline}
                value={r.throughputRps}
                base={base?.throughputRps}
                baseName={baseline}
                computed={base ? pairedThroughputRatio(r, base) : null}
                testId={`throughput-ratio-${name}-${r.topology}`}
              />
            </td>
            <td className="num">{ms(r.latencyMs.p50)}</td>
            <td className="num">
              {ms(r.latencyMs.p95)}
              <RatioNote
                isBaseline={r.topology === baseline}
                value={r.latencyMs.p95}
                base={base?.latencyMs.p95}
                baseName={baseline}
                testId={`p95-ratio-${name}-${r.topology}`}
              />
            </td>
            <td className="num">{ms(r.latencyMs.p99)}</td>
            <td className="num">{formatNumber(r.errorRate * 100, 2)} %</td>
            <NumCell bad={r.dropped > 0} testId={`dropped-${name}-${r.topology}`}>
              {formatNumber(r.dropped, 0)}
            </NumCell>
            <td>
              {r.thresholds.length === 0
                ? '–'
                : r.thresholds.map((t) => (
                    <span key={`${t.metric}-${t.expression}`} className={t.passed ? 'pass block' : 'fail block'}>
                      {t.passed ? '✓' : '✗'} {t.metric} {t.expression}
                    </span>
                  ))}
            </td>
          </tr>
        ))}
      </ScrollTable>
      {convertedResults.length > 0 && (
        <p className="muted small" data-testid={`throughput-converted-note-${name}`}>
          <span aria-hidden="true">* </span>Converted: the throughput this version {convertedFrom} file gives for{' '}
          {convertedResults.map((r) => r.topology).join(', ')} counted failed requests too; shown as successful requests/s, throughput × (1 − error rate), in
          this table and the throughput chart.
          {convertedResults.some((r) => r.roundThroughputRps) &&
            " Each round's throughput, which the ratios pair, is scaled by the same share: the file does not give a round's own failures, so those ratios are estimates."}
        </p>
      )}
      <div className="charts">
        <BarChart
          title={`Latency of ${name}`}
          note="lower is better"
          series={series}
          format={ms}
          groups={(['p50', 'p95', 'p99'] as const).map((p) => ({ label: p, bars: results.map((r) => ({ series: r.topology, value: r.latencyMs[p] })) }))}
        />
        <BarChart
          title={`Throughput of ${name}`}
          note="higher is better"
          series={series}
          format={(v) => `${formatNumber(v)} req/s`}
          mark="converted to successful requests/s"
          groups={[{ label: 'req/s', bars: results.map((r) => ({ series: r.topology, value: r.throughputRps, marked: isConverted(r) })) }]}
        />
      </div>
    </section>
  );
}

/** Everything in a comparison.json: run facts, server-side cost per topology, client figures per scenario. */
export function ComparisonView({ comparison }: { comparison: Comparison }) {
  const base = baselineOf(comparison);
  const series = comparison.topologies.map((t) => t.name);
  const scenarios = [...new Set(comparison.scenarios.map((s) => s.scenario))];
  const seconds = (Date.parse(comparison.finishedAt) - Date.parse(comparison.startedAt)) / 1000;
  const converted = convertedThroughput(comparison);

  return (
    <div className="comparison" data-testid="comparison">
      <section className="card" aria-labelledby="run-h">
        <h3 id="run-h">The run</h3>
        <dl className="facts">
          <div>
            <dt>Profile</dt>
            <dd>{comparison.profile}</dd>
          </div>
          <div>
            <dt>Engine</dt>
            <dd>{comparison.engine}</dd>
          </div>
          <div>
            <dt>Started</dt>
            <dd>
              <time dateTime={comparison.startedAt}>{new Date(comparison.startedAt).toLocaleString()}</time> ({formatNumber(seconds, 0)} s)
            </dd>
          </div>
          <div>
            <dt>Machine</dt>
            <dd>
              {comparison.machine.cores} cores, {formatMiB(comparison.machine.memoryBytes)}, Node {comparison.machine.node}, {comparison.machine.platform}/
              {comparison.machine.arch}
              {comparison.machine.cpuModel ? `, ${comparison.machine.cpuModel}` : ''}
            </dd>
          </div>
          {comparison.machine.loadAverage && (
            <div>
              <dt>Load average at the start</dt>
              <dd>{comparison.machine.loadAverage.map((v) => formatNumber(v, 2)).join(' / ')} (1, 5, 15 minutes)</dd>
            </div>
          )}
          <div>
            <dt>Ratios against</dt>
            <dd>{base.name}</dd>
          </div>
          {comparison.rounds !== undefined && (
            <div>
              <dt>Interleaved rounds</dt>
              <dd>{comparison.rounds}</dd>
            </div>
          )}
        </dl>
        <ConvertedNote comparison={comparison} />
        {busyMachine(comparison) && (
          <p className="skipped" data-testid="busy-machine-note">
            <strong>Busy machine:</strong> load average {comparison.machine.loadAverage!.map((v) => formatNumber(v, 2)).join(' / ')} on{' '}
            {comparison.machine.cores} cores when the run started. Other work competed with the servers and the load generator; ratios from this run are noisier
            than usual.
          </p>
        )}
        {comparison.skippedTopologies && comparison.skippedTopologies.length > 0 && (
          <div className="skipped">
            <p>
              <strong>Not measured in this run:</strong>
            </p>
            <ul>
              {comparison.skippedTopologies.map((t) => (
                <li key={t.name}>
                  <code>{t.name}</code>: {t.reason}
                </li>
              ))}
            </ul>
          </div>
        )}
        {comparison.topologies.some(ranOnLocalEmulator) && (
          <div className="skipped" data-testid="emulator-note">
            <p>
              <strong>serverless ran on a local emulator:</strong> one workerd process running the workers, D1 and the queues, on the cores that also generated
              the load. Cloudflare scales out per request and runs D1 and Queues as remote services, so serverless's latency under load and its fault figures
              below are the emulator's; its CPU, hops, queue messages and rows per order are the app's own. Measure a deployment with{' '}
              <code>pnpm compare --target serverless=URL</code>.
            </p>
          </div>
        )}
      </section>

      <HeadlineSection comparison={comparison} />

      <section className="card" aria-labelledby="cost-h">
        <h3 id="cost-h">Server-side cost per topology</h3>
        <ScrollTable label="Server-side cost per topology" columns={COST_COLUMNS}>
          {comparison.topologies.map((t) => (
            <tr key={t.name} data-topology={t.name}>
              <th scope="row">{t.name}</th>
              <td className="num">{t.processCount ?? 'not measured'}</td>
              <td className="num">
                {t.cpuSecondsPer1kOrders === null ? 'n/a' : formatNumber(t.cpuSecondsPer1kOrders, 2)}
                <RatioNote
                  isBaseline={t === base}
                  value={t.cpuSecondsPer1kOrders}
                  base={base.cpuSecondsPer1kOrders}
                  baseName={base.name}
                  testId={`cpu-ratio-${t.name}`}
                />
              </td>
              <td className="num">
                {t.peakRssBytes === null ? 'not measured' : formatMiB(t.peakRssBytes)}
                <RatioNote isBaseline={t === base} value={t.peakRssBytes} base={base.peakRssBytes} baseName={base.name} testId={`memory-ratio-${t.name}`} />
              </td>
              <td className="num">{t.idleRssBytes === undefined || t.idleRssBytes === null ? 'n/a' : formatMiB(t.idleRssBytes)}</td>
              <td className="num">{t.hopsPerRequest === null ? 'n/a' : formatNumber(t.hopsPerRequest, 2)}</td>
              <td className="num">{formatNumber(t.ordersPlaced, 0)}</td>
              <td>
                {t.consistency
                  ? `${t.consistency.compensations ?? 'n/a'} compensations, ${t.consistency.stuckOrders ?? 'n/a'} stuck, ${t.consistency.duplicateCharges ?? 'n/a'} duplicate charges`
                  : 'not measured'}
              </td>
            </tr>
          ))}
        </ScrollTable>
        <div className="charts">
          <BarChart
            title="CPU seconds per 1,000 orders"
            note="lower is better"
            series={series}
            format={(v) => `${formatNumber(v, 2)} s`}
            groups={[{ label: 'CPU', bars: comparison.topologies.map((t) => ({ series: t.name, value: t.cpuSecondsPer1kOrders })) }]}
          />
          <BarChart
            title="Memory, summed over processes"
            note="lower is better"
            series={series}
            format={(v) => formatMiB(v)}
            groups={[
              { label: 'peak', bars: comparison.topologies.map((t) => ({ series: t.name, value: t.peakRssBytes })) },
              { label: 'idle', bars: comparison.topologies.map((t) => ({ series: t.name, value: t.idleRssBytes ?? null })) },
            ]}
          />
        </div>
      </section>

      <FaultsSection comparison={comparison} series={series} />
      <CostSection comparison={comparison} />
      <RestSection comparison={comparison} />

      <h3 className="section-title">Scenarios</h3>
      {scenarios.map((name) => (
        <ScenarioSection
          key={name}
          name={name}
          results={comparison.scenarios.filter((s) => s.scenario === name)}
          baseline={base.name}
          series={series}
          converted={converted}
          convertedFrom={comparison.convertedFrom?.schemaVersion}
        />
      ))}
    </div>
  );
}

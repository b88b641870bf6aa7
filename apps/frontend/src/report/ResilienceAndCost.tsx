import type { Comparison, FaultResult } from '@archbench/contracts/comparison';
import { formatMiB, formatMs as ms, formatNumber } from '../ui/format';
import { NumCell, ScrollTable, num } from '../ui/Table';
import { BarChart } from './BarChart';

const FAULT_TITLES: Record<string, string> = {
  'dependency-crash': 'Dependency crash (payments process killed)',
  'provider-outage': 'Payment provider outage',
  'broker-loss': 'Broker connections lost',
};

function percent(value: number) {
  return `${formatNumber(value * 100, 1)} %`;
}

function usd(value: number | null) {
  if (value === null) return 'not estimated';
  return new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: value >= 100 ? 0 : 2 }).format(value);
}

const FAULT_COLUMNS = [
  'Topology',
  num('Browse available'),
  num('Checkout succeeded'),
  num('Dropped'),
  num('Orders lost'),
  num('Orders stuck'),
  num('Duplicate charges'),
  num('Stock drift'),
  num('Recovery'),
  num('p95 during fault'),
  'Injection',
];
const COST_COLUMNS = ['Topology', 'Paid', num('Per month'), num('With no traffic'), 'How'];
const PRICE_COLUMNS = ['Price', num('Value'), 'Source', 'Price list date'];
const REST_COLUMNS = [
  'Topology',
  num('Idle CPU'),
  num('Idle memory'),
  'Compute paid at rest',
  num('Start to first answer (p50 / max)'),
  num('First request'),
  num('After idle'),
  num('Warm'),
];

function FaultTable({ fault, results, series }: { fault: string; results: FaultResult[]; series: string[] }) {
  const title = FAULT_TITLES[fault] ?? fault;
  return (
    <section className="fault" aria-labelledby={`fault-${fault}`} data-fault={fault}>
      <h4 id={`fault-${fault}`}>{title}</h4>
      <ScrollTable label={`Figures of the ${title.toLowerCase()} experiment`} columns={FAULT_COLUMNS}>
        {results.map((f) => {
          const harm = f.ordersLost + f.ordersStuck + f.duplicateCharges + f.stockDrift;
          return (
            <tr key={f.topology} data-topology={f.topology}>
              <th scope="row">{f.topology}</th>
              <td className="num">{percent(f.browseAvailability)}</td>
              <td className="num">{percent(f.checkoutSuccess)}</td>
              {/* Absent in files written before it was counted. */}
              <NumCell bad={(f.droppedDuringFault ?? 0) > 0} testId={`dropped-during-${fault}-${f.topology}`}>
                {f.droppedDuringFault ?? '–'}
              </NumCell>
              <NumCell bad={f.ordersLost > 0} testId={`lost-${fault}-${f.topology}`}>
                {f.ordersLost}
              </NumCell>
              <NumCell bad={f.ordersStuck > 0}>{f.ordersStuck}</NumCell>
              <NumCell bad={f.duplicateCharges > 0}>{f.duplicateCharges}</NumCell>
              <NumCell bad={f.stockDrift > 0}>{f.stockDrift}</NumCell>
              <td className="num">
                {f.recovered === false ? `not within ${formatNumber(f.recoverySeconds, 0)} s` : `${formatNumber(f.recoverySeconds, 1)} s`}
              </td>
              <td className="num">{ms(f.p95DuringFaultMs)}</td>
              <td>
                {f.injection ? (
                  <span className={f.injection.verified ? 'pass' : 'fail'} title={f.injection.method}>
                    {f.injection.verified ? '✓ happened' : '✗ not verified'}: {f.injection.detail}
                  </span>
                ) : (
                  '–'
                )}
                {harm === 0 ? null : <span className="fail block">consistency harmed</span>}
              </td>
            </tr>
          );
        })}
      </ScrollTable>
      <BarChart
        title={`${title}: what kept working`}
        note="higher is better"
        series={series}
        format={percent}
        groups={[
          { label: 'browse', bars: results.map((f) => ({ series: f.topology, value: f.browseAvailability })) },
          { label: 'checkout', bars: results.map((f) => ({ series: f.topology, value: f.checkoutSuccess })) },
        ]}
      />
    </section>
  );
}

/** Fault experiments: one table and chart per fault, and what was not run. */
export function FaultsSection({ comparison, series }: { comparison: Comparison; series: string[] }) {
  if (comparison.faults.length === 0 && !comparison.skippedFaults?.length) return null;
  const faults = [...new Set(comparison.faults.map((f) => f.fault))];
  return (
    <section className="card" aria-labelledby="faults-h" data-testid="faults">
      <h3 id="faults-h">Under faults</h3>
      <p className="muted small">
        Each topology under a steady mixed load while one part fails. Availability and p95 are over the fault window; lost and stuck orders, duplicate charges
        and stock drift are read from the real state after the deadline. Dropped: iterations due in the fault window that were never sent because every virtual
        user was still waiting (a system that hangs rather than refuses); they count as failed in the availability and success shares.
      </p>
      {faults.map((fault) => (
        <FaultTable key={fault} fault={fault} results={comparison.faults.filter((f) => f.fault === fault)} series={series} />
      ))}
      {comparison.skippedFaults && comparison.skippedFaults.length > 0 && (
        <div className="skipped">
          <p>
            <strong>Not run:</strong>
          </p>
          <ul>
            {comparison.skippedFaults.map((s) => (
              <li key={`${s.topology}-${s.fault}`}>
                <code>{s.topology}</code> / {s.fault}: {s.reason}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

/** Monthly cost at each load profile, with every price assumption, its source and date. */
export function CostSection({ comparison }: { comparison: Comparison }) {
  const cost = comparison.cost;
  if (!cost) return null;
  return (
    <section className="card" aria-labelledby="monthly-h" data-testid="monthly-cost">
      <h3 id="monthly-h">Monthly cost at your load</h3>
      <p className="muted small">
        Provisioned topologies are sized for the peak (CPU at {formatNumber(cost.targetUtilization * 100, 0)} % utilisation, memory = peak RSS ×{' '}
        {formatNumber(1 + cost.headroom, 2)}) and pay for it all month; serverless pays per request and CPU time. Every price is an assumption listed below.
      </p>
      {cost.profiles.map((profile) => (
        <div key={profile.name} data-profile={profile.name}>
          <h4>
            {profile.name}
            {profile.description ? `: ${profile.description}` : ''}
          </h4>
          <p className="muted small">
            busy {formatNumber(profile.busyRps, 1)} req/s for {formatNumber(profile.hoursPerDay, 2)} h a day, peak {formatNumber(profile.peakRps, 0)} req/s,{' '}
            {percent(profile.orderShare)} orders
          </p>
          <ScrollTable label={`Monthly cost at ${profile.name}`} columns={COST_COLUMNS}>
            {cost.estimates
              .filter((e) => e.profile === profile.name)
              .map((e) => (
                <tr key={e.topology} data-topology={e.topology}>
                  <th scope="row">{e.topology}</th>
                  <td>{e.model === 'provisioned' ? 'provisioned for the peak' : 'per request'}</td>
                  <NumCell testId={`monthly-${profile.name}-${e.topology}`}>{usd(e.monthlyUsd)}</NumCell>
                  <td className="num">{usd(e.idleMonthlyUsd)}</td>
                  <td className="small">{e.notes.join('; ')}</td>
                </tr>
              ))}
          </ScrollTable>
        </div>
      ))}
      <details>
        <summary>Price assumptions ({cost.prices.length})</summary>
        <ScrollTable label="Price assumptions" columns={PRICE_COLUMNS}>
          {cost.prices.map((p) => (
            <tr key={p.id}>
              <th scope="row">
                <code>{p.id}</code> {p.description}
                {p.overriddenBy ? <span className="block muted">set by {p.overriddenBy}</span> : null}
              </th>
              <td className="num">
                {p.value} {p.unit}
              </td>
              <td className="small">{p.source}</td>
              <td>{p.date}</td>
            </tr>
          ))}
        </ScrollTable>
      </details>
    </section>
  );
}

/** Idle CPU and memory, and cold start (first request after start and after an idle period). */
export function RestSection({ comparison }: { comparison: Comparison }) {
  const rows = comparison.topologies.filter((t) => t.idle || t.coldStart);
  if (rows.length === 0) return null;
  return (
    <section className="card" aria-labelledby="rest-h" data-testid="rest">
      <h3 id="rest-h">At rest and cold start</h3>
      <ScrollTable label="Idle cost and cold start per topology" columns={REST_COLUMNS}>
        {rows.map((t) => (
          <tr key={t.name} data-topology={t.name}>
            <th scope="row">{t.name}</th>
            <td className="num">{t.idle ? `${formatNumber(t.idle.cpuCores * 100, 1)} % of a core` : 'not measured'}</td>
            <td className="num">{t.idle ? formatMiB(t.idle.rssBytes) : 'not measured'}</td>
            <td>{t.idle ? (t.idle.billedAtRest ? 'yes' : 'no: scales to zero') : '–'}</td>
            <NumCell testId={`cold-start-${t.name}`}>
              {t.coldStart
                ? `${ms(t.coldStart.startToFirstResponse.p50Ms)} / ${ms(t.coldStart.startToFirstResponse.maxMs)} (${t.coldStart.startToFirstResponse.samples} starts)`
                : 'not measured'}
            </NumCell>
            <td className="num">{t.coldStart ? ms(t.coldStart.firstRequest.p50Ms) : '–'}</td>
            <td className="num">{t.coldStart ? `${ms(t.coldStart.afterIdle.p50Ms)} after ${formatNumber(t.coldStart.afterIdle.idleSeconds, 0)} s` : '–'}</td>
            <td className="num">{t.coldStart ? ms(t.coldStart.warmMs) : '–'}</td>
          </tr>
        ))}
      </ScrollTable>
    </section>
  );
}

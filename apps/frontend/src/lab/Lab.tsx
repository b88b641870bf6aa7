import { memo, useDeferredValue, useEffect, useId, useMemo, useRef, useState, useSyncExternalStore, useTransition } from 'react';
import type { ReactNode } from 'react';
import { TableHead, num } from '../ui/Table';
import { formatEuros, formatNumber } from '../ui/format';
import { filterOrders, generateOrders } from './generate';
import type { LabOrder } from './generate';
import { InputDelayMeter, LAB_MODES } from './input-delay';
import type { LabMode, LabStats } from './input-delay';

const LAB_ORDER_COUNT = 20_000;
function tuning(name: string, fallback: number): number {
  const value = Number(new URLSearchParams(globalThis.location?.search ?? '').get(name));
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

/** Rows rendered for the current filter (`?rows=` overrides, to tune the lab to a machine). */
const LAB_ROWS = tuning('rows', 100);
/** Iterations of the per-row scoring loop, the deliberate cost of one row (`?work=` overrides). */
const ROW_WORK = tuning('work', 35_000);

const MODE_TEXT: Record<LabMode, { label: string; why: string }> = {
  urgent: {
    label: 'Urgent (plain state)',
    why: 'Typing sets the filter in an urgent update: React renders every row before the browser may paint the keystroke, so the letter appears only after the whole list is done.',
  },
  transition: {
    label: 'useTransition',
    why: 'The input value is urgent, the filter is set inside startTransition: React renders the list in 5 ms slices, yields to the browser between them and throws stale work away when the next key arrives, so the letter paints at once and the list catches up.',
  },
  deferred: {
    label: 'useDeferredValue',
    why: 'The list renders from a deferred copy of the text: React first paints with the old value, then renders the new list in the background (interruptibly, like a transition), showing the old list dimmed meanwhile.',
  },
};

/** A deliberately non-trivial computation per row: a risk score from iterated hashing. */
function riskScore(order: LabOrder): number {
  let h = order.seed ^ 0x811c9dc5;
  for (let i = 0; i < ROW_WORK; i++) {
    h = Math.imul(h ^ (i + order.items), 16777619);
    h ^= h >>> 13;
  }
  return (h >>> 0) % 100;
}

function HeavyRow({ order }: { order: LabOrder }) {
  const score = riskScore(order);
  return (
    <tr>
      <td>
        <code>{order.id}</code>
      </td>
      <td>{order.customer}</td>
      <td>{order.city}</td>
      <td>{order.status}</td>
      <td className="num">{formatEuros(order.totalCents)}</td>
      <td className="num">{score}</td>
    </tr>
  );
}

const RESULT_COLUMNS = ['Order', 'Customer', 'City', 'Status', num('Total'), num('Risk')];
const STATS_COLUMNS = ['Mode', num('Keystrokes'), num('p50'), num('p95'), num('max'), num('via Event Timing')];

// Memoised on (orders, query) only: the pending flag is shown by a wrapper, because a prop
// change here would re-render every heavy row in the urgent pass and undo the transition.
const Results = memo(function Results({ orders, query }: { orders: LabOrder[]; query: string }) {
  const matches = filterOrders(orders, query);
  return (
    <div data-testid="lab-results" data-query={query}>
      <p className="muted">
        {formatNumber(matches.length, 0)} of {formatNumber(orders.length, 0)} orders match “{query}”; showing {Math.min(LAB_ROWS, matches.length)}.
      </p>
      <table className="lab-table">
        <TableHead columns={RESULT_COLUMNS} />
        <tbody>
          {matches.slice(0, LAB_ROWS).map((order) => (
            <HeavyRow key={order.id} order={order} />
          ))}
        </tbody>
      </table>
    </div>
  );
});

function ResultsFrame({ stale, children }: { stale: boolean; children: ReactNode }) {
  return (
    <div className={stale ? 'lab-results stale' : 'lab-results'} aria-busy={stale}>
      {children}
    </div>
  );
}

interface FilterProps {
  orders: LabOrder[];
  meter: InputDelayMeter;
  inputId: string;
}

function FilterInput({
  id,
  value,
  onChange,
  meter,
  pending,
}: {
  id: string;
  value: string;
  onChange: (v: string) => void;
  meter: InputDelayMeter;
  pending: ReactNode;
}) {
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => (ref.current ? meter.attach(ref.current) : undefined), [meter]);
  return (
    <div className="row">
      <label htmlFor={id}>Filter orders</label>
      <input
        ref={ref}
        id={id}
        type="search"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        placeholder="try: alice berlin rejected"
        autoComplete="off"
        spellCheck={false}
        data-testid="lab-filter"
      />
      {pending}
    </div>
  );
}

/**
 * The filter input above its results. `stale` dims the results; with `showPending` a status
 * next to the input says the list is being updated (the urgent mode never is).
 */
function FilteredResults({
  orders,
  meter,
  inputId,
  text,
  onText,
  query,
  stale,
  showPending,
}: FilterProps & { text: string; onText: (v: string) => void; query: string; stale: boolean; showPending: boolean }) {
  return (
    <>
      <FilterInput id={inputId} value={text} onChange={onText} meter={meter} pending={showPending ? <Pending visible={stale} /> : null} />
      <ResultsFrame stale={stale}>
        <Results orders={orders} query={query} />
      </ResultsFrame>
    </>
  );
}

function UrgentFilter(props: FilterProps) {
  const [query, setQuery] = useState('');
  return <FilteredResults {...props} text={query} onText={setQuery} query={query} stale={false} showPending={false} />;
}

function TransitionFilter(props: FilterProps) {
  const [text, setText] = useState('');
  const [query, setQuery] = useState('');
  const [isPending, startTransition] = useTransition();
  const onText = (value: string) => {
    setText(value);
    startTransition(() => setQuery(value));
  };
  return <FilteredResults {...props} text={text} onText={onText} query={query} stale={isPending} showPending />;
}

function DeferredFilter(props: FilterProps) {
  const [text, setText] = useState('');
  const deferred = useDeferredValue(text);
  return <FilteredResults {...props} text={text} onText={setText} query={deferred} stale={deferred !== text} showPending />;
}

// Not a live region: it comes and goes with nearly every keystroke, and a screen reader would say
// "Updating the list" between the letters typed. The results say they are stale with aria-busy.
function Pending({ visible }: { visible: boolean }) {
  return (
    <span className="pending" data-pending={visible}>
      {visible ? (
        <>
          <span className="spinner" aria-hidden="true" /> Updating the list…
        </>
      ) : (
        ''
      )}
    </span>
  );
}

function fmt(ms: number) {
  return Number.isFinite(ms) ? `${formatNumber(ms, 0)} ms` : '–';
}

/** A delay as a data attribute for the e2e driver: one decimal, empty when there is none yet. */
function attr(ms: number) {
  return Number.isFinite(ms) ? ms.toFixed(1) : '';
}

function StatsTable({ meter, mode }: { meter: InputDelayMeter; mode: LabMode }) {
  const stats: LabStats = useSyncExternalStore(meter.subscribe, meter.getSnapshot);
  return (
    <table className="lab-stats" data-testid="lab-stats">
      <caption>Keystroke to next paint, per mode (lower is better)</caption>
      <TableHead columns={STATS_COLUMNS} />
      <tbody>
        {LAB_MODES.map((m) => {
          const s = stats[m];
          return (
            <tr
              key={m}
              aria-current={m === mode ? 'true' : undefined}
              data-mode={m}
              data-count={s.count}
              data-p50={attr(s.p50)}
              data-p95={attr(s.p95)}
              data-max={attr(s.max)}
              data-event-timing={s.fromEventTiming}
              data-delays={s.delays.map((d) => d.toFixed(1)).join(',')}
            >
              <th scope="row">{MODE_TEXT[m].label}</th>
              <td className="num">{s.count}</td>
              <td className="num">{fmt(s.p50)}</td>
              <td className="num">{fmt(s.p95)}</td>
              <td className="num">{fmt(s.max)}</td>
              <td className="num">{s.fromEventTiming}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** The concurrency lab: one heavy filter, three ways to update it, and the measured input delay of each. */
export function Lab() {
  const orders = useMemo(() => generateOrders(LAB_ORDER_COUNT), []);
  const meter = useMemo(() => new InputDelayMeter(), []);
  const [mode, setMode] = useState<LabMode>('urgent');
  const id = useId();
  useEffect(() => meter.setMode(mode), [meter, mode]);

  const Filter = mode === 'urgent' ? UrgentFilter : mode === 'transition' ? TransitionFilter : DeferredFilter;

  return (
    <div className="lab" data-mode={mode}>
      <section className="card" aria-labelledby={`${id}-h`}>
        <h2 id={`${id}-h`}>Concurrency lab: urgent updates vs useTransition vs useDeferredValue</h2>
        <p>
          {formatNumber(orders.length, 0)} generated orders; each visible row computes a risk score on purpose, so rendering the first {LAB_ROWS} matches costs
          tens of milliseconds (hundreds with the CPU throttled). Type in the filter and compare how long each keystroke takes to appear.
        </p>
        <fieldset className="row">
          <legend>Update mode</legend>
          {LAB_MODES.map((m) => (
            <label key={m} className="choice">
              <input type="radio" name={`${id}-mode`} value={m} checked={mode === m} onChange={() => setMode(m)} data-testid={`lab-mode-${m}`} />
              {MODE_TEXT[m].label}
            </label>
          ))}
        </fieldset>
        <p className="why">{MODE_TEXT[mode].why}</p>
        <StatsTable meter={meter} mode={mode} />
        <p className="muted small">
          Measured with{' '}
          {meter.eventTimingSupported
            ? 'the Event Timing API (keystrokes under 16 ms fall back to requestAnimationFrame)'
            : 'requestAnimationFrame (this browser has no Event Timing API)'}
          .{' '}
          <button type="button" className="link-button" onClick={() => meter.reset(mode)}>
            Reset this mode’s figures
          </button>
        </p>
      </section>
      <section className="card" aria-label="Filtered orders">
        <Filter key={mode} orders={orders} meter={meter} inputId={`${id}-filter`} />
      </section>
    </div>
  );
}

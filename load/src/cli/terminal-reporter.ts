import type { Reporter } from '../compare/runner';
import { failureCounts } from '../compare/summary-md';

/**
 * Draws live progress: one rewritten line on a TTY, one line per finished run otherwise (CI logs).
 * Rates are successful requests per second (`ok/s`), as comparison.json counts throughput; failed
 * requests are counted beside them.
 */
export function terminalReporter(stream: NodeJS.WriteStream = process.stderr): Reporter {
  const tty = stream.isTTY === true;
  const started = Date.now();
  let open = false;
  const clock = () => {
    const s = Math.floor((Date.now() - started) / 1000);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  };
  const line = (text: string) => {
    if (open) stream.write('\r\x1b[K');
    open = false;
    stream.write(`${text}\n`);
  };
  return {
    info: (message) => line(`[${clock()}] ${message}`),
    progress: (p) => {
      if (!tty) return;
      stream.write(
        `\r\x1b[K[${clock()}] round ${p.round}/${p.rounds} ${p.scenario} -> ${p.topology}  ${p.elapsedSeconds.toFixed(0)}/${p.durationSeconds.toFixed(0)} s  ${p.counted === false ? 'k6 counts at the end' : `${p.requests} req, ${p.failed} failed  ${p.rps.toFixed(1)} ok/s`}`,
      );
      open = true;
    },
    segmentDone: ({ round, scenario, topology, result }) =>
      line(
        `[${clock()}] round ${round} ${scenario} -> ${topology}: ${((result.requests - result.failed) / result.durationSeconds).toFixed(1)} ok/s, p95 ${result.latencyMs.p95.toFixed(1)} ms, ` +
          `${result.failed} failed${result.failed > 0 ? ` (${failureCounts(result).slice(0, 3).join(', ')})` : ''}${result.dropped ? `, ${result.dropped} dropped` : ''}`,
      ),
  };
}

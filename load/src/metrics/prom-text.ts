/** One sample of the Prometheus text exposition format. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export class PromTextError extends Error {
  override readonly name = 'PromTextError';
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function parseValue(raw: string, line: number): number {
  // Prometheus reads values with Go's ParseFloat, which takes Inf and NaN in any case; prom-client
  // writes an empty event-loop histogram's stddev as "Nan", so a strict match would reject a
  // healthy server's /metrics and leave its CPU and memory "not measured".
  switch (raw.toLowerCase()) {
    case '+inf':
    case 'inf':
      return Number.POSITIVE_INFINITY;
    case '-inf':
      return Number.NEGATIVE_INFINITY;
    case 'nan':
      return Number.NaN;
  }
  const value = Number(raw);
  if (raw.length === 0 || Number.isNaN(value)) throw new PromTextError(`line ${line}: ${JSON.stringify(raw)} is not a number`);
  return value;
}

/**
 * Parses Prometheus text format 0.0.4 (what prom-client serves): comments and HELP/TYPE lines
 * are skipped, label values unescaped, timestamps ignored.
 * @example parsePromText('a_total{x="1"} 3\n') // [{ name: 'a_total', labels: { x: '1' }, value: 3 }]
 */
export function parsePromText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (line.length === 0 || line.startsWith('#')) continue;
    const lineNo = index + 1;
    const nameMatch = NAME.exec(line);
    if (!nameMatch) throw new PromTextError(`line ${lineNo}: no metric name in ${JSON.stringify(line.slice(0, 80))}`);
    const name = nameMatch[0];
    let pos = name.length;
    const labels: Record<string, string> = {};
    if (line[pos] === '{') {
      pos++;
      for (;;) {
        while (line[pos] === ' ' || line[pos] === ',') pos++;
        if (line[pos] === '}') {
          pos++;
          break;
        }
        const labelMatch = NAME.exec(line.slice(pos));
        if (!labelMatch) throw new PromTextError(`line ${lineNo}: bad label in ${JSON.stringify(line.slice(0, 80))}`);
        pos += labelMatch[0].length;
        while (line[pos] === ' ') pos++;
        if (line[pos] !== '=' || line[pos + 1] !== '"') throw new PromTextError(`line ${lineNo}: expected ="value" after label ${labelMatch[0]}`);
        pos += 2;
        let value = '';
        for (;;) {
          const ch = line[pos];
          if (ch === undefined) throw new PromTextError(`line ${lineNo}: unterminated label value`);
          if (ch === '\\') {
            const next = line[pos + 1];
            value += next === 'n' ? '\n' : (next ?? '');
            pos += 2;
          } else if (ch === '"') {
            pos++;
            break;
          } else {
            value += ch;
            pos++;
          }
        }
        labels[labelMatch[0]] = value;
      }
    }
    const rest = line.slice(pos).trim().split(/\s+/);
    samples.push({ name, labels, value: parseValue(rest[0] ?? '', lineNo) });
  }
  return samples;
}

/**
 * Sums the samples of one metric, optionally only those whose labels match.
 * @example sumMetric(samples, 'archbench_internal_calls_total') // 42
 */
export function sumMetric(samples: readonly PromSample[], name: string, labels: Record<string, string> = {}): number | undefined {
  let found = false;
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(labels).some(([k, v]) => s.labels[k] !== v)) continue;
    found = true;
    sum += s.value;
  }
  return found ? sum : undefined;
}

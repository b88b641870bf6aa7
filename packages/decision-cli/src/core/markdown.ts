/** Escapes a value for a Markdown table cell. */
function cell(value: unknown): string {
  return String(value ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, ' ');
}

/**
 * Renders a GitHub-flavoured Markdown table.
 * @example table(['a', 'b'], [[1, 2]], ['left', 'right'])
 */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly unknown[]>, align?: ReadonlyArray<'left' | 'right'>): string {
  const sep = headers.map((_, i) => (align?.[i] === 'right' ? '---:' : '---'));
  return [headers, sep, ...rows].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n');
}

const FORMATS = new Map<number, Intl.NumberFormat>();

/**
 * A number with exactly `digits` decimals and thousands separators (en-US), as
 * `toLocaleString('en-US', …)` writes it; the formatter is made once per digit count (making one
 * per call, as toLocaleString does, was most of the time of scoring an answer variant).
 * @example fixed(4159.66, 1) // '4,159.7'
 */
export function fixed(value: number, digits = 0): string {
  let format = FORMATS.get(digits);
  if (!format) FORMATS.set(digits, (format = new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })));
  return format.format(value);
}

/** Fixed-digit number formatting with thousands separators; `—` for null. */
export function num(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return fixed(value, digits);
}

/**
 * Euros with two significant digits for small amounts (costs per 1,000 orders are often fractions of a cent).
 * @example eur(0.0000451) // '€0.000045'
 */
export function eur(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (value === 0) return '€0';
  if (Math.abs(value) >= 1) return `€${value.toFixed(2)}`;
  return `€${Number(value.toPrecision(2)).toFixed(Math.max(2, 1 - Math.floor(Math.log10(Math.abs(value)))))}`;
}

/**
 * An English list.
 * @example listed(['a', 'b', 'c']) // 'a, b and c'
 */
export function listed(items: readonly string[]): string {
  return items.length > 1 ? `${items.slice(0, -1).join(', ')} and ${items.at(-1)}` : (items[0] ?? '');
}

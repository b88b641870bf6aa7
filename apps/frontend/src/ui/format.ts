/** Formats cents as euros for people, e.g. 1999 -> "€19.99". */
export function formatEuros(cents: number): string {
  return new Intl.NumberFormat('en-IE', { style: 'currency', currency: 'EUR' }).format(cents / 100);
}

/** Formats a number with a fixed number of significant-looking decimals, e.g. 12.345 -> "12.3". */
export function formatNumber(value: number, decimals = 1): string {
  return new Intl.NumberFormat('en-US', { maximumFractionDigits: decimals, minimumFractionDigits: 0 }).format(value);
}

/** Formats bytes as MiB, e.g. 104857600 -> "100 MiB". */
export function formatMiB(bytes: number): string {
  return `${formatNumber(bytes / (1024 * 1024), 0)} MiB`;
}

/** Formats milliseconds, with 2 decimals under 10 ms and `decimals` above, e.g. 3.456 -> "3.46 ms". */
export function formatMs(value: number, decimals = 0): string {
  return `${formatNumber(value, value < 10 ? 2 : decimals)} ms`;
}

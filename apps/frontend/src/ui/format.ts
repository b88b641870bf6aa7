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

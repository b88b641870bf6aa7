import { randomBytes } from 'node:crypto';

let lastMs = 0;
let counter = 0;

/**
 * Time-ordered ids (`ord_` + 12 hex ms + 6 hex counter + 6 hex random): sorting by id sorts by
 * creation time within a process, which keyset pagination relies on.
 * @example newId('ord') // 'ord_0192f3a1b2c3000001a9f0e1'
 */
export function newId(prefix: string): string {
  const now = Date.now();
  if (now === lastMs) counter++;
  else {
    lastMs = now;
    counter = 0;
  }
  return `${prefix}_${now.toString(16).padStart(12, '0')}${(counter & 0xffffff).toString(16).padStart(6, '0')}${randomBytes(3).toString('hex')}`;
}

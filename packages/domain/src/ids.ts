import { randomBytes } from 'node:crypto';

let lastMs = 0;
let counter = 0;

/**
 * Random bytes are drawn from the OS in batches: one `randomBytes` call per id (three per order)
 * cost more than the rest of the id together. Ids need uniqueness, not secrecy, so a pooled batch
 * is as good as a fresh call.
 */
const POOL_BYTES = 3 * 1024;
let pool = Buffer.alloc(0);
let offset = 0;

function randomHex3(): string {
  if (offset + 3 > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + 3);
  offset += 3;
  return hex;
}

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
  return `${prefix}_${now.toString(16).padStart(12, '0')}${(counter & 0xffffff).toString(16).padStart(6, '0')}${randomHex3()}`;
}

import { randomBytes } from 'node:crypto';

let lastMs = 0;
let counter = 0;
/** `lastMs` as 12 hex digits: formatted once per millisecond (a number's `toString(16)` is a runtime call). */
let lastMsHex = '';

/** Two hex digits per byte value: an id's hex parts are looked up, not formatted. */
const HEX: readonly string[] = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

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
  const at = offset;
  offset += 3;
  return HEX[pool[at]!]! + HEX[pool[at + 1]!]! + HEX[pool[at + 2]!]!;
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
    lastMsHex = now.toString(16).padStart(12, '0');
    counter = 0;
  }
  return `${prefix}_${lastMsHex}${HEX[(counter >>> 16) & 0xff]!}${HEX[(counter >>> 8) & 0xff]!}${HEX[counter & 0xff]!}${randomHex3()}`;
}

let isoMs = 0;
let isoText = new Date(0).toISOString();

/**
 * The current time as ISO 8601, formatted once per millisecond: an order stamps it several
 * times and `toISOString` is not free. The one clock of every topology's repositories.
 * @example nowIso() // '2026-11-30T14:31:06.123Z'
 */
export function nowIso(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    isoText = new Date(now).toISOString();
  }
  return isoText;
}

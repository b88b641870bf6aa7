/**
 * A fresh Idempotency-Key: a UUID v4 (lowercase hex and dashes, so printable ASCII without
 * commas, as the API requires). `crypto.randomUUID` exists only on secure origins (https or
 * localhost); on plain http to another address, e.g. the compose port, the key is built from
 * `crypto.getRandomValues`, which every origin has.
 * @example placeOrder(body, { idempotencyKey: newIdempotencyKey() })
 */
export function newIdempotencyKey(): string {
  const cryptoApi = globalThis.crypto as Partial<Crypto> | undefined;
  if (typeof cryptoApi?.randomUUID === 'function') return cryptoApi.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof cryptoApi?.getRandomValues === 'function') cryptoApi.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 9562 variant
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

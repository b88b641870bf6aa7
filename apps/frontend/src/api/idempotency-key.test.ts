import { afterEach, describe, expect, it, vi } from 'vitest';
import { newIdempotencyKey } from './idempotency-key';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newIdempotencyKey', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('is a UUID from crypto.randomUUID where it exists', () => {
    expect(newIdempotencyKey()).toMatch(UUID_V4);
  });

  it('builds a UUID v4 from crypto.getRandomValues on an insecure origin (no crypto.randomUUID)', () => {
    const webCrypto = globalThis.crypto;
    const getRandomValues = vi.fn(<T extends ArrayBufferView>(array: T) => webCrypto.getRandomValues(array));
    vi.stubGlobal('crypto', { getRandomValues });
    const keys = new Set(Array.from({ length: 100 }, () => newIdempotencyKey()));
    expect(getRandomValues).toHaveBeenCalled();
    expect(keys.size).toBe(100);
    for (const key of keys) expect(key).toMatch(UUID_V4);
  });

  it('still makes a key the API takes (printable ASCII, no comma) without any crypto', () => {
    vi.stubGlobal('crypto', undefined);
    const key = newIdempotencyKey();
    expect(key).toMatch(UUID_V4);
    expect(key).toMatch(/^[\x21-\x7e]{1,200}$/);
    expect(key).not.toContain(',');
  });
});

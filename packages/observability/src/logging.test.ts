import { describe, expect, it } from 'vitest';
import { createLogger } from './logging';
import { captureLogs } from './test-support';

describe('createLogger redaction', () => {
  it('redacts secret keys at any depth, in arrays and in any case, without touching the logged object', () => {
    const logs = captureLogs();
    const logger = createLogger({ service: 't', destination: logs.destination });
    const payload = {
      Authorization: 'Bearer abc.def.ghi',
      batch: [{ payment: { token: 'tok_secret_1' } }, { note: 'fine' }],
      deep: { a: { b: { c: { paymentToken: 'tok_secret_2', cookie: 'sid=xyz' } } } },
      when: new Date(0),
    };
    logger.info(payload, 'payload');
    const raw = logs.raw();
    for (const secret of ['abc.def.ghi', 'tok_secret_1', 'tok_secret_2', 'sid=xyz']) expect(raw).not.toContain(secret);
    const line = logs.lines()[0]!;
    expect(line).toMatchObject({
      Authorization: '[redacted]',
      batch: [{ payment: { token: '[redacted]' } }, { note: 'fine' }],
      deep: { a: { b: { c: { paymentToken: '[redacted]', cookie: '[redacted]' } } } },
      when: '1970-01-01T00:00:00.000Z',
    });
    // The caller's object still holds its values.
    expect(payload.batch[0]!.payment!.token).toBe('tok_secret_1');
    expect(payload.Authorization).toBe('Bearer abc.def.ghi');
  });

  it('leaves lines without secrets as they are', () => {
    const logs = captureLogs();
    createLogger({ service: 't', destination: logs.destination }).warn({ orderId: 'ord_1', items: [{ sku: 'SKU-0001' }] }, 'plain');
    expect(logs.lines()[0]).toMatchObject({ service: 't', orderId: 'ord_1', items: [{ sku: 'SKU-0001' }], msg: 'plain', level: 40 });
  });
});

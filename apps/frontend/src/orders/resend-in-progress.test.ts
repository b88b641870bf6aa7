import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, readProblem } from '../api/problem';
import { IN_PROGRESS_RESENDS, inProgressWaitMs, resendWhileInProgress } from './resend-in-progress';

const inProgress = (retryAfterSeconds?: number) =>
  new ApiError({
    title: 'Request in progress',
    detail: 'a request with this key is in progress',
    status: 409,
    code: 'idempotency-in-progress',
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
  });

describe('resendWhileInProgress', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits Retry-After when given (bounded), else backs off from 1 s to at most 5 s', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => inProgressWaitMs(n))).toEqual([1000, 2000, 4000, 5000, 5000, 5000]);
    expect(inProgressWaitMs(1, 2)).toBe(2000);
    expect(inProgressWaitMs(1, 0)).toBe(250);
    expect(inProgressWaitMs(3, 3600)).toBe(5000);
  });

  it('resends after each wait until the answer is not 409 idempotency-in-progress', async () => {
    vi.useFakeTimers();
    const send = vi.fn<() => Promise<string>>().mockRejectedValueOnce(inProgress()).mockRejectedValueOnce(inProgress(3)).mockResolvedValueOnce('order');
    const waits: number[] = [];
    const result = resendWhileInProgress(send, { onInProgress: (_, ms) => waits.push(ms) });
    await vi.advanceTimersByTimeAsync(999);
    expect(send).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(send).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(3000);
    await expect(result).resolves.toBe('order');
    expect(send).toHaveBeenCalledTimes(3);
    expect(waits).toEqual([1000, 3000]);
  });

  it('gives up after a bounded number of resends with the last 409, and throws any other error at once', async () => {
    vi.useFakeTimers();
    const send = vi.fn<() => Promise<string>>().mockRejectedValue(inProgress(0));
    const result = resendWhileInProgress(send);
    const settled = expect(result).rejects.toMatchObject({ problem: { code: 'idempotency-in-progress' } });
    await vi.advanceTimersByTimeAsync(60_000);
    await settled;
    expect(send).toHaveBeenCalledTimes(1 + IN_PROGRESS_RESENDS);

    const refused = new ApiError({ title: 'Insufficient stock', detail: '', status: 409, code: 'insufficient-stock' });
    const once = vi.fn<() => Promise<string>>().mockRejectedValue(refused);
    await expect(resendWhileInProgress(once)).rejects.toBe(refused);
    expect(once).toHaveBeenCalledTimes(1);
  });

  it('gives a resend nothing to abort it with, and returns its answer however late it comes', async () => {
    // The order may be placed by then: only the answer tells the console, which then settles the cart.
    let answer!: (order: string) => void;
    const send = vi
      .fn<(...args: unknown[]) => Promise<string>>()
      .mockRejectedValueOnce(inProgress(0))
      .mockImplementationOnce(() => new Promise((resolve) => (answer = resolve)));
    const result = resendWhileInProgress(send);
    await vi.waitFor(() => expect(send).toHaveBeenCalledTimes(2));
    await new Promise((resolve) => setTimeout(resolve, 300));
    answer('order');
    await expect(result).resolves.toBe('order');
    expect(send.mock.calls).toEqual([[], []]);
  });
});

describe('Retry-After on a problem', () => {
  it('reads delta-seconds and an HTTP date, and ignores what it cannot read', async () => {
    const answer = (value: string) =>
      readProblem(
        new Response(JSON.stringify({ title: 'x', status: 409, code: 'idempotency-in-progress' }), { status: 409, headers: { 'retry-after': value } }),
      );
    expect((await answer('3')).retryAfterSeconds).toBe(3);
    const inTen = (await answer(new Date(Date.now() + 10_000).toUTCString())).retryAfterSeconds!;
    expect(inTen).toBeGreaterThan(8);
    expect(inTen).toBeLessThanOrEqual(10);
    expect((await answer('soon')).retryAfterSeconds).toBeUndefined();
  });
});

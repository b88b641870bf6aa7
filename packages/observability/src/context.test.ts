import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, createContextKey } from '@opentelemetry/api';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { activeContext, ensureContextManager, withContext } from './context';

/**
 * withContext must behave as AsyncLocalStorage#run: the context is active for the call and for
 * everything it continues asynchronously, and the caller's context, and any other store it set,
 * are exactly what they were once the call returns or throws.
 */
const KEY = createContextKey('context.test');
const outer = ROOT_CONTEXT.setValue(KEY, 'outer');
const inner = ROOT_CONTEXT.setValue(KEY, 'inner');
const label = () => activeContext().getValue(KEY);

ensureContextManager();

describe('withContext', () => {
  it('is active for the call and across its awaits, and the caller has its own back at once', async () => {
    const seen: unknown[] = [];
    await withContext(outer, async () => {
      const call = withContext(inner, async () => {
        seen.push(label());
        await sleep(1);
        seen.push(label());
      });
      seen.push(label());
      await call;
      seen.push(label());
    });
    expect(seen).toEqual(['inner', 'outer', 'inner', 'outer']);
    expect(label()).toBeUndefined();
  });

  it('gives the caller its context back when the call throws', () => {
    withContext(outer, () => {
      expect(() =>
        withContext(inner, () => {
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(label()).toBe('outer');
    });
  });

  it('keeps the stores of other AsyncLocalStorages inside the call and leaves them as they were', async () => {
    const other = new AsyncLocalStorage<string>();
    await other.run('mine', async () => {
      const inside = await withContext(inner, async () => {
        await sleep(1);
        return [other.getStore(), label()];
      });
      expect(inside).toEqual(['mine', 'inner']);
      expect(other.getStore()).toBe('mine');
      expect(label()).toBeUndefined();
    });
  });

  it('returns what the call returns', () => {
    expect(withContext(inner, () => 42)).toBe(42);
  });
});

import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CART_KEY } from './cart-store';

// Each test loads the store afresh (vi.resetModules): a store that fell back to memory stays
// there for the page's life, as it does in a browser, so one test's fallback must not leak.

const line = { sku: 'SKU-0001', name: 'Compact Kettle 1', priceCents: 1999, quantity: 1 };

/** sessionStorage whose writes throw as a full one does (QuotaExceededError), reads and removals working. */
function fullStorage(initial: Record<string, string> = {}): Storage {
  const items = new Map(Object.entries(initial));
  return {
    get length() {
      return items.size;
    },
    key: (i) => [...items.keys()][i] ?? null,
    getItem: (k) => items.get(k) ?? null,
    setItem: () => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    },
    removeItem: (k) => void items.delete(k),
    clear: () => items.clear(),
  };
}

/** sessionStorage that throws on every access, as in a browser with site data turned off. */
function refusingStorage(): Storage {
  const refuse = () => {
    throw new DOMException('Access is denied for this document.', 'SecurityError');
  };
  return { length: 0, key: refuse, getItem: refuse, setItem: refuse, removeItem: refuse, clear: refuse };
}

const freshStore = () => import('./cart-store');

beforeEach(() => vi.resetModules());
afterEach(() => vi.unstubAllGlobals());

describe('the stored cart where sessionStorage refuses writes', () => {
  it.each([
    ['full (QuotaExceededError)', fullStorage],
    ['turned off (every access throws)', refusingStorage],
  ])('keeps the cart in memory when storage is %s', async (_, make) => {
    vi.stubGlobal('sessionStorage', make());
    const store = await freshStore();
    const cart = store.readCart();
    expect(cart).toBe(store.EMPTY_CART);
    store.updateCart((c) => ({ ...c, lines: [line], payment: 'tok_slow' }));
    expect(store.readCart()).toMatchObject({ lines: [line], payment: 'tok_slow' });
    store.updateCart((c) => ({ ...c, lines: [{ ...line, quantity: 2 }] }));
    expect(store.readCart().lines).toEqual([{ ...line, quantity: 2 }]);
  });

  it('removes the older stored cart, so a reload starts empty instead of bringing back a cart and key that are no longer current', async () => {
    const older = JSON.stringify({ version: 1, lines: [line], payment: 'tok_ok', placement: { request: '{}', key: 'settled-key' } });
    const storage = fullStorage({ [CART_KEY]: older });
    vi.stubGlobal('sessionStorage', storage);
    const store = await freshStore();
    expect(store.readCart().placement?.key).toBe('settled-key');
    store.updateCart((c) => ({ ...c, lines: [], placement: null }));
    expect(store.readCart()).toMatchObject({ lines: [], placement: null });

    // The reload: a new page reads what storage holds.
    vi.resetModules();
    const reloaded = await freshStore();
    expect(storage.getItem(CART_KEY)).toBeNull();
    expect(reloaded.readCart()).toBe(reloaded.EMPTY_CART);
  });

  it('goes back to storage once it takes writes again', async () => {
    let full = true;
    const items = new Map<string, string>();
    vi.stubGlobal('sessionStorage', {
      ...fullStorage(),
      getItem: (k: string) => items.get(k) ?? null,
      setItem: (k: string, v: string) => {
        if (full) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        items.set(k, v);
      },
      removeItem: (k: string) => void items.delete(k),
    });
    const store = await freshStore();
    store.updateCart((c) => ({ ...c, lines: [line] }));
    expect(items.has(CART_KEY)).toBe(false);
    full = false;
    store.updateCart((c) => ({ ...c, payment: 'tok_decline' }));
    expect(JSON.parse(items.get(CART_KEY)!)).toMatchObject({ lines: [line], payment: 'tok_decline' });
  });
});

describe('what the user sees when the cart cannot be stored', () => {
  it('shows a notice in the cart that a reload would lose it, said once by a status region, and none while storage works', async () => {
    vi.stubGlobal('sessionStorage', fullStorage());
    const { updateCart, useCartInMemoryOnly, useStoredCart } = await freshStore();
    const { Cart } = await import('./Cart');
    function StoredCart() {
      const { lines, payment } = useStoredCart();
      return (
        <Cart
          lines={lines}
          payment={payment}
          busy={false}
          signedIn
          problem={null}
          notStored={useCartInMemoryOnly()}
          onQuantity={() => {}}
          onRemove={() => {}}
          onPayment={(token) => updateCart((c) => ({ ...c, payment: token }))}
          onPlace={() => {}}
          onDismissProblem={() => {}}
        />
      );
    }
    render(<StoredCart />);
    expect(screen.queryByTestId('cart-not-stored')).toBeNull();
    // The status region is there before the notice, so a screen reader says the notice when it is added.
    const status = screen.getByRole('status');
    const said: string[] = [];
    const recorder = new MutationObserver((records) => {
      for (const record of records) {
        const added = record.type === 'characterData' ? [record.target] : [...record.addedNodes];
        for (const node of added) if (node.textContent) said.push(node.textContent);
      }
    });
    recorder.observe(status, { subtree: true, childList: true, characterData: true });
    const user = userEvent.setup();
    await user.click(screen.getByRole('radio', { name: /Declined card/ }));
    expect(screen.getByRole('radio', { name: /Declined card/ })).toHaveProperty('checked', true);
    expect(screen.getByTestId('cart-not-stored').textContent).toMatch(
      /^This browser refused to store the cart .* a reload or a new tab starts with an empty one\.$/,
    );
    // Said once when it appears, not again as the cart changes and re-renders.
    await user.click(screen.getByRole('radio', { name: /Slow provider/ }));
    await user.click(screen.getByRole('radio', { name: /Good card/ }));
    recorder.disconnect();
    expect(said).toEqual([screen.getByTestId('cart-not-stored').textContent]);
    expect(status.contains(screen.getByTestId('cart-not-stored'))).toBe(true);
  });
});

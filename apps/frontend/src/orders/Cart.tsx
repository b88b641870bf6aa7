import { useId } from 'react';
import type { FormEvent, Ref } from 'react';
import { LIMITS } from '@archbench/contracts/schemas';
import type { PaymentToken } from '@archbench/contracts/schemas';
import type { ProblemInfo } from '../api/problem';
import { ProblemView } from '../ui/ProblemView';
import { formatEuros } from '../ui/format';

export interface CartLine {
  sku: string;
  name: string;
  priceCents: number;
  quantity: number;
}

const PAYMENT_CHOICES: { token: PaymentToken; label: string; hint: string }[] = [
  { token: 'tok_ok', label: 'Good card', hint: 'tok_ok: the payment succeeds' },
  { token: 'tok_decline', label: 'Declined card', hint: 'tok_decline: the issuer declines it' },
  { token: 'tok_error', label: 'Broken provider', hint: 'tok_error: the provider fails like a 5xx' },
  { token: 'tok_slow', label: 'Slow provider', hint: 'tok_slow: succeeds after a long wait' },
];

export interface CartProps {
  /** Receives the cart heading, so the console can move keyboard focus to the cart. */
  headingRef?: Ref<HTMLHeadingElement>;
  lines: CartLine[];
  payment: PaymentToken;
  busy: boolean;
  /** What the placement under way is waiting for (said by the console's announcer, so not a live region here). */
  status?: string | null;
  /**
   * Why Place order waits although this view sends nothing: an order of this cart is being placed
   * for another backend or customer (Place order stays focusable, `aria-disabled`, and says why).
   */
  waitingFor?: string | null;
  /** What to know before placing (an earlier order of this cart may have gone through elsewhere). */
  note?: string | null;
  signedIn: boolean;
  problem: ProblemInfo | null;
  /** sessionStorage refused the cart: it is kept in memory only, and a reload loses it (said once, by a status region). */
  notStored?: boolean;
  onQuantity: (sku: string, quantity: number) => void;
  onRemove: (sku: string) => void;
  onPayment: (token: PaymentToken) => void;
  onPlace: () => void;
  onDismissProblem: () => void;
}

/** Whether a quantity field holds a number the API takes (an empty field is NaN). */
function validQuantity(quantity: number): boolean {
  return Number.isInteger(quantity) && quantity >= 1 && quantity <= LIMITS.maxQuantity;
}

/**
 * The cart's item count and total; a line whose quantity field is empty or out of range counts
 * for nothing until it is fixed.
 * @example cartTotals([{ sku: 'SKU-0001', name: 'Kettle', priceCents: 1999, quantity: 2 }]) // { items: 2, cents: 3998 }
 */
export function cartTotals(lines: readonly CartLine[]): { items: number; cents: number } {
  const valid = lines.filter((line) => validQuantity(line.quantity));
  return { items: valid.reduce((sum, line) => sum + line.quantity, 0), cents: valid.reduce((sum, line) => sum + line.priceCents * line.quantity, 0) };
}

/** The cart: quantities, a payment token of the simulated provider, and the place-order button. */
export function Cart(props: CartProps) {
  const { lines, payment, busy, signedIn, problem } = props;
  const id = useId();
  const total = cartTotals(lines).cents;
  const incomplete = lines.some((line) => !validQuantity(line.quantity));
  const waiting = busy || Boolean(props.waitingFor);
  const reason = props.waitingFor ?? props.note;

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!waiting) props.onPlace();
  }

  return (
    <section className="card cart" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`} ref={props.headingRef} tabIndex={-1}>
        Cart
      </h2>
      <form onSubmit={submit}>
        {lines.length === 0 ? (
          <p className="muted">The cart is empty: add products from the catalog.</p>
        ) : (
          <ul className="cart-lines">
            {lines.map((line) => (
              <li key={line.sku} data-sku={line.sku}>
                <span>
                  <code>{line.sku}</code> {line.name}
                </span>
                <label htmlFor={`${id}-${line.sku}`} className="visually-hidden">
                  Quantity of {line.sku}
                </label>
                <input
                  id={`${id}-${line.sku}`}
                  type="number"
                  className="qty"
                  min={1}
                  max={LIMITS.maxQuantity}
                  value={Number.isFinite(line.quantity) ? line.quantity : ''}
                  aria-invalid={!validQuantity(line.quantity)}
                  onChange={(e) => props.onQuantity(line.sku, e.target.valueAsNumber)}
                />
                <span className="num">{formatEuros(validQuantity(line.quantity) ? line.priceCents * line.quantity : 0)}</span>
                <button type="button" className="link-button" onClick={() => props.onRemove(line.sku)} aria-label={`Remove ${line.sku} from cart`}>
                  Remove
                </button>
              </li>
            ))}
          </ul>
        )}
        <fieldset className="payment">
          <legend>Payment</legend>
          {PAYMENT_CHOICES.map((choice) => (
            <label key={choice.token} className="choice">
              <input
                type="radio"
                name={`${id}-payment`}
                value={choice.token}
                checked={payment === choice.token}
                onChange={() => props.onPayment(choice.token)}
              />
              {choice.label} <span className="muted">({choice.hint})</span>
            </label>
          ))}
        </fieldset>
        <p>
          Total: <strong>{formatEuros(total)}</strong>
        </p>
        {busy && props.status && (
          <p className="muted" data-testid="placing-status">
            {props.status}
          </p>
        )}
        {problem && <ProblemView problem={problem} onDismiss={props.onDismissProblem} />}
        {/* A polite live region that is always there, so the notice is said once when it appears (a region
            inserted together with its text is often not read) and not again when the cart re-renders. */}
        <div role="status" data-testid="cart-storage-status">
          {props.notStored && (
            <p className="skipped" data-testid="cart-not-stored">
              This browser refused to store the cart (its storage is full or turned off): the cart is kept while this page stays open, but a reload or a new tab
              starts with an empty one.
            </p>
          )}
        </div>
        {reason && (
          <p id={`${id}-reason`} className="muted" data-testid={props.waitingFor ? 'placing-elsewhere' : 'placed-elsewhere'}>
            {reason}
          </p>
        )}
        {/* aria-disabled, not disabled, while placing: a disabled button would drop keyboard focus to <body>. */}
        <button
          type="submit"
          className="primary"
          disabled={lines.length === 0 || incomplete || !signedIn}
          aria-disabled={waiting || undefined}
          aria-describedby={reason ? `${id}-reason` : undefined}
        >
          {busy ? 'Placing order…' : 'Place order'}
        </button>
        {incomplete && <p className="muted">Enter a quantity from 1 to {LIMITS.maxQuantity} for every line.</p>}
        {!signedIn && <p className="muted">Sign in to place orders.</p>}
      </form>
    </section>
  );
}

import { useEffect, useState } from 'react';

/**
 * How long a burst of changes must pause before a live region speaks: a screen reader then says
 * the outcome once (the cart's total after several adds, the match count after a typed word)
 * instead of once per click or keystroke.
 */
export const ANNOUNCE_AFTER_MS = 1000;

/**
 * `value` once it has not changed for `ms`; a live region fed with it speaks once per burst.
 * @example <p aria-live="polite">{useSettled(`${matches.length} products match.`)}</p>
 */
export function useSettled<T>(value: T, ms = ANNOUNCE_AFTER_MS): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

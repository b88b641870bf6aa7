import type { CheckContext } from '../context';

/** A check before it is bound to a base URL. */
export interface CheckDefinition {
  name: string;
  run: (ctx: CheckContext) => Promise<void>;
}

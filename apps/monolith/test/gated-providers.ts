import type { PaymentToken } from '@archbench/contracts/schemas';
import { PaymentProvider } from '@archbench/domain/payment-provider';

/** Charges wait for `open()`; the charge is then answered as the simulated provider would. */
export class GatedProvider extends PaymentProvider {
  #open!: () => void;
  readonly #gate = new Promise<void>((resolve) => (this.#open = resolve));
  override async charge(token: PaymentToken, amountCents: number): ReturnType<PaymentProvider['charge']> {
    await this.#gate;
    return super.charge(token, amountCents);
  }
  open() {
    this.#open();
  }
}

/** Refunds wait for `open()` and are counted: how often the provider was asked to give money back. */
export class GatedRefunds extends PaymentProvider {
  refundCalls = 0;
  #open!: () => void;
  readonly #gate = new Promise<void>((resolve) => (this.#open = resolve));
  override async refund(amountCents: number): ReturnType<PaymentProvider['refund']> {
    this.refundCalls++;
    await this.#gate;
    return super.refund(amountCents);
  }
  open() {
    this.#open();
  }
}

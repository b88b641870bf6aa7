-- Refunds are claimed before the provider is called, as charges are (their unique row): a refund
-- command delivered twice (a queue redelivery, the sweep beside a delivery) must not refund twice.
-- `attempted_at` is when the current attempt claimed the PENDING refund row (NULL: not being
-- attempted); an attempt whose provider call did not succeed gives the claim back, and a claim
-- older than the stale-call rule (an invocation that died mid-call) may be taken again.
ALTER TABLE payments ADD COLUMN attempted_at TEXT;

-- The every-minute sweep resends refunds left PENDING (a provider that failed them, a lost send):
-- this index holds only those rows, so the sweep reads nothing else (D1 bills rows read).
CREATE INDEX payments_pending_refunds ON payments (created_at) WHERE kind = 'refund' AND status = 'PENDING';

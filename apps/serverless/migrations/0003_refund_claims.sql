-- Refunds are claimed before the provider is called, as charges are (their unique row): a refund
-- command delivered twice (a queue redelivery, the sweep beside a delivery) must not refund twice.
-- `claimed_until`: no other attempt may call the provider for this PENDING refund before then (a
-- claim outlives the slowest provider call; an attempt the provider failed gives it back at once).
ALTER TABLE payments ADD COLUMN claimed_until TEXT;

-- The every-minute sweep resends refunds left PENDING (a provider that failed them, a lost send):
-- this index holds only those rows, so the sweep reads nothing else (D1 bills rows read).
CREATE INDEX payments_pending_refunds ON payments (created_at) WHERE kind = 'refund' AND status = 'PENDING';

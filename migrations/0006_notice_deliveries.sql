-- What was really sent, kept apart from the outbox read model: rebuilding the outbox (which builds
-- fresh tables from the log and swaps them in) must never send a notice again, nor issue a new
-- secret for it. The sender records each delivery here in the same transaction as it marks the
-- outbox row; a rebuilt outbox takes `sent_at` from here.
CREATE TABLE notice_deliveries (
    notice_id   uuid PRIMARY KEY,
    sent_at     timestamptz NOT NULL,
    -- True when a rebuild recorded the notice as done without sending it (told so by an operator).
    not_sent    boolean NOT NULL DEFAULT false
);

INSERT INTO notice_deliveries (notice_id, sent_at)
SELECT notice_id, sent_at FROM notices_outbox WHERE sent_at IS NOT NULL;

GRANT SELECT, INSERT ON notice_deliveries TO expedientes_runtime;

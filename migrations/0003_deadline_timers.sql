-- Deadline timers: a read model kept from the events that open, move, suspend or close a deadline,
-- and worked by the scheduler (claimed with FOR UPDATE SKIP LOCKED).

CREATE TABLE deadline_timers (
    timer_id         uuid PRIMARY KEY,            -- uuid v5 of (case, kind): one timer per kind and file
    tenant           text NOT NULL,
    case_id          uuid NOT NULL,
    stream_type      text NOT NULL,
    kind             text NOT NULL,
    fires_at         timestamptz NOT NULL,
    data             jsonb NOT NULL,
    -- pending: will fire; suspended: clock stopped; fired: its command was accepted;
    -- closed: refused because the file moved on, or cancelled; failed: gave up after retries.
    state            text NOT NULL CHECK (state IN ('pending', 'suspended', 'fired', 'closed', 'failed')),
    -- Bumped each time the timer is set again, so each setting fires its own command once.
    generation       integer NOT NULL DEFAULT 1,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    -- A scheduler that claims a timer holds it until then (a short claim, not a long transaction:
    -- a transaction kept open while commands run would hold back every reader's watermark).
    lease_until      timestamptz,
    outcome          text,
    fired_at         timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deadline_timers_due ON deadline_timers (fires_at) WHERE state = 'pending';
CREATE INDEX deadline_timers_case ON deadline_timers (case_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON deadline_timers TO expedientes_runtime;

-- The version of each council's legal calendar its deadlines were last counted with: when an
-- administrator changes the calendar, the scheduler counts the open deadlines again and moves
-- those that fall on another day (each move recorded on its file).
CREATE TABLE calendar_rechecks (
    tenant      text PRIMARY KEY,
    version     integer NOT NULL,
    checked_at  timestamptz NOT NULL
);

GRANT SELECT, INSERT, UPDATE ON calendar_rechecks TO expedientes_runtime;
CREATE INDEX deadline_timers_counted ON deadline_timers (tenant) WHERE state = 'pending' AND data ? 'rule';

-- Events a read model could not apply, set aside so that one bad event never stops a model for
-- every tenant: the model goes on with every other stream; the stream of a set-aside event keeps
-- its later events set aside too (in order), until an operator retries them after a fix
-- (`expedientes projection-failures retry <model>`).
CREATE TABLE projection_failures (
    model           text NOT NULL,
    position        bigint NOT NULL,
    transaction_id  xid8 NOT NULL,
    tenant          text NOT NULL,
    stream_id       uuid NOT NULL,
    error           text NOT NULL,
    failed_at       timestamptz NOT NULL DEFAULT now(),
    -- Set when a retry applied it.
    resolved_at     timestamptz,
    PRIMARY KEY (model, position)
);
CREATE INDEX projection_failures_open ON projection_failures (model, stream_id) WHERE resolved_at IS NULL;

GRANT SELECT, INSERT, UPDATE ON projection_failures TO expedientes_runtime;

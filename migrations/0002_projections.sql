-- Read models built from the log. Each has a checkpoint, committed with its rows.

CREATE TABLE projection_checkpoints (
    name            text PRIMARY KEY,
    transaction_id  xid8 NOT NULL DEFAULT '0',
    position        bigint NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- The generic case view: one row per case file, whatever its procedure.
CREATE TABLE case_view (
    case_id             uuid PRIMARY KEY,
    tenant              text NOT NULL,
    procedure           text NOT NULL,
    procedure_title     text NOT NULL,
    sia_code            text NOT NULL,
    case_number         text NOT NULL,
    subject             text NOT NULL,
    parties             jsonb NOT NULL,
    party_documents     text[] NOT NULL,
    state               text NOT NULL,
    state_description   text NOT NULL,
    opened_at           timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    closed_at           timestamptz,
    citizen_action      text,
    citizen_action_due  date,
    resolution_due      date,
    next_deadline       date,
    citizen_must_act    boolean NOT NULL DEFAULT false,
    version             integer NOT NULL,
    last_position       bigint NOT NULL
);
CREATE INDEX case_view_tenant_queue ON case_view (tenant, procedure, state, next_deadline);
CREATE INDEX case_view_party_documents ON case_view USING gin (party_documents);
CREATE UNIQUE INDEX case_view_case_number ON case_view (tenant, case_number);

-- Case numbers are allocated per tenant and year; gaps are allowed (a refused command burns one).
CREATE TABLE case_number_sequences (
    tenant    text NOT NULL,
    year      integer NOT NULL,
    last      bigint NOT NULL,
    PRIMARY KEY (tenant, year)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON projection_checkpoints, case_view, case_number_sequences
    TO expedientes_runtime;

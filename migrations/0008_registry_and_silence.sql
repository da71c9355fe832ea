-- The shared parts of the common administrative procedure (Ley 39/2015).

-- What the council's silence means on each file, and when it took effect (arts. 24-25).
ALTER TABLE case_view
    ADD COLUMN silence            text,
    ADD COLUMN silence_basis      text,
    ADD COLUMN silence_reached_on date;

-- Registry numbers (art. 16.3): one sequence per council, year and direction. Gaps are allowed
-- (a number allocated for a command that is then refused is not reused).
CREATE TABLE registry_sequences (
    tenant     text NOT NULL,
    year       integer NOT NULL,
    direction  text NOT NULL CHECK (direction IN ('in', 'out')),
    last       bigint NOT NULL,
    PRIMARY KEY (tenant, year, direction)
);

-- The registry book: a read model of the entries the events carry (rebuilt from the log like any
-- other). It answers a file's receipts and the public check of a secure verification code.
CREATE TABLE registry_book (
    number             text PRIMARY KEY,
    tenant             text NOT NULL,
    direction          text NOT NULL,
    kind               text NOT NULL,
    presented_at       timestamptz NOT NULL,
    counts_from        timestamptz NOT NULL,
    verification_code  text NOT NULL UNIQUE,
    stream_type        text NOT NULL,
    stream_id          uuid NOT NULL,
    event_position     bigint NOT NULL,
    event_hash         text NOT NULL
);
CREATE INDEX registry_book_stream ON registry_book (stream_id, presented_at);

GRANT SELECT, INSERT, UPDATE ON registry_sequences TO expedientes_runtime;
GRANT SELECT, INSERT, UPDATE, DELETE ON registry_book TO expedientes_runtime;

-- Representations on record (art. 5): granted apud acta or a power shown to a caseworker; a
-- filing in another's name is checked against them. `procedures` NULL means every procedure.
CREATE TABLE representations (
    representation_id    uuid PRIMARY KEY,
    tenant               text NOT NULL,
    principal            text NOT NULL,
    principal_name       text NOT NULL,
    representative       text NOT NULL,
    representative_name  text NOT NULL,
    procedures           text[],
    means                text NOT NULL,
    valid_from           date NOT NULL,
    valid_until          date NOT NULL,
    granted_at           timestamptz NOT NULL,
    revoked_at           timestamptz
);
CREATE INDEX representations_pair ON representations (tenant, principal, representative);
CREATE INDEX representations_representative ON representations (tenant, representative);

GRANT SELECT, INSERT, UPDATE, DELETE ON representations TO expedientes_runtime;

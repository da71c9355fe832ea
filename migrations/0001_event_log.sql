-- The append-only event log: one table for every stream of every tenant.
-- See docs/ARCHITECTURE.md ("The event log") for why each column and rule exists.

-- The role the service runs as (SET ROLE on every pooled connection): it may only read and append
-- to the log. Created once per cluster.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'expedientes_runtime') THEN
        CREATE ROLE expedientes_runtime NOLOGIN;
    END IF;
END
$$;
GRANT expedientes_runtime TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO expedientes_runtime;

CREATE TABLE events (
    -- Global position: unique and increasing in allocation order (not commit order; see below).
    position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The writing transaction. Readers read below the snapshot's xmin in (transaction_id, position)
    -- order, so an event committed late is never skipped. Set by the trigger.
    transaction_id  xid8 NOT NULL,
    tenant          text NOT NULL CHECK (tenant ~ '^[0-9]{5}$'),
    stream_type     text NOT NULL CHECK (stream_type ~ '^[a-z][a-z0-9_]*$'),
    stream_id       uuid NOT NULL,
    version         integer NOT NULL CHECK (version >= 1),
    event_type      text NOT NULL CHECK (event_type ~ '^[a-z][a-z0-9_]*$'),
    schema_version  integer NOT NULL CHECK (schema_version >= 1),
    payload         jsonb NOT NULL,
    -- actor id and role, on-behalf-of, channel, correlation, causation, command id.
    metadata        jsonb NOT NULL CHECK (jsonb_typeof(metadata) = 'object'),
    -- Idempotency: a command's events carry its id and their index within the command; the unique
    -- index below makes a retried command id collide with its first event, so it appends nothing.
    command_id      uuid,
    command_seq     integer CHECK ((command_id IS NULL) = (command_seq IS NULL) AND command_seq >= 0),
    -- On a command's first event: a digest of the request, to tell a retry from another request
    -- reusing the id.
    request_hash    bytea,
    -- Set by the trigger from the database clock; a client cannot choose it.
    recorded_at     timestamptz NOT NULL,
    -- Hash chain per stream: hash = sha256(previous_hash || content).
    previous_hash   bytea,
    hash            bytea NOT NULL,
    CONSTRAINT events_stream_version UNIQUE (stream_id, version)
);

CREATE INDEX events_reading_order ON events (transaction_id, position);
CREATE INDEX events_tenant_reading_order ON events (tenant, transaction_id, position);
CREATE UNIQUE INDEX events_command ON events (tenant, command_id, command_seq) WHERE command_id IS NOT NULL;

-- The content an event's hash covers, in a fixed textual form. jsonb's text output is canonical
-- (keys ordered, whitespace normalised), so the same stored value always hashes the same.
CREATE FUNCTION event_hash(
    p_previous_hash bytea, p_position bigint, p_transaction_id xid8, p_tenant text,
    p_stream_type text, p_stream_id uuid, p_version integer, p_event_type text,
    p_schema_version integer, p_payload jsonb, p_metadata jsonb, p_command_id uuid,
    p_command_seq integer, p_request_hash bytea, p_recorded_at timestamptz
) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT sha256(
        coalesce(p_previous_hash, '\x'::bytea) ||
        convert_to(concat_ws(E'\x1f',
            p_position::text, p_transaction_id::text, p_tenant, p_stream_type, p_stream_id::text,
            p_version::text, p_event_type, p_schema_version::text, p_payload::text,
            p_metadata::text, coalesce(p_command_id::text, ''), coalesce(p_command_seq::text, ''),
            coalesce(encode(p_request_hash, 'hex'), ''),
            (extract(epoch FROM p_recorded_at) * 1000000)::bigint::text
        ), 'UTF8'))
$$;

-- Sets what the database owns (transaction id, time, chain) and checks the stream's continuity.
-- SQLSTATE EL001: the previous version is missing (a stale or future expected version).
-- SQLSTATE EL002: the stream belongs to another tenant or stream type.
CREATE FUNCTION events_before_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    prev_tenant text;
    prev_type text;
    prev_hash bytea;
BEGIN
    NEW.transaction_id := pg_current_xact_id();
    NEW.recorded_at := now();
    IF NEW.version = 1 THEN
        NEW.previous_hash := NULL;
    ELSE
        SELECT e.tenant, e.stream_type, e.hash INTO prev_tenant, prev_type, prev_hash
        FROM events e WHERE e.stream_id = NEW.stream_id AND e.version = NEW.version - 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'stream % has no version %', NEW.stream_id, NEW.version - 1
                USING ERRCODE = 'EL001';
        END IF;
        IF prev_tenant <> NEW.tenant OR prev_type <> NEW.stream_type THEN
            RAISE EXCEPTION 'stream % belongs to tenant % and stream type %', NEW.stream_id, prev_tenant, prev_type
                USING ERRCODE = 'EL002';
        END IF;
        NEW.previous_hash := prev_hash;
    END IF;
    NEW.hash := event_hash(NEW.previous_hash, NEW.position, NEW.transaction_id, NEW.tenant,
        NEW.stream_type, NEW.stream_id, NEW.version, NEW.event_type, NEW.schema_version,
        NEW.payload, NEW.metadata, NEW.command_id, NEW.command_seq, NEW.request_hash, NEW.recorded_at);
    RETURN NEW;
END
$$;

CREATE TRIGGER events_before_insert BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_before_insert();

-- Append-only, enforced for everyone including the owner. Statement-level, so that even a
-- statement touching no row is refused. SQLSTATE EL000.
CREATE FUNCTION reject_change_to_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'EL000';
END
$$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION reject_change_to_append_only();

-- Seals: a digest over a range of the log in reading order, chained to the previous seal.
-- digest = sha256(previous seal's digest || hash of each event in the range, in order).
CREATE TABLE seals (
    seal_id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The range is (from, to] in (transaction_id, position) order.
    from_transaction_id  xid8 NOT NULL,
    from_position        bigint NOT NULL,
    to_transaction_id    xid8 NOT NULL,
    to_position          bigint NOT NULL,
    event_count          bigint NOT NULL CHECK (event_count > 0),
    min_position         bigint NOT NULL,
    max_position         bigint NOT NULL,
    previous_digest      bytea,
    digest               bytea NOT NULL,
    sealed_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER seals_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON seals
    FOR EACH STATEMENT EXECUTE FUNCTION reject_change_to_append_only();

GRANT SELECT, INSERT ON events, seals TO expedientes_runtime;

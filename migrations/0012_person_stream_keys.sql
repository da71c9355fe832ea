-- The key that person streams' ids are derived with (issue 10): an inscription's or an account's
-- id is a keyed digest (HMAC-SHA-256) of the council and the document number, so it stays one per
-- person (two concurrent inscriptions of one document collide on the stream) without anybody
-- outside the database being able to compute it from a DNI. Generated here, once, from the
-- server's cryptographic generator (gen_random_uuid draws from pg_strong_random: 2 × 122 bits);
-- never rotated, since the ids of existing streams depend on it.
CREATE TABLE person_stream_keys (
    purpose      text PRIMARY KEY CHECK (purpose = 'person_streams'),
    key          bytea NOT NULL CHECK (octet_length(key) = 32),
    -- Whether the log already held person streams under the earlier ids (a UUIDv5 of the
    -- document), for the record: those keep their ids, and `api/src/person_ids.rs` always looks
    -- for a stream under the earlier id first. Back the key up with the log: without it no keyed
    -- stream can be found again.
    legacy_ids   boolean NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

INSERT INTO person_stream_keys (purpose, key, legacy_ids)
SELECT 'person_streams',
       decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'),
       EXISTS (SELECT FROM events WHERE stream_type IN ('padron_inscription', 'user_account'));

GRANT SELECT ON person_stream_keys TO expedientes_runtime;

-- Caseworkers now find an inscription by the person's document (its id cannot be computed).
CREATE INDEX padron_register_document ON padron_register (tenant, document);

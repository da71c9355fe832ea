-- Documents of the files (arts. 26-28 and 70 Ley 39/2015).

-- The bytes, addressed by their SHA-256 digest within a council (the same document added twice
-- is kept once). Storage, not a read model: no rebuild touches it. An object store could take
-- its place behind the same interface.
CREATE TABLE document_contents (
    tenant      text NOT NULL,
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size        bigint NOT NULL CHECK (size > 0),
    content     bytea NOT NULL,
    stored_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant, sha256)
);

-- The electronic index of each file: its documents in the order they joined it (a read model of
-- the document streams).
CREATE TABLE case_documents (
    document_id        uuid PRIMARY KEY,
    tenant             text NOT NULL,
    case_id            uuid NOT NULL,
    case_type          text NOT NULL,
    case_number        text NOT NULL,
    event_position     bigint NOT NULL,
    name               text NOT NULL,
    media_type         text NOT NULL,
    size               bigint NOT NULL,
    sha256             text NOT NULL,
    uploaded_by_role   text NOT NULL,
    uploaded_by        text NOT NULL,
    registry_number    text,
    verification_code  text NOT NULL UNIQUE,
    added_at           timestamptz NOT NULL
);
CREATE INDEX case_documents_case ON case_documents (case_id, event_position);

GRANT SELECT, INSERT ON document_contents TO expedientes_runtime;
GRANT SELECT, INSERT, UPDATE, DELETE ON case_documents TO expedientes_runtime;

-- Alta de usuario: the accounts read model, the secrets (never in the event log), the outbox of
-- notices, and the login throttle.

-- One row per account (read model of the user_account streams).
CREATE TABLE account_view (
    account_id      uuid PRIMARY KEY,
    tenant          text NOT NULL,
    login_number    text NOT NULL,
    name            text NOT NULL,
    legal_person    boolean NOT NULL,
    channel         text NOT NULL,
    stage           text NOT NULL,
    email           text NOT NULL,
    mobile          text NOT NULL,
    registered_at   timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    last_login_at   timestamptz,
    version         integer NOT NULL
);
CREATE UNIQUE INDEX account_view_login ON account_view (tenant, login_number);
CREATE INDEX account_view_queue ON account_view (tenant, stage, registered_at);

-- Hashed secrets: passwords and PINs as Argon2id PHC strings, one-time tokens as SHA-256 (they
-- have 256 bits of entropy). A secret is used at most once (used_at) and may expire.
CREATE TABLE account_secrets (
    secret_id    uuid PRIMARY KEY,
    tenant       text NOT NULL,
    account_id   uuid NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('password', 'activation', 'email_confirmation', 'pin')),
    hash         text NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz,
    used_at      timestamptz,
    attempts     integer NOT NULL DEFAULT 0
);
CREATE INDEX account_secrets_account ON account_secrets (account_id, kind) WHERE used_at IS NULL;
CREATE UNIQUE INDEX account_secrets_token ON account_secrets (hash) WHERE kind IN ('activation', 'email_confirmation');

-- Notices to send (read model of the events' notices), worked by the sender.
CREATE TABLE notices_outbox (
    notice_id    uuid PRIMARY KEY,          -- derived from the event and the notice's index
    tenant       text NOT NULL,
    stream_id    uuid NOT NULL,
    stream_type  text NOT NULL,
    kind         text NOT NULL,
    recipient    text NOT NULL CHECK (recipient IN ('person', 'council')),
    channel      text NOT NULL CHECK (channel IN ('email', 'sms', 'post')),
    created_at   timestamptz NOT NULL,
    sent_at      timestamptz,
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text,
    next_attempt_at timestamptz
);
CREATE INDEX notices_outbox_pending ON notices_outbox (created_at) WHERE sent_at IS NULL;

-- Login throttling, per document number and per client address.
CREATE TABLE login_throttle (
    key           text PRIMARY KEY,
    window_start  timestamptz NOT NULL,
    failures      integer NOT NULL
);

GRANT SELECT, INSERT, UPDATE, DELETE ON account_view, account_secrets, notices_outbox, login_throttle
    TO expedientes_runtime;

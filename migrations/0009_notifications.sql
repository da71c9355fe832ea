-- Notifications (arts. 40-46 Ley 39/2015): one row per notification, a read model of the
-- notification streams (rebuilt from the log like any other). It answers a file's notifications,
-- the person's notifications waiting in Mi Carpeta and the caseworker's letters and edicts to send.
CREATE TABLE notifications (
    notification_id    uuid PRIMARY KEY,
    tenant             text NOT NULL,
    case_id            uuid NOT NULL,
    case_type          text NOT NULL,
    case_number        text NOT NULL,
    act_kind           text NOT NULL,
    act_summary        text NOT NULL,
    act_text           text NOT NULL,
    act_on             date NOT NULL,
    addressee          text,
    addressee_name     text,
    channel            text NOT NULL,
    address            text,
    edict_reason       text,
    exit_number        text NOT NULL,
    verification_code  text NOT NULL,
    stage              text NOT NULL,
    issued_at          timestamptz NOT NULL,
    available_on       date,
    sending_due        date NOT NULL,
    sending_overdue    boolean NOT NULL DEFAULT false,
    dispatched_on      date,
    attempts           jsonb NOT NULL DEFAULT '[]',
    accessed_at        timestamptz,
    accessed_by        text,
    edict_on           date,
    edict_reference    text,
    outcome            text,
    effective_on       date
);
CREATE INDEX notifications_case ON notifications (case_id, issued_at);
CREATE INDEX notifications_addressee ON notifications (tenant, addressee, issued_at);
CREATE INDEX notifications_to_send ON notifications (tenant, stage, issued_at) WHERE outcome IS NULL;

GRANT SELECT, INSERT, UPDATE, DELETE ON notifications TO expedientes_runtime;

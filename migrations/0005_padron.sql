-- The padrón register: who is inscribed where, since when, and when they must renew (read model of
-- the padron_inscription streams).
CREATE TABLE padron_register (
    inscription_id    uuid PRIMARY KEY,
    tenant            text NOT NULL,
    name              text NOT NULL,
    document          text NOT NULL,
    residence         text NOT NULL,
    dwelling_key      text NOT NULL,
    address           text NOT NULL,
    inscribed_on      date NOT NULL,
    last_change_on    date NOT NULL,
    renewal_due       date,
    lapse_proposed    boolean NOT NULL DEFAULT false,
    open_removal_file uuid,
    removed_on        date,
    removal_cause     text,
    version           integer NOT NULL
);
CREATE INDEX padron_register_dwelling ON padron_register (tenant, dwelling_key) WHERE removed_on IS NULL;
CREATE INDEX padron_register_renewals ON padron_register (tenant, renewal_due) WHERE removed_on IS NULL;

GRANT SELECT, INSERT, UPDATE, DELETE ON padron_register TO expedientes_runtime;

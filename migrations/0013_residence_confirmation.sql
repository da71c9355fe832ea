-- The periodic confirmation of residence of EU citizens and non-EU permanent residents (issue
-- 14): the day each must confirm by, and whether it passed unconfirmed (the council then opens a
-- removal file for wrong inscription). Inscriptions recorded before have no day until their next
-- padrón change records one.
ALTER TABLE padron_register
    ADD COLUMN confirmation_due date,
    ADD COLUMN confirmation_overdue boolean NOT NULL DEFAULT false;
CREATE INDEX padron_register_confirmations ON padron_register (tenant, confirmation_due)
    WHERE removed_on IS NULL;

-- Certificates and volantes of the padrón issued (issue 14): read model of the
-- padron_certificate streams, for the public check of their secure verification code and the
-- requester's list. The bytes are in document_contents, by digest.
CREATE TABLE padron_certificates (
    certificate_id    uuid PRIMARY KEY,
    tenant            text NOT NULL,
    inscription_id    uuid NOT NULL,
    kind              text NOT NULL,
    scope             text NOT NULL,
    historical        boolean NOT NULL,
    as_of             date NOT NULL,
    size              bigint NOT NULL,
    sha256            text NOT NULL,
    verification_code text NOT NULL UNIQUE,
    requested_by      text NOT NULL,
    issued_at         timestamptz NOT NULL
);
CREATE INDEX padron_certificates_inscription ON padron_certificates (tenant, inscription_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON padron_certificates TO expedientes_runtime;

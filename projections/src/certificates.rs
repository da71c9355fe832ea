//! The padrón's certificates and volantes issued: one row per document, for the public check of
//! its secure verification code (art. 27.3.a LPAC) and the requester's list.

use async_trait::async_trait;
use esrs::Aggregate;
use expedientes_domain::padron::{CertificateEvent, PadronCertificate};
use expedientes_eventlog::StoredEvent;
use sqlx::PgConnection;

use crate::runner::{decode, ProjectionError, ReadModel, Tables};

/// The certificates read model.
#[derive(Debug, Default)]
pub struct PadronCertificates;

impl PadronCertificates {
    /// The model's name (and its table's).
    pub const NAME: &'static str = "padron_certificates";
}

#[async_trait]
impl ReadModel for PadronCertificates {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn stream_types(&self) -> Vec<String> {
        vec![PadronCertificate::NAME.to_owned()]
    }

    fn tables(&self) -> &'static [&'static str] {
        &["padron_certificates"]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let table = tables.get("padron_certificates");
        for stored in events {
            let CertificateEvent::Issued(issue) = decode(Self::NAME, stored)?;
            sqlx::query(&format!(
                "INSERT INTO {table} (certificate_id, tenant, inscription_id, kind, scope,
                    historical, as_of, size, sha256, verification_code, requested_by, issued_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (certificate_id) DO NOTHING"
            ))
            .bind(stored.stream_id)
            .bind(&stored.tenant)
            .bind(issue.inscription)
            .bind(<&'static str>::from(issue.kind))
            .bind(<&'static str>::from(issue.scope))
            .bind(issue.historical)
            .bind(issue.as_of)
            .bind(issue.size as i64)
            .bind(issue.sha256.as_str())
            .bind(issue.verification_code.as_str())
            .bind(&issue.requested_by)
            .bind(issue.at)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

//! The electronic index of each file (art. 70 LPAC): its documents in the order they joined it,
//! each with its type, size, SHA-256 digest, who brought it, its registry entry and its secure
//! verification code.

use async_trait::async_trait;
use esrs::Aggregate;
use expedientes_domain::lpac::document::{Document, Event};
use expedientes_eventlog::StoredEvent;
use sqlx::PgConnection;

use crate::runner::{decode, ProjectionError, ReadModel, Tables};

/// The documents read model.
#[derive(Debug, Default)]
pub struct CaseDocuments;

impl CaseDocuments {
    /// The model's name (and its table's).
    pub const NAME: &'static str = "case_documents";
}

#[async_trait]
impl ReadModel for CaseDocuments {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn stream_types(&self) -> Vec<String> {
        vec![Document::NAME.to_owned()]
    }

    fn tables(&self) -> &'static [&'static str] {
        &["case_documents"]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let table = tables.get("case_documents");
        for stored in events {
            let event: Event = decode(Self::NAME, stored)?;
            match event {
                Event::Added {
                    case,
                    name,
                    media_type,
                    size,
                    sha256,
                    by,
                    entry,
                    verification_code,
                    at,
                } => {
                    sqlx::query(&format!(
                        "INSERT INTO {table} (document_id, tenant, case_id, case_type, case_number,
                            event_position, name, media_type, size, sha256, uploaded_by_role,
                            uploaded_by, registry_number, verification_code, added_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                         ON CONFLICT (document_id) DO NOTHING"
                    ))
                    .bind(stored.stream_id)
                    .bind(&stored.tenant)
                    .bind(case.stream_id)
                    .bind(&case.stream_type)
                    .bind(case.case_number.as_str())
                    .bind(stored.position)
                    .bind(name.as_str())
                    .bind(media_type.mime())
                    .bind(size as i64)
                    .bind(sha256.as_str())
                    .bind(&by.role)
                    .bind(&by.subject)
                    .bind(entry.map(|e| e.number.as_str().to_owned()))
                    .bind(verification_code.as_str())
                    .bind(at)
                    .execute(&mut *conn)
                    .await?;
                }
            }
        }
        Ok(())
    }
}

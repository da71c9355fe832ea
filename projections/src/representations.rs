//! The representations on record (art. 5 LPAC): one row per representation, with its scope, its
//! validity and its revocation. Filings in another's name are checked against it.

use async_trait::async_trait;
use esrs::Aggregate;
use expedientes_domain::lpac::representation::{Event, Representation, Scope};
use expedientes_eventlog::StoredEvent;
use sqlx::PgConnection;

use crate::runner::{decode, ProjectionError, ReadModel, Tables};

/// The representations read model.
#[derive(Debug, Default)]
pub struct Representations;

impl Representations {
    /// The model's name.
    pub const NAME: &'static str = "representations";
}

#[async_trait]
impl ReadModel for Representations {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn stream_types(&self) -> Vec<String> {
        vec![Representation::NAME.to_owned()]
    }

    fn tables(&self) -> &'static [&'static str] {
        &["representations"]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let table = tables.get("representations");
        for stored in events {
            let event: Event = decode(Self::NAME, stored)?;
            match event {
                Event::Granted {
                    principal,
                    representative,
                    scope,
                    means,
                    from,
                    until,
                    at,
                    ..
                } => {
                    let procedures: Option<Vec<String>> = match scope {
                        Scope::AllProcedures => None,
                        Scope::Procedures(names) => Some(names),
                    };
                    sqlx::query(&format!(
                        "INSERT INTO {table} (representation_id, tenant, principal, principal_name,
                            representative, representative_name, procedures, means, valid_from,
                            valid_until, granted_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                         ON CONFLICT (representation_id) DO NOTHING"
                    ))
                    .bind(stored.stream_id)
                    .bind(&stored.tenant)
                    .bind(principal.document.as_str())
                    .bind(&principal.name)
                    .bind(representative.document.as_str())
                    .bind(&representative.name)
                    .bind(procedures)
                    .bind(<&'static str>::from(means))
                    .bind(from)
                    .bind(until)
                    .bind(at)
                    .execute(&mut *conn)
                    .await?;
                }
                Event::Revoked { at, .. } => {
                    sqlx::query(&format!(
                        "UPDATE {table} SET revoked_at = $2 WHERE representation_id = $1"
                    ))
                    .bind(stored.stream_id)
                    .bind(at)
                    .execute(&mut *conn)
                    .await?;
                }
            }
        }
        Ok(())
    }
}

//! The registry book (art. 16 LPAC): every registry entry that an event carries — an application,
//! a fix, a representation granted online — as one row, with the event it came from and that
//! event's hash. It answers a file's receipts and the public check of a secure verification code.
//! Being a read model, a rebuild gives the same book: the entries live in the events.

use async_trait::async_trait;
use expedientes_eventlog::StoredEvent;
use sqlx::PgConnection;

use crate::registry::Registry;
use crate::runner::{ProjectionError, ReadModel, Tables};

/// The registry book, over every registered procedure.
pub struct RegistryBook {
    registry: Registry,
}

impl std::fmt::Debug for RegistryBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryBook")
            .field("procedures", &self.registry.names())
            .finish()
    }
}

impl RegistryBook {
    /// The name of the model and of its table.
    pub const NAME: &'static str = "registry_book";

    /// The book of the registry's procedures.
    pub fn new(registry: Registry) -> Self {
        Self { registry }
    }
}

#[async_trait]
impl ReadModel for RegistryBook {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn stream_types(&self) -> Vec<String> {
        self.registry.names()
    }

    fn tables(&self) -> &'static [&'static str] {
        &["registry_book"]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let table = tables.get("registry_book");
        for event in events {
            let Some(procedure) = self.registry.get(&event.stream_type) else {
                continue;
            };
            let entries = (procedure.registry_entries)(&event.payload).map_err(|reason| {
                ProjectionError::Undecodable {
                    model: Self::NAME,
                    position: event.position,
                    reason,
                }
            })?;
            for entry in entries {
                let inserted = sqlx::query(&format!(
                    "INSERT INTO {table} (number, tenant, direction, kind, presented_at, counts_from,
                        verification_code, stream_type, stream_id, event_position, event_hash)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                     ON CONFLICT DO NOTHING"
                ))
                .bind(entry.number.as_str())
                .bind(&event.tenant)
                .bind(<&'static str>::from(entry.number.direction()))
                .bind(<&'static str>::from(entry.kind))
                .bind(entry.presented_at)
                .bind(entry.counts_from)
                .bind(entry.verification_code.as_str())
                .bind(&event.stream_type)
                .bind(event.stream_id)
                .bind(event.position)
                .bind(&event.hash)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                // A number or a code given twice is a bug upstream: set the event aside (the
                // runner isolates it) rather than hide it or stop the book for everyone.
                if inserted == 0 {
                    let same: bool = sqlx::query_scalar(&format!(
                        "SELECT EXISTS (SELECT 1 FROM {table} WHERE number = $1 AND event_position = $2)"
                    ))
                    .bind(entry.number.as_str())
                    .bind(event.position)
                    .fetch_one(&mut *conn)
                    .await?;
                    if !same {
                        return Err(ProjectionError::Undecodable {
                            model: Self::NAME,
                            position: event.position,
                            reason: format!(
                                "registry number {} or its verification code is already in the book",
                                entry.number
                            ),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

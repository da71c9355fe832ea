//! The outbox: the notices events ask to send, as rows a sender works through. Being a read model,
//! it is filled exactly once per event, in the same transaction as its checkpoint, so a notice is
//! neither lost when the process stops nor queued twice.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use expedientes_domain::procedure::DomainEvent;
use expedientes_domain::{Notice, NoticeChannel, NoticeRecipient, Procedure};
use expedientes_eventlog::StoredEvent;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::runner::{ProjectionError, ReadModel, Tables};

type NoticesFn = dyn Fn(&serde_json::Value) -> Result<Vec<Notice>, String> + Send + Sync;

/// The outbox read model.
#[derive(Default)]
pub struct Outbox {
    procedures: HashMap<&'static str, Arc<NoticesFn>>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("procedures", &self.procedures.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Outbox {
    /// The name of the model.
    pub const NAME: &'static str = "notices_outbox";

    /// An outbox with no procedure.
    pub fn new() -> Self {
        Self::default()
    }

    /// Plugs a procedure's notices in.
    pub fn with_procedure<P>(mut self) -> Self
    where
        P: Procedure + 'static,
        P::Event: DomainEvent,
    {
        self.procedures.insert(
            P::NAME,
            Arc::new(|payload| {
                let event: P::Event =
                    serde_json::from_value(payload.clone()).map_err(|e| e.to_string())?;
                Ok(P::notices(&event))
            }),
        );
        self
    }
}

#[async_trait]
impl ReadModel for Outbox {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn stream_types(&self) -> Vec<String> {
        let mut types: Vec<String> = self.procedures.keys().map(|k| (*k).to_owned()).collect();
        types.sort();
        types
    }

    fn tables(&self) -> &'static [&'static str] {
        &["notices_outbox"]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let table = tables.get("notices_outbox");
        for event in events {
            let Some(notices) = self.procedures.get(event.stream_type.as_str()) else {
                continue;
            };
            let notices =
                notices(&event.payload).map_err(|reason| ProjectionError::Undecodable {
                    model: Self::NAME,
                    position: event.position,
                    reason,
                })?;
            for (index, notice) in notices.into_iter().enumerate() {
                // Derived from the event, so a rebuild finds the notices it already queued.
                let id = Uuid::new_v5(
                    &event.stream_id,
                    format!("{}:{index}", event.version).as_bytes(),
                );
                sqlx::query(&format!(
                    "INSERT INTO {table} (notice_id, tenant, stream_id, stream_type, kind, recipient, channel, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (notice_id) DO NOTHING"
                ))
                .bind(id)
                .bind(&event.tenant)
                .bind(event.stream_id)
                .bind(&event.stream_type)
                .bind(&notice.kind)
                .bind(match notice.recipient {
                    NoticeRecipient::Person => "person",
                    NoticeRecipient::Council => "council",
                })
                .bind(match notice.channel {
                    NoticeChannel::Email => "email",
                    NoticeChannel::Sms => "sms",
                    NoticeChannel::Post => "post",
                })
                .bind(event.recorded_at)
                .execute(&mut *conn)
                .await?;
            }
        }
        Ok(())
    }
}

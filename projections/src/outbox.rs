//! The outbox: the notices events ask to send, as rows a sender works through. Being a read model,
//! it is filled exactly once per event, in the same transaction as its checkpoint, so a notice is
//! neither lost when the process stops nor queued twice.
//!
//! What was really sent is recorded apart, in `notice_deliveries`, which no rebuild touches: a
//! rebuilt outbox takes each notice's delivery from there, so rebuilding sends nothing again and
//! issues no new secret. A notice the rebuilt outbox holds but the live one never did (its table
//! was lost, say) is an effect the rebuild would have: the rebuild refuses unless told to send it
//! or to record it as done.

use async_trait::async_trait;
use expedientes_eventlog::StoredEvent;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::registry::Registry;
use crate::runner::{ProjectionError, ReadModel, Tables};

/// The outbox read model, over every registered procedure.
pub struct Outbox {
    registry: Registry,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("procedures", &self.registry.names())
            .finish()
    }
}

impl Outbox {
    /// The name of the model.
    pub const NAME: &'static str = "notices_outbox";

    /// The outbox of the registry's procedures.
    pub fn new(registry: Registry) -> Self {
        Self { registry }
    }
}

#[async_trait]
impl ReadModel for Outbox {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn stream_types(&self) -> Vec<String> {
        self.registry.names()
    }

    fn tables(&self) -> &'static [&'static str] {
        &["notices_outbox"]
    }

    async fn rebuild_effects(
        &self,
        conn: &mut PgConnection,
        live: &Tables,
        fresh: &Tables,
        mark_done: bool,
    ) -> Result<u64, ProjectionError> {
        let (live, fresh) = (live.get("notices_outbox"), fresh.get("notices_outbox"));
        let new_pending = format!(
            "SELECT f.notice_id FROM {fresh} f
             WHERE f.sent_at IS NULL AND NOT EXISTS (SELECT 1 FROM {live} l WHERE l.notice_id = f.notice_id)"
        );
        if !mark_done {
            let count: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM ({new_pending}) n"))
                .fetch_one(&mut *conn)
                .await?;
            return Ok(count as u64);
        }
        let marked = sqlx::query(&format!(
            "INSERT INTO notice_deliveries (notice_id, sent_at, not_sent)
             SELECT notice_id, now(), true FROM ({new_pending}) n ON CONFLICT DO NOTHING"
        ))
        .execute(&mut *conn)
        .await?
        .rows_affected();
        sqlx::query(&format!(
            "UPDATE {fresh} f SET sent_at = d.sent_at FROM notice_deliveries d
             WHERE d.notice_id = f.notice_id AND f.sent_at IS NULL"
        ))
        .execute(&mut *conn)
        .await?;
        Ok(marked)
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let table = tables.get("notices_outbox");
        for event in events {
            let Some(procedure) = self.registry.get(&event.stream_type) else {
                continue;
            };
            let notices = (procedure.notices)(&event.payload).map_err(|reason| {
                ProjectionError::Undecodable {
                    model: Self::NAME,
                    position: event.position,
                    reason,
                }
            })?;
            for (index, notice) in notices.into_iter().enumerate() {
                // Derived from the event, so a rebuild finds the notices it already queued.
                let id = Uuid::new_v5(
                    &event.stream_id,
                    format!("{}:{index}", event.version).as_bytes(),
                );
                sqlx::query(&format!(
                    "INSERT INTO {table} (notice_id, tenant, stream_id, stream_type, kind, recipient, channel, created_at, sent_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
                             (SELECT sent_at FROM notice_deliveries WHERE notice_id = $1))
                     ON CONFLICT (notice_id) DO NOTHING"
                ))
                .bind(id)
                .bind(&event.tenant)
                .bind(event.stream_id)
                .bind(&event.stream_type)
                .bind(&notice.kind)
                .bind(<&'static str>::from(notice.recipient))
                .bind(<&'static str>::from(notice.channel))
                .bind(event.recorded_at)
                .execute(&mut *conn)
                .await?;
            }
        }
        Ok(())
    }
}

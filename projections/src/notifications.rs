//! The notifications (arts. 40–46 LPAC): one row per notification with its act, addressee,
//! channel, exit entry, attempts and effect. It answers a file's notifications, the person's
//! notifications waiting in Mi Carpeta, and the caseworker's letters and edicts still to send.

use async_trait::async_trait;
use esrs::Aggregate;
use expedientes_domain::lpac::notification::{AttemptResult, Delivery, Event, Notification};
use expedientes_eventlog::StoredEvent;
use sqlx::PgConnection;

use crate::runner::{decode, ProjectionError, ReadModel, Tables};

/// The notifications read model.
#[derive(Debug, Default)]
pub struct Notifications;

impl Notifications {
    /// The model's name (and its table's).
    pub const NAME: &'static str = "notifications";
}

#[async_trait]
impl ReadModel for Notifications {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn stream_types(&self) -> Vec<String> {
        vec![Notification::NAME.to_owned()]
    }

    fn tables(&self) -> &'static [&'static str] {
        &["notifications"]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let table = tables.get("notifications");
        for stored in events {
            let event: Event = decode(Self::NAME, stored)?;
            let id = stored.stream_id;
            let set = |assignments: &str| {
                format!("UPDATE {table} SET {assignments} WHERE notification_id = $1")
            };
            match event {
                Event::Issued {
                    case,
                    act,
                    addressee,
                    delivery,
                    exit,
                    sending_due,
                    at,
                    available_on,
                } => {
                    let (stage, address, edict_reason) = match &delivery {
                        Delivery::Electronic => ("available", None, None),
                        Delivery::Paper { address } => ("to_dispatch", Some(address.clone()), None),
                        Delivery::Edict { reason } => {
                            ("edict_due", None, Some(<&'static str>::from(*reason)))
                        }
                    };
                    sqlx::query(&format!(
                        "INSERT INTO {table} (notification_id, tenant, case_id, case_type,
                            case_number, act_kind, act_summary, act_text, act_on, addressee,
                            addressee_name, channel, address, edict_reason, exit_number,
                            verification_code, stage, issued_at, available_on, sending_due)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                            $16, $17, $18, $19, $20)
                         ON CONFLICT (notification_id) DO NOTHING"
                    ))
                    .bind(id)
                    .bind(&stored.tenant)
                    .bind(case.stream_id)
                    .bind(&case.stream_type)
                    .bind(case.case_number.as_str())
                    .bind(<&'static str>::from(act.kind))
                    .bind(&act.summary)
                    .bind(&act.text)
                    .bind(act.on)
                    .bind(addressee.as_ref().map(|a| a.document.as_str().to_owned()))
                    .bind(addressee.as_ref().map(|a| a.name.clone()))
                    .bind(delivery.channel())
                    .bind(address)
                    .bind(edict_reason)
                    .bind(exit.number.as_str())
                    .bind(exit.verification_code.as_str())
                    .bind(stage)
                    .bind(at)
                    .bind(available_on)
                    .bind(sending_due)
                    .execute(&mut *conn)
                    .await?;
                }
                Event::Dispatched { on } => {
                    sqlx::query(&set("stage = 'dispatched', dispatched_on = $2"))
                        .bind(id)
                        .bind(on)
                        .execute(&mut *conn)
                        .await?;
                }
                Event::AttemptRecorded {
                    attempt,
                    at,
                    result,
                } => {
                    let stage = match (&result, attempt) {
                        (AttemptResult::Absent, 1) => Some("second_attempt_due"),
                        (AttemptResult::Absent | AttemptResult::UnknownAtAddress, _) => {
                            Some("edict_due")
                        }
                        _ => None,
                    };
                    let mut entry = serde_json::to_value(&result).unwrap_or_default();
                    entry["attempt"] = attempt.into();
                    entry["at"] = at.format("%Y-%m-%dT%H:%M").to_string().into();
                    sqlx::query(&set("attempts = attempts || jsonb_build_array($2::jsonb),
                         stage = coalesce($3, stage)"))
                    .bind(id)
                    .bind(entry)
                    .bind(stage)
                    .execute(&mut *conn)
                    .await?;
                }
                Event::Accessed { by, at } => {
                    sqlx::query(&set("accessed_at = $2, accessed_by = $3"))
                        .bind(id)
                        .bind(at)
                        .bind(by.as_str())
                        .execute(&mut *conn)
                        .await?;
                }
                Event::EdictPublished { on, reference } => {
                    sqlx::query(&set("edict_on = $2, edict_reference = $3"))
                        .bind(id)
                        .bind(on)
                        .bind(reference)
                        .execute(&mut *conn)
                        .await?;
                }
                Event::TookEffect { outcome, on, .. } => {
                    sqlx::query(&set(
                        "stage = 'took_effect', outcome = $2, effective_on = $3",
                    ))
                    .bind(id)
                    .bind(<&'static str>::from(outcome))
                    .bind(on)
                    .execute(&mut *conn)
                    .await?;
                }
                Event::SendingOverdue { .. } => {
                    sqlx::query(&set("sending_overdue = true"))
                        .bind(id)
                        .execute(&mut *conn)
                        .await?;
                }
            }
        }
        Ok(())
    }
}

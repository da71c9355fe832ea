//! The padrón register: one row per inscription — who is inscribed where, since when, the last
//! change that counts as renewal, the renewal due date, an open removal file — for the register
//! itself and the caseworkers' renewal queues.

use async_trait::async_trait;
use esrs::Aggregate;
use expedientes_domain::padron::{Inscription, InscriptionEvent, RemovalCause, ResidenceStatus};
use expedientes_eventlog::StoredEvent;
use sqlx::PgConnection;

use crate::runner::{decode, ProjectionError, ReadModel, Tables};

/// The register read model.
#[derive(Debug, Default)]
pub struct PadronRegister;

impl PadronRegister {
    /// The model's name.
    pub const NAME: &'static str = "padron_register";
}

fn residence_code(r: ResidenceStatus) -> &'static str {
    r.into()
}

fn cause_code(c: RemovalCause) -> &'static str {
    c.into()
}

#[async_trait]
impl ReadModel for PadronRegister {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn stream_types(&self) -> Vec<String> {
        vec![Inscription::NAME.to_owned()]
    }

    fn tables(&self) -> &'static [&'static str] {
        &["padron_register"]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let table = tables.get("padron_register");
        for stored in events {
            let event: InscriptionEvent = decode(Self::NAME, stored)?;
            let id = stored.stream_id;
            match &event {
                InscriptionEvent::Inscribed {
                    renewal_due,
                    person,
                    residence,
                    dwelling,
                    on,
                    ..
                } => sqlx::query(&format!(
                    "INSERT INTO {table} (inscription_id, tenant, name, document, residence, dwelling_key, address,
                                          inscribed_on, last_change_on, renewal_due, version)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10) ON CONFLICT (inscription_id) DO NOTHING"
                ))
                .bind(id)
                .bind(&stored.tenant)
                .bind(&person.name)
                .bind(person.document.login_number())
                .bind(residence_code(*residence))
                .bind(&dwelling.key)
                .bind(&dwelling.address)
                .bind(on)
                .bind(renewal_due)
                .bind(stored.version)
                .execute(&mut *conn)
                .await?,
                // A new period: the row shows it (the stream keeps the earlier ones).
                InscriptionEvent::Reinscribed {
                    renewal_due,
                    person,
                    residence,
                    dwelling,
                    on,
                    ..
                } => sqlx::query(&format!(
                    "UPDATE {table} SET name = $2, document = $3, residence = $4, dwelling_key = $5,
                            address = $6, inscribed_on = $7, last_change_on = $7, renewal_due = $8,
                            lapse_proposed = false, open_removal_file = NULL, removed_on = NULL,
                            removal_cause = NULL, confirmation_due = NULL,
                            confirmation_overdue = false, version = $9
                     WHERE inscription_id = $1"
                ))
                .bind(id)
                .bind(&person.name)
                .bind(person.document.login_number())
                .bind(residence_code(*residence))
                .bind(&dwelling.key)
                .bind(&dwelling.address)
                .bind(on)
                .bind(renewal_due)
                .bind(stored.version)
                .execute(&mut *conn)
                .await?,
                InscriptionEvent::AddressChanged {
                    renewal_due,
                    dwelling,
                    on,
                    ..
                } => sqlx::query(&format!(
                    "UPDATE {table} SET dwelling_key = $2, address = $3, last_change_on = $4, renewal_due = $5,
                            lapse_proposed = false, version = $6 WHERE inscription_id = $1"
                ))
                .bind(id)
                .bind(&dwelling.key)
                .bind(&dwelling.address)
                .bind(on)
                .bind(renewal_due)
                .bind(stored.version)
                .execute(&mut *conn)
                .await?,
                InscriptionEvent::PersonalDataModified {
                    renewal_due,
                    name,
                    document,
                    on,
                    ..
                } => sqlx::query(&format!(
                    "UPDATE {table} SET name = $2, document = $3, last_change_on = $4, renewal_due = $5,
                            lapse_proposed = false, version = $6 WHERE inscription_id = $1"
                ))
                .bind(id)
                .bind(name)
                .bind(document.login_number())
                .bind(on)
                .bind(renewal_due)
                .bind(stored.version)
                .execute(&mut *conn)
                .await?,
                InscriptionEvent::ResidenceStatusChanged {
                    residence,
                    renewal_due,
                    on,
                    ..
                } => sqlx::query(&format!(
                    "UPDATE {table} SET residence = $2, renewal_due = $3, last_change_on = $4,
                            lapse_proposed = false, confirmation_due = NULL,
                            confirmation_overdue = false, version = $5 WHERE inscription_id = $1"
                ))
                .bind(id)
                .bind(residence_code(*residence))
                .bind(renewal_due)
                .bind(on)
                .bind(stored.version)
                .execute(&mut *conn)
                .await?,
                InscriptionEvent::Renewed { renewal_due, on, .. } => sqlx::query(&format!(
                    "UPDATE {table} SET last_change_on = $2, renewal_due = $3, lapse_proposed = false, version = $4
                     WHERE inscription_id = $1"
                ))
                .bind(id)
                .bind(on)
                .bind(renewal_due)
                .bind(stored.version)
                .execute(&mut *conn)
                .await?,
                InscriptionEvent::RemovalFileOpened { file, .. } => {
                    sqlx::query(&format!("UPDATE {table} SET open_removal_file = $2, version = $3 WHERE inscription_id = $1"))
                        .bind(id)
                        .bind(file)
                        .bind(stored.version)
                        .execute(&mut *conn)
                        .await?
                }
                InscriptionEvent::RemovalFileClosed { .. } => sqlx::query(&format!(
                    "UPDATE {table} SET open_removal_file = NULL, version = $2 WHERE inscription_id = $1"
                ))
                .bind(id)
                .bind(stored.version)
                .execute(&mut *conn)
                .await?,
                InscriptionEvent::LapseProposed { .. } => sqlx::query(&format!(
                    "UPDATE {table} SET lapse_proposed = true, version = $2 WHERE inscription_id = $1"
                ))
                .bind(id)
                .bind(stored.version)
                .execute(&mut *conn)
                .await?,
                InscriptionEvent::Removed { cause, effective_on } => sqlx::query(&format!(
                    "UPDATE {table} SET removed_on = $2, removal_cause = $3, open_removal_file = NULL,
                            confirmation_due = NULL, confirmation_overdue = false, version = $4
                     WHERE inscription_id = $1"
                ))
                .bind(id)
                .bind(effective_on)
                .bind(cause_code(*cause))
                .bind(stored.version)
                .execute(&mut *conn)
                .await?,
                InscriptionEvent::RemovalCorrected {
                    renewal_due,
                    open_removal_file,
                    ..
                } => sqlx::query(&format!(
                    "UPDATE {table} SET removed_on = NULL, removal_cause = NULL, renewal_due = $2,
                        open_removal_file = $3, version = $4
                     WHERE inscription_id = $1"
                ))
                .bind(id)
                .bind(renewal_due)
                .bind(open_removal_file)
                .bind(stored.version)
                .execute(&mut *conn)
                .await?,
                InscriptionEvent::ConfirmationDue { due } => sqlx::query(&format!(
                    "UPDATE {table} SET confirmation_due = $2, confirmation_overdue = false, version = $3
                     WHERE inscription_id = $1"
                ))
                .bind(id)
                .bind(due)
                .bind(stored.version)
                .execute(&mut *conn)
                .await?,
                InscriptionEvent::ConfirmationOverdue { .. } => sqlx::query(&format!(
                    "UPDATE {table} SET confirmation_overdue = true, version = $2 WHERE inscription_id = $1"
                ))
                .bind(id)
                .bind(stored.version)
                .execute(&mut *conn)
                .await?,
                InscriptionEvent::ResidenceConfirmed { on, .. } => sqlx::query(&format!(
                    "UPDATE {table} SET last_change_on = $2, version = $3 WHERE inscription_id = $1"
                ))
                .bind(id)
                .bind(on)
                .bind(stored.version)
                .execute(&mut *conn)
                .await?,
                InscriptionEvent::RenewalWarningSent { .. }
                | InscriptionEvent::ConfirmationWarningSent { .. }
                | InscriptionEvent::NewInscriptionAuthorised { .. }
                | InscriptionEvent::RemovalRequested { .. }
                | InscriptionEvent::LapseResolved { .. } => {
                    sqlx::query(&format!("UPDATE {table} SET version = $2 WHERE inscription_id = $1"))
                        .bind(id)
                        .bind(stored.version)
                        .execute(&mut *conn)
                        .await?
                }
            };
        }
        Ok(())
    }
}

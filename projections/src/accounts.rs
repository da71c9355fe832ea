//! The user accounts read model: one row per account (alta de usuario), for login lookups, the
//! caseworkers' verification queue and the account's place in Mi Carpeta.

use async_trait::async_trait;
use esrs::Aggregate;
use expedientes_domain::user_account::{Applicant, Channel, Event, Stage, UserAccount};
use expedientes_eventlog::StoredEvent;
use sqlx::PgConnection;

use crate::runner::{decode, ProjectionError, ReadModel, Tables};

/// The accounts read model.
#[derive(Debug, Default)]
pub struct Accounts;

impl Accounts {
    /// The name of the model.
    pub const NAME: &'static str = "account_view";
}

fn channel_code(channel: Channel) -> &'static str {
    channel.into()
}

#[async_trait]
impl ReadModel for Accounts {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn stream_types(&self) -> Vec<String> {
        vec![UserAccount::NAME.to_owned()]
    }

    fn tables(&self) -> &'static [&'static str] {
        &["account_view"]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let table = tables.get("account_view");
        for stored in events {
            let event: Event = decode(Self::NAME, stored)?;
            let stage = |s: Stage| s.code();
            let stage_code: Option<&str> = match &event {
                Event::Registered {
                    channel,
                    applicant,
                    contact,
                    at,
                    ..
                } => {
                    let (name, legal) = match applicant {
                        Applicant::Natural { name, .. } => (name.clone(), false),
                        Applicant::Legal { name, .. } => (name.clone(), true),
                    };
                    let initial = match channel {
                        Channel::OnlineWithCertificate => Stage::AwaitingEmailConfirmation,
                        Channel::OnlineWithoutCertificate => Stage::AwaitingVerification,
                        Channel::InPerson | Channel::Phone => Stage::AwaitingKey,
                    };
                    sqlx::query(&format!(
                        "INSERT INTO {table} (account_id, tenant, login_number, name, legal_person, channel, stage,
                                              email, mobile, registered_at, updated_at, version)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11)
                         ON CONFLICT (account_id) DO UPDATE SET
                           name = EXCLUDED.name, legal_person = EXCLUDED.legal_person,
                           channel = EXCLUDED.channel, stage = EXCLUDED.stage,
                           email = EXCLUDED.email, mobile = EXCLUDED.mobile,
                           registered_at = EXCLUDED.registered_at,
                           updated_at = EXCLUDED.updated_at, version = EXCLUDED.version
                         WHERE {table}.version < EXCLUDED.version"
                    ))
                    .bind(stored.stream_id)
                    .bind(&stored.tenant)
                    .bind(applicant.login_number())
                    .bind(name)
                    .bind(legal)
                    .bind(channel_code(*channel))
                    .bind(initial.code())
                    .bind(&contact.email)
                    .bind(&contact.mobile)
                    .bind(at)
                    .bind(stored.version)
                    .execute(&mut *conn)
                    .await?;
                    continue;
                }
                Event::IdentityVerified { .. } => Some(stage(Stage::AwaitingKey)),
                Event::KeyReset { .. } | Event::RecoveryRequested { .. } => {
                    Some(stage(Stage::AwaitingPassword))
                }
                Event::PasswordSet { .. } | Event::Unlocked { .. } => Some(stage(Stage::Active)),
                // A PIN login leaves the password's state as it is.
                Event::LoggedInWithPin { at } => {
                    sqlx::query(&format!(
                        "UPDATE {table} SET last_login_at = $2, updated_at = $3, version = $4
                         WHERE account_id = $1"
                    ))
                    .bind(stored.stream_id)
                    .bind(at)
                    .bind(stored.recorded_at)
                    .bind(stored.version)
                    .execute(&mut *conn)
                    .await?;
                    continue;
                }
                Event::LoggedIn { at, .. } => {
                    sqlx::query(&format!(
                        "UPDATE {table} SET stage = 'active', last_login_at = $2, updated_at = $3, version = $4
                         WHERE account_id = $1"
                    ))
                    .bind(stored.stream_id)
                    .bind(at)
                    .bind(stored.recorded_at)
                    .bind(stored.version)
                    .execute(&mut *conn)
                    .await?;
                    continue;
                }
                Event::Locked { .. } => Some(stage(Stage::Locked)),
                Event::PasswordExpired { .. } => Some(stage(Stage::Expired)),
                Event::ContactChanged { contact, .. } => {
                    sqlx::query(&format!(
                        "UPDATE {table} SET email = $2, mobile = $3, updated_at = $4, version = $5 WHERE account_id = $1"
                    ))
                    .bind(stored.stream_id)
                    .bind(&contact.email)
                    .bind(&contact.mobile)
                    .bind(stored.recorded_at)
                    .bind(stored.version)
                    .execute(&mut *conn)
                    .await?;
                    continue;
                }
                _ => None,
            };
            sqlx::query(&format!(
                "UPDATE {table} SET stage = coalesce($2, stage), updated_at = $3, version = $4 WHERE account_id = $1"
            ))
            .bind(stored.stream_id)
            .bind(stage_code)
            .bind(stored.recorded_at)
            .bind(stored.version)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

//! Sending the outbox: the notices events asked for (see `projections::outbox`), rendered and
//! handed to a [`NoticeSender`]. One-time secrets (activation links, PINs) are created here, at
//! send time, stored hashed, and exist in clear only in the message itself. The default sender
//! only logs that a message was sent (never its body); a real e-mail or SMS gateway implements the
//! same trait.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::Duration;
use expedientes_domain::user_account::{ACTIVATION_DAYS, PIN_MINUTES};
use sqlx::Row;
use uuid::Uuid;

use crate::secrets;
use crate::state::AppState;

/// A message ready to send.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// The notice's kind.
    pub kind: String,
    /// `email` or `sms`.
    pub channel: String,
    /// The address or phone number.
    pub to: String,
    /// Subject (e-mail).
    pub subject: String,
    /// Body; may hold a one-time secret: never log it.
    pub body: String,
    /// The account or file it concerns.
    pub stream_id: Uuid,
}

impl std::fmt::Debug for OutgoingMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingMessage")
            .field("kind", &self.kind)
            .field("channel", &self.channel)
            .field("to", &mask(&self.to))
            .field("body", &"<not shown>")
            .finish()
    }
}

/// Hides most of an address in logs.
fn mask(address: &str) -> String {
    let keep: String = address.chars().take(2).collect();
    format!("{keep}***")
}

/// Sends messages.
#[async_trait]
pub trait NoticeSender: Send + Sync {
    /// Sends one message; an error is retried later.
    async fn send(&self, message: &OutgoingMessage) -> Result<(), String>;
}

/// The default sender: logs that a message was sent, without its body.
#[derive(Debug, Default)]
pub struct LogSender;

#[async_trait]
impl NoticeSender for LogSender {
    async fn send(&self, message: &OutgoingMessage) -> Result<(), String> {
        tracing::info!(kind = %message.kind, channel = %message.channel, to = %mask(&message.to), "notice sent");
        Ok(())
    }
}

/// Keeps messages in memory (tests, demonstrations).
#[derive(Debug, Default, Clone)]
pub struct MemorySender(Arc<Mutex<Vec<OutgoingMessage>>>);

impl MemorySender {
    /// Every message sent so far.
    pub fn sent(&self) -> Vec<OutgoingMessage> {
        self.0.lock().expect("sender lock").clone()
    }
}

#[async_trait]
impl NoticeSender for MemorySender {
    async fn send(&self, message: &OutgoingMessage) -> Result<(), String> {
        self.0.lock().expect("sender lock").push(message.clone());
        Ok(())
    }
}

/// A one-time secret a notice carries, created when the notice is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// A single-use code to set the password (after a key reset), valid for days.
    ActivationCode,
    /// A single-use link to confirm the e-mail of a registration with a certificate.
    EmailConfirmation,
    /// A 6-digit PIN for one login, valid for minutes.
    Pin,
}

/// How a notice reads: declared by its procedure (see `crate::procedures::Plugin::notice`).
#[derive(Debug, Clone, Copy)]
pub struct NoticeText {
    /// The subject (e-mail), empty for an SMS.
    pub subject: &'static str,
    /// The body; `{secret}` stands for the secret it carries, `{activation_days}` and
    /// `{pin_minutes}` for how long it is valid.
    pub body: &'static str,
    /// The secret it carries, if any.
    pub secret: Option<Secret>,
}

/// The text of a notice: its procedure's, or, for a kind no procedure declares (a bug, logged),
/// its kind.
fn render(stream_type: &str, kind: &str) -> NoticeText {
    crate::procedures::notice_text(stream_type, kind).unwrap_or_else(|| {
        tracing::error!(%stream_type, %kind, "a notice kind without a text");
        NoticeText {
            subject: "Aviso",
            body: "Tiene un aviso del Ayuntamiento.",
            secret: None,
        }
    })
}

/// Sends what is due in the outbox; returns how many were sent.
pub async fn process_outbox(
    state: &AppState,
    sender: &dyn NoticeSender,
) -> Result<u64, sqlx::Error> {
    let now = state.clock.now();
    let mut tx = state.pool.begin().await?;
    let rows = sqlx::query(
        "SELECT o.notice_id, o.tenant, o.stream_id, o.stream_type, o.kind, o.recipient, o.channel,
                coalesce(a.email, an.email) AS email, coalesce(a.mobile, an.mobile) AS mobile,
                p.name || ', ' || p.address AS postal
         FROM notices_outbox o
         LEFT JOIN account_view a ON a.account_id = o.stream_id
         LEFT JOIN padron_register p ON p.inscription_id = o.stream_id
         -- A notification's addressee: their municipal account's contact data, if they have one.
         LEFT JOIN notifications n ON n.notification_id = o.stream_id
         LEFT JOIN account_view an ON an.tenant = o.tenant AND an.login_number = n.addressee
         WHERE o.sent_at IS NULL AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= $1)
         ORDER BY o.created_at LIMIT 50
         FOR UPDATE OF o SKIP LOCKED",
    )
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    let mut sent = 0;
    for row in rows {
        let notice: Uuid = row.try_get("notice_id")?;
        let tenant: String = row.try_get("tenant")?;
        let stream: Uuid = row.try_get("stream_id")?;
        let kind: String = row.try_get("kind")?;
        let stream_type: String = row.try_get("stream_type")?;
        let channel: String = row.try_get("channel")?;
        let text = render(&stream_type, &kind);
        let to = if row.try_get::<String, _>("recipient")? == "council" {
            state.config.council_notices_email.clone()
        } else if channel == "post" {
            row.try_get::<Option<String>, _>("postal")?
                .unwrap_or_default()
        } else if channel == "sms" {
            row.try_get::<Option<String>, _>("mobile")?
                .unwrap_or_default()
        } else {
            row.try_get::<Option<String>, _>("email")?
                .unwrap_or_default()
        };
        // Nowhere to send it (a person with no municipal account, or contact data the read
        // models have not caught up with yet): not sent, tried again later, no secret issued.
        if to.trim().is_empty() {
            tracing::info!(%notice, %kind, "no address known for the notice yet; will retry");
            sqlx::query(
                // After ten tries it is given up (kept, with its reason, for the record).
                "UPDATE notices_outbox SET attempts = attempts + 1,
                        last_error = CASE WHEN attempts >= 9 THEN 'no address known: given up'
                                          ELSE 'no address known' END,
                        next_attempt_at = CASE WHEN attempts >= 9 THEN 'infinity'::timestamptz
                            ELSE $2 + make_interval(secs => least(86400, 60 * power(2, least(attempts, 20)))) END
                 WHERE notice_id = $1",
            )
            .bind(notice)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            continue;
        }
        let secret = match text.secret {
            Some(Secret::ActivationCode) => Some(
                secrets::issue_token(
                    &mut tx,
                    &tenant,
                    stream,
                    "activation",
                    now,
                    Duration::days(ACTIVATION_DAYS),
                )
                .await?,
            ),
            Some(Secret::EmailConfirmation) => Some(
                secrets::issue_token(
                    &mut tx,
                    &tenant,
                    stream,
                    "email_confirmation",
                    now,
                    Duration::days(ACTIVATION_DAYS),
                )
                .await?,
            ),
            Some(Secret::Pin) => {
                let pin = format!("{:06}", rand::random::<u32>() % 1_000_000);
                sqlx::query("UPDATE account_secrets SET used_at = $2 WHERE account_id = $1 AND kind = 'pin' AND used_at IS NULL")
                    .bind(stream)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO account_secrets (secret_id, tenant, account_id, kind, hash, created_at, expires_at)
                     VALUES ($1, $2, $3, 'pin', $4, $5, $6)",
                )
                .bind(Uuid::new_v4())
                .bind(&tenant)
                .bind(stream)
                .bind(secrets::hash(&pin))
                .bind(now)
                .bind(now + Duration::minutes(PIN_MINUTES))
                .execute(&mut *tx)
                .await?;
                Some(pin)
            }
            None => None,
        };
        let subject = text.subject.to_owned();
        let body = text
            .body
            .replace("{activation_days}", &ACTIVATION_DAYS.to_string())
            .replace("{pin_minutes}", &PIN_MINUTES.to_string());
        let body = match &secret {
            Some(secret) => body.replace("{secret}", secret),
            None => body,
        };
        let message = OutgoingMessage {
            kind: kind.clone(),
            channel: channel.clone(),
            to,
            subject,
            body,
            stream_id: stream,
        };
        match sender.send(&message).await {
            Ok(()) => {
                sent += 1;
                // Recorded apart from the outbox, so that no rebuild of it sends it again.
                sqlx::query(
                    "INSERT INTO notice_deliveries (notice_id, sent_at) VALUES ($1, $2)
                     ON CONFLICT (notice_id) DO NOTHING",
                )
                .bind(notice)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE notices_outbox SET sent_at = $2, attempts = attempts + 1 WHERE notice_id = $1")
                    .bind(notice)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                metrics::counter!("notices_sent_total", "kind" => kind).increment(1);
            }
            Err(error) => {
                tracing::warn!(%notice, %kind, %error, "notice not sent; will retry");
                metrics::counter!("notices_failed_total", "kind" => kind).increment(1);
                sqlx::query(
                    "UPDATE notices_outbox SET attempts = attempts + 1, last_error = $2,
                            next_attempt_at = $3 + make_interval(secs => least(3600, 10 * power(2, least(attempts, 20))))
                     WHERE notice_id = $1",
                )
                .bind(notice)
                .bind(&error)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(sent)
}

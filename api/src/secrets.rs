//! Personal secrets, kept out of the event log: passwords and PINs hashed with Argon2id, one-time
//! tokens (256 random bits) stored as SHA-256 digests, each with its expiry and single use. Events
//! only say that a secret was issued, used or expired.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::problem::ApiError;

/// Hashes a password or PIN (Argon2id, a random salt, the crate's recommended parameters).
pub fn hash(secret: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .expect("Argon2 hashing does not fail with valid parameters")
        .to_string()
}

/// Checks a password or PIN against its hash.
pub fn verify(secret: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(secret.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Spends the same time as a real check, so that an unknown document number cannot be told from a
/// wrong password by timing.
pub fn verify_nothing(secret: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let _ = verify(secret, DUMMY.get_or_init(|| hash("not a real password")));
}

/// A new one-time token (hex, 256 bits).
pub fn new_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// The stored form of a token.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The password rules: 8 to 128 characters, not all the same.
pub fn check_password_policy(password: &str) -> Result<(), ApiError> {
    let length = password.chars().count();
    if !(8..=128).contains(&length) {
        return Err(ApiError::invalid_field(
            "password",
            "use 8 to 128 characters",
        ));
    }
    let first = password.chars().next().unwrap_or_default();
    if password.chars().all(|c| c == first) {
        return Err(ApiError::invalid_field(
            "password",
            "use more than one distinct character",
        ));
    }
    Ok(())
}

/// Sets an account's password, replacing the previous one.
pub async fn store_password(
    conn: &mut PgConnection,
    tenant: &str,
    account: Uuid,
    password: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE account_secrets SET used_at = $2 WHERE account_id = $1 AND kind = 'password' AND used_at IS NULL")
        .bind(account)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO account_secrets (secret_id, tenant, account_id, kind, hash, created_at)
         VALUES ($1, $2, $3, 'password', $4, $5)",
    )
    .bind(Uuid::new_v4())
    .bind(tenant)
    .bind(account)
    .bind(hash(password))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The account's current password hash.
pub async fn password_hash(
    conn: &mut PgConnection,
    account: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT hash FROM account_secrets WHERE account_id = $1 AND kind = 'password' AND used_at IS NULL
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(account)
    .fetch_optional(conn)
    .await
}

/// Issues a one-time token of a kind (`activation`, `email_confirmation`), valid for `ttl`; earlier
/// unused tokens of that kind stop working. Returns the token, to be sent, never stored.
pub async fn issue_token(
    conn: &mut PgConnection,
    tenant: &str,
    account: Uuid,
    kind: &str,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<String, sqlx::Error> {
    sqlx::query("UPDATE account_secrets SET used_at = $3 WHERE account_id = $1 AND kind = $2 AND used_at IS NULL")
        .bind(account)
        .bind(kind)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    let token = new_token();
    sqlx::query(
        "INSERT INTO account_secrets (secret_id, tenant, account_id, kind, hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(Uuid::new_v4())
    .bind(tenant)
    .bind(account)
    .bind(kind)
    .bind(digest(&token))
    .bind(now)
    .bind(now + ttl)
    .execute(&mut *conn)
    .await?;
    Ok(token)
}

/// Spends a one-time token: at most once, before it expires. Returns the account and the kind.
pub async fn consume_token(
    conn: &mut PgConnection,
    tenant: &str,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Uuid, String)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE account_secrets SET used_at = $3
         WHERE hash = $1 AND tenant = $2 AND kind IN ('activation', 'email_confirmation')
           AND used_at IS NULL AND expires_at > $3
         RETURNING account_id, kind",
    )
    .bind(digest(token))
    .bind(tenant)
    .bind(now)
    .fetch_optional(conn)
    .await
}

//! Where the bytes of the files' documents are kept: behind [`DocumentStore`], addressed by their
//! SHA-256 digest within a council, so the same document added twice is kept once and what is
//! read back is checked against its digest. [`PostgresDocumentStore`] keeps them in the service's
//! database; an object store (S3 and the like) could implement the same interface.

use async_trait::async_trait;
use expedientes_domain::lpac::document::Digest;
use sqlx::PgPool;

/// A failure of the store (an infrastructure failure: 503/500, never shown).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// What was read does not match its digest (altered or corrupted storage).
    #[error("the stored content of {0} does not match its digest")]
    Corrupted(String),
}

/// Keeps documents' bytes by their digest.
#[async_trait]
pub trait DocumentStore: Send + Sync + std::fmt::Debug {
    /// Keeps `content` (whose digest is `digest`) for the council; keeping it again is a no-op.
    async fn put(&self, tenant: &str, digest: &Digest, content: &[u8]) -> Result<(), StoreError>;
    /// The bytes kept under `digest`, checked against it; `None` when nothing is kept.
    async fn get(&self, tenant: &str, digest: &Digest) -> Result<Option<Vec<u8>>, StoreError>;
}

/// Documents kept in PostgreSQL (`document_contents`).
#[derive(Debug, Clone)]
pub struct PostgresDocumentStore {
    pool: PgPool,
}

impl PostgresDocumentStore {
    /// A store over this pool.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl DocumentStore for PostgresDocumentStore {
    async fn put(&self, tenant: &str, digest: &Digest, content: &[u8]) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO document_contents (tenant, sha256, size, content, stored_at)
             VALUES ($1, $2, $3, $4, now()) ON CONFLICT (tenant, sha256) DO NOTHING",
        )
        .bind(tenant)
        .bind(digest.as_str())
        .bind(content.len() as i64)
        .bind(content)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get(&self, tenant: &str, digest: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        let content: Option<Vec<u8>> = sqlx::query_scalar(
            "SELECT content FROM document_contents WHERE tenant = $1 AND sha256 = $2",
        )
        .bind(tenant)
        .bind(digest.as_str())
        .fetch_optional(&self.pool)
        .await?;
        match content {
            Some(bytes) if Digest::of(&bytes) != *digest => {
                Err(StoreError::Corrupted(digest.as_str().to_owned()))
            }
            other => Ok(other),
        }
    }
}

//! The log's own failure type: what went wrong in the store, classified for the caller (is it
//! worth retrying, is the database down), without handing `sqlx` errors up the stack.

/// The store failed; nothing the caller asked for happened.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached (connection refused, pool exhausted, closed): retry later.
    #[error("the event log's database is unavailable: {0}")]
    Unavailable(String),
    /// The database answered with an error it should not have (a bug, or a schema not migrated).
    #[error("the event log's database failed: {0}")]
    Failed(String),
    /// The caller built a malformed append (a bug in the caller).
    #[error("invalid append: {0}")]
    InvalidAppend(&'static str),
}

impl StoreError {
    /// Whether the failure is the database being out of reach (answered as 503, not 500).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(error.to_string()),
            other => StoreError::Failed(other.to_string()),
        }
    }
}

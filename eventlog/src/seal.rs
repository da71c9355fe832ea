//! Seals: a digest over the next range of the log in reading order, chained to the previous seal.
//! A seal makes the removal or rewriting of any event in its range evident, even of a stream's
//! last events, which the per-stream chain alone cannot show. Publishing the latest seal's digest
//! outside the database (see docs/OPERATIONS.md) anchors the whole history.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};

use crate::Cursor;

/// A seal, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Seal {
    /// Its id, increasing.
    pub seal_id: i64,
    /// The range starts after this cursor…
    pub from: Cursor,
    /// …and ends at this one, inclusive.
    pub to: Cursor,
    /// How many events it covers.
    pub event_count: i64,
    /// The lowest position in the range.
    pub min_position: i64,
    /// The highest position in the range.
    pub max_position: i64,
    /// Its digest, hex.
    pub digest: String,
    /// When it was made.
    pub sealed_at: DateTime<Utc>,
}

/// sha256(previous digest || each event hash in reading order).
pub(crate) fn digest<'a>(
    previous: Option<&[u8]>,
    hashes: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<u8> {
    let mut d = Sha256::new();
    if let Some(p) = previous {
        d.update(p);
    }
    for h in hashes {
        d.update(h);
    }
    d.finalize().to_vec()
}

pub(crate) async fn seal(pool: &PgPool, max_events: i64) -> Result<Option<Seal>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    // One sealer at a time, so that seals never overlap.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('expedientes.seal'))")
        .execute(&mut *tx)
        .await?;
    let last: Option<(i64, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT to_transaction_id::text::bigint, to_position, digest FROM seals ORDER BY seal_id DESC LIMIT 1",
    )
    .fetch_optional(&mut *tx)
    .await?;
    let (from, previous) = match last {
        Some((t, p, d)) => (
            Cursor {
                transaction_id: t,
                position: p,
            },
            Some(d),
        ),
        None => (Cursor::START, None),
    };
    let rows: Vec<(i64, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT transaction_id::text::bigint, position, hash FROM events
         WHERE (transaction_id, position) > ($1::bigint::text::xid8, $2)
           AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
         ORDER BY transaction_id, position LIMIT $3",
    )
    .bind(from.transaction_id)
    .bind(from.position)
    .bind(max_events)
    .fetch_all(&mut *tx)
    .await?;
    let Some(&(to_t, to_p, _)) = rows.last() else {
        return Ok(None);
    };
    let digest = digest(
        previous.as_deref(),
        rows.iter().map(|(_, _, h)| h.as_slice()),
    );
    let min_position = rows.iter().map(|r| r.1).min().unwrap_or(to_p);
    let max_position = rows.iter().map(|r| r.1).max().unwrap_or(to_p);
    let row = sqlx::query(
        "INSERT INTO seals (from_transaction_id, from_position, to_transaction_id, to_position,
                            event_count, min_position, max_position, previous_digest, digest)
         VALUES ($1::bigint::text::xid8, $2, $3::bigint::text::xid8, $4, $5, $6, $7, $8, $9)
         RETURNING seal_id, sealed_at",
    )
    .bind(from.transaction_id)
    .bind(from.position)
    .bind(to_t)
    .bind(to_p)
    .bind(rows.len() as i64)
    .bind(min_position)
    .bind(max_position)
    .bind(previous.as_deref())
    .bind(&digest)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(Seal {
        seal_id: row.try_get("seal_id")?,
        from,
        to: Cursor {
            transaction_id: to_t,
            position: to_p,
        },
        event_count: rows.len() as i64,
        min_position,
        max_position,
        digest: hex::encode(digest),
        sealed_at: row.try_get("sealed_at")?,
    }))
}

//! Verification: recomputes every event's hash from its stored content, every chain link, and
//! every seal, and names the first thing that does not match.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde::Serialize;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::seal::digest;

/// Something that does not match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerificationFailure {
    /// The event's position, when one event is at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    /// Its tenant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Its stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_id: Option<Uuid>,
    /// Its version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
    /// The seal, when a seal does not match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seal_id: Option<i64>,
    /// What does not match.
    pub reason: String,
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerificationReport {
    /// True when everything matched.
    pub ok: bool,
    /// Events whose hash was recomputed.
    pub events_checked: u64,
    /// Streams whose chain was followed.
    pub streams_checked: u64,
    /// Seals recomputed.
    pub seals_checked: u64,
    /// The highest position seen.
    pub last_position: i64,
    /// The latest seal's digest (hex): publish it elsewhere to anchor the history.
    pub latest_seal_digest: Option<String>,
    /// The first failure: the lowest position at fault, else the first seal at fault.
    pub first_failure: Option<VerificationFailure>,
    /// Every failure found (at most 100).
    pub failures: Vec<VerificationFailure>,
    /// When the verification ran.
    pub verified_at: DateTime<Utc>,
}

const MAX_FAILURES: usize = 100;

struct Link {
    version: i32,
    hash: Vec<u8>,
    tenant: String,
    stream_type: String,
}

pub(crate) async fn verify(pool: &PgPool) -> Result<VerificationReport, sqlx::Error> {
    let mut failures = Vec::new();
    let mut chains: HashMap<Uuid, Link> = HashMap::new();
    let mut events_checked = 0u64;
    let mut last_position = 0i64;
    {
        let mut rows = sqlx::query(
            "SELECT position, tenant, stream_type, stream_id, version, previous_hash, hash,
                    event_hash(previous_hash, position, transaction_id, tenant, stream_type, stream_id,
                               version, event_type, schema_version, payload, metadata, command_id,
                               command_seq, request_hash, recorded_at) AS recomputed
             FROM events ORDER BY position",
        )
        .fetch(pool);
        while let Some(row) = rows.try_next().await? {
            events_checked += 1;
            let position: i64 = row.try_get("position")?;
            last_position = position;
            let tenant: String = row.try_get("tenant")?;
            let stream_type: String = row.try_get("stream_type")?;
            let stream_id: Uuid = row.try_get("stream_id")?;
            let version: i32 = row.try_get("version")?;
            let previous_hash: Option<Vec<u8>> = row.try_get("previous_hash")?;
            let hash: Vec<u8> = row.try_get("hash")?;
            let recomputed: Vec<u8> = row.try_get("recomputed")?;
            let mut fail = |reason: String| {
                if failures.len() < MAX_FAILURES {
                    failures.push(VerificationFailure {
                        position: Some(position),
                        tenant: Some(tenant.clone()),
                        stream_id: Some(stream_id),
                        version: Some(version),
                        seal_id: None,
                        reason,
                    });
                }
            };
            if recomputed != hash {
                fail(
                    "its content does not match its hash: it was altered after being recorded"
                        .into(),
                );
            }
            match chains.get(&stream_id) {
                None if version != 1 => fail(format!(
                    "it is version {version} but the stream's earlier versions are missing"
                )),
                None if previous_hash.is_some() => {
                    fail("it is the stream's first event but names a previous hash".into())
                }
                Some(prev) if prev.version + 1 != version => fail(format!(
                    "it is version {version} but the stream's previous event is version {}",
                    prev.version
                )),
                Some(prev) if previous_hash.as_deref() != Some(prev.hash.as_slice()) => {
                    fail("its link to the previous event does not match that event's hash".into())
                }
                Some(prev) if prev.tenant != tenant || prev.stream_type != stream_type => {
                    fail("it changes the stream's tenant or type".into())
                }
                _ => {}
            }
            chains.insert(
                stream_id,
                Link {
                    version,
                    hash,
                    tenant: tenant.clone(),
                    stream_type,
                },
            );
        }
    }

    let seals = sqlx::query(
        "SELECT seal_id, from_transaction_id::text::bigint AS ft, from_position, to_transaction_id::text::bigint AS tt,
                to_position, event_count, previous_digest, digest
         FROM seals ORDER BY seal_id",
    )
    .fetch_all(pool)
    .await?;
    let mut seals_checked = 0u64;
    let mut previous: Option<(i64, i64, Vec<u8>)> = None;
    let mut seal_failures = Vec::new();
    for seal in &seals {
        seals_checked += 1;
        let seal_id: i64 = seal.try_get("seal_id")?;
        let ft: i64 = seal.try_get("ft")?;
        let fp: i64 = seal.try_get("from_position")?;
        let tt: i64 = seal.try_get("tt")?;
        let tp: i64 = seal.try_get("to_position")?;
        let count: i64 = seal.try_get("event_count")?;
        let previous_digest: Option<Vec<u8>> = seal.try_get("previous_digest")?;
        let stored: Vec<u8> = seal.try_get("digest")?;
        let mut fail = |reason: String, position: Option<i64>| {
            seal_failures.push(VerificationFailure {
                position,
                tenant: None,
                stream_id: None,
                version: None,
                seal_id: Some(seal_id),
                reason,
            })
        };
        let expected_start = previous.as_ref().map_or((0, 0), |(t, p, _)| (*t, *p));
        if (ft, fp) != expected_start {
            fail(
                "the seal does not start where the previous one ended".into(),
                None,
            );
        }
        if previous_digest.as_deref() != previous.as_ref().map(|(_, _, d)| d.as_slice()) {
            fail(
                "the seal's link to the previous seal does not match".into(),
                None,
            );
        }
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT position, hash FROM events
             WHERE (transaction_id, position) > ($1::bigint::text::xid8, $2)
               AND (transaction_id, position) <= ($3::bigint::text::xid8, $4)
             ORDER BY transaction_id, position",
        )
        .bind(ft)
        .bind(fp)
        .bind(tt)
        .bind(tp)
        .fetch_all(pool)
        .await?;
        if rows.len() as i64 != count {
            fail(
                format!(
                    "the seal covers {count} events but {} are in its range: events were removed or added",
                    rows.len()
                ),
                None,
            );
        } else if digest(
            previous_digest.as_deref(),
            rows.iter().map(|(_, h)| h.as_slice()),
        ) != stored
        {
            fail(
                "the events in the seal's range do not match its digest".into(),
                rows.first().map(|(p, _)| *p),
            );
        }
        previous = Some((tt, tp, stored));
    }
    let latest_seal_digest = previous.map(|(_, _, d)| hex::encode(d));
    failures.sort_by_key(|f| f.position);
    let first_failure = failures.first().or(seal_failures.first()).cloned();
    failures.extend(seal_failures);
    failures.truncate(MAX_FAILURES);
    Ok(VerificationReport {
        ok: first_failure.is_none(),
        events_checked,
        streams_checked: chains.len() as u64,
        seals_checked,
        last_position,
        latest_seal_digest,
        first_failure,
        failures,
        verified_at: Utc::now(),
    })
}

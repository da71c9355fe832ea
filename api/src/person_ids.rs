//! The ids of person streams — a person's padrón inscription and municipal account in a council —
//! derived from the council and the document number with a key kept in the database
//! (`person_stream_keys`, migration 0012): one stream per person, as the log's unique stream id
//! guarantees, yet nobody without the key can compute a person's id from their DNI (and so act on,
//! or ask about, someone else's inscription by guessing it). Streams written before the key existed
//! keep their earlier ids (a UUIDv5 of the document): a stream under the earlier id, when there
//! is one, is the person's (one indexed lookup).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use expedientes_domain::MunicipalityCode;

use crate::problem::ApiError;
use crate::state::AppState;

/// The key, read once per process.
#[derive(Clone)]
pub struct PersonKey {
    key: [u8; 32],
}

impl std::fmt::Debug for PersonKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonKey").finish_non_exhaustive()
    }
}

/// What kind of person stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonStream {
    /// The padrón inscription (`padron_inscription`).
    Inscription,
    /// The municipal user account (`user_account`).
    Account,
}

impl PersonStream {
    fn stream_type(self) -> &'static str {
        match self {
            Self::Inscription => "padron_inscription",
            Self::Account => "user_account",
        }
    }

    /// The label of the earlier ids' names.
    fn legacy_label(self) -> &'static str {
        match self {
            Self::Inscription => "padron",
            Self::Account => "user_account",
        }
    }
}

impl PersonKey {
    /// The id of `kind`'s stream for this document in this council.
    pub fn derive(&self, kind: PersonStream, tenant: &MunicipalityCode, document: &str) -> Uuid {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(kind.stream_type().as_bytes());
        mac.update(b"\0");
        mac.update(tenant.as_str().as_bytes());
        mac.update(b"\0");
        mac.update(normalised(document).as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        uuid::Builder::from_custom_bytes(bytes).into_uuid()
    }
}

fn normalised(document: &str) -> String {
    document.trim().to_ascii_uppercase()
}

/// The id streams of this kind had before the key (kept by streams already written under it).
fn legacy(kind: PersonStream, tenant: &MunicipalityCode, document: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!(
            "expedientes:{}:{tenant}:{}",
            kind.legacy_label(),
            normalised(document)
        )
        .as_bytes(),
    )
}

async fn key(state: &AppState) -> Result<&PersonKey, ApiError> {
    state
        .person_key
        .get_or_try_init(|| async {
            let key: Vec<u8> = sqlx::query_scalar(
                "SELECT key FROM person_stream_keys WHERE purpose = 'person_streams'",
            )
            .fetch_one(&state.pool)
            .await?;
            let key: [u8; 32] = key
                .try_into()
                .map_err(|_| ApiError::Internal("the person stream key is not 32 bytes".into()))?;
            Ok::<_, ApiError>(PersonKey { key })
        })
        .await
}

/// The stream id of a person's `kind` in a council: the keyed id, or the earlier one where a
/// stream was written under it.
pub async fn person_stream_id(
    state: &AppState,
    kind: PersonStream,
    tenant: &MunicipalityCode,
    document: &str,
) -> Result<Uuid, ApiError> {
    let key = key(state).await?;
    let id = key.derive(kind, tenant, document);
    // Always looked up, not only when the migration found old streams: an instance still running
    // the earlier code during a rolling deployment may write one after it.
    {
        let old = legacy(kind, tenant, document);
        let written: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT FROM events WHERE stream_id = $1 AND tenant = $2 AND stream_type = $3)",
        )
        .bind(old)
        .bind(tenant.as_str())
        .bind(kind.stream_type())
        .fetch_one(&state.pool)
        .await?;
        if written {
            return Ok(old);
        }
    }
    Ok(id)
}

/// A person's padrón inscription id in a council.
pub async fn inscription_id(
    state: &AppState,
    tenant: &MunicipalityCode,
    document: &str,
) -> Result<Uuid, ApiError> {
    person_stream_id(state, PersonStream::Inscription, tenant, document).await
}

/// A person's municipal account id in a council.
pub async fn account_id(
    state: &AppState,
    tenant: &MunicipalityCode,
    document: &str,
) -> Result<Uuid, ApiError> {
    person_stream_id(state, PersonStream::Account, tenant, document).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> PersonKey {
        PersonKey { key: [byte; 32] }
    }

    #[test]
    fn one_id_per_person_and_kind_that_the_key_decides() {
        let madrid: MunicipalityCode = "28079".parse().unwrap();
        let getafe: MunicipalityCode = "28065".parse().unwrap();
        let k = key(7);
        let a = k.derive(PersonStream::Inscription, &madrid, "12345678Z");
        assert_eq!(
            a,
            k.derive(PersonStream::Inscription, &madrid, " 12345678z ")
        );
        assert_ne!(a, k.derive(PersonStream::Account, &madrid, "12345678Z"));
        assert_ne!(a, k.derive(PersonStream::Inscription, &getafe, "12345678Z"));
        assert_ne!(a, k.derive(PersonStream::Inscription, &madrid, "87654321X"));
        // Without the key, the document does not give the id.
        assert_ne!(
            a,
            key(8).derive(PersonStream::Inscription, &madrid, "12345678Z")
        );
        assert_ne!(a, legacy(PersonStream::Inscription, &madrid, "12345678Z"));
    }

    #[test]
    fn the_earlier_ids_are_the_ones_streams_were_written_under() {
        let madrid: MunicipalityCode = "28079".parse().unwrap();
        assert_eq!(
            legacy(PersonStream::Inscription, &madrid, "12345678z"),
            Uuid::new_v5(&Uuid::NAMESPACE_URL, b"expedientes:padron:28079:12345678Z")
        );
    }
}

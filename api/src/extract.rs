//! Extractors whose failures are problem+json with a useful detail (axum's own answer in plain
//! text): JSON bodies, query strings, ids in paths, and the `If-Match` / `Idempotency-Key` headers.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::problem::{ApiError, FieldError};

/// A JSON body.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !is_json(content_type) {
            return Err(ApiError::UnsupportedMediaType(
                "send the body as JSON with Content-Type: application/json".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest(format!("the body could not be read: {e}"))
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// The longest string any field accepts (a field may accept less; the longest, a general
/// application's text, is 100,000 characters).
pub const MAX_STRING: usize = 100_000;

/// The longest part of a value a problem's detail repeats.
const DETAIL_MAX: usize = 300;

/// Cuts a text for a problem's detail, so that a huge value is never echoed.
pub fn clip(text: &str) -> String {
    if text.chars().count() <= DETAIL_MAX {
        return text.to_owned();
    }
    let cut: String = text.chars().take(DETAIL_MAX).collect();
    format!("{cut}…")
}

/// Refuses, naming the field, a string with a control character (other than a line break or a
/// tab) or longer than [`MAX_STRING`], anywhere in a JSON document, keys included.
fn check_strings(value: &serde_json::Value, path: &mut String) -> Result<(), ApiError> {
    let bad = |text: &str| {
        if text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            Some("control characters are not allowed".to_owned())
        } else if text.chars().count() > MAX_STRING {
            Some(format!("at most {MAX_STRING} characters"))
        } else {
            None
        }
    };
    let field = |path: &str| {
        if path.is_empty() {
            "(body)".to_owned()
        } else {
            path.to_owned()
        }
    };
    match value {
        serde_json::Value::String(text) => match bad(text) {
            Some(detail) => Err(ApiError::invalid_field(&field(path), detail)),
            None => Ok(()),
        },
        serde_json::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{index}]"));
                check_strings(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        serde_json::Value::Object(members) => {
            for (key, item) in members {
                if let Some(detail) = bad(key) {
                    return Err(ApiError::invalid_field(
                        &field(path),
                        format!("a key: {detail}"),
                    ));
                }
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&clip(key));
                check_strings(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Parses JSON: syntax errors are 400; control characters, overlong strings and wrong shapes are
/// 422 naming the field, without repeating more than a little of the value.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let document: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::BadRequest(format!(
            "the body is not valid JSON: {}",
            clip(&e.to_string())
        ))
    })?;
    check_strings(&document, &mut String::new())?;
    serde_path_to_error::deserialize(document).map_err(|error| {
        let path = error.path().to_string();
        let inner = clip(&error.into_inner().to_string());
        let field = if path == "." {
            "(body)".to_owned()
        } else {
            path
        };
        ApiError::Invalid {
            detail: format!("{field}: {inner}"),
            errors: vec![FieldError {
                field,
                detail: inner,
            }],
        }
    })
}

/// A query string.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded_from_str(query).map(ApiQuery)
    }
}

fn serde_urlencoded_from_str<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(&format!("/?{query}").parse().expect("a valid URI"))
        .map(|q| q.0)
        .map_err(|e| ApiError::BadRequest(format!("invalid query parameters: {}", e.body_text())))
}

/// Parses a resource id from a path segment; a malformed id names nothing, hence 404.
pub fn resource_id(raw: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound(format!("no such {what}")))
}

/// The `If-Match` header as a stream version (`"3"` or `W/"3"`), if sent.
pub fn if_match(parts: &axum::http::HeaderMap) -> Result<Option<i32>, ApiError> {
    let Some(value) = parts.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::BadRequest("If-Match is not valid text".into()))?
        .trim();
    if text == "*" {
        return Ok(None);
    }
    let text = text.strip_prefix("W/").unwrap_or(text);
    text.trim_matches('"')
        .parse::<i32>()
        .ok()
        .filter(|v| *v >= 0)
        .map(Some)
        .ok_or_else(|| {
            ApiError::BadRequest("If-Match must be an ETag this API returned, like \"3\"".into())
        })
}

/// The `Idempotency-Key` header, if sent (1 to 255 visible ASCII characters).
pub fn idempotency_key(headers: &axum::http::HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::BadRequest("Idempotency-Key must be visible ASCII".into()))?
        .trim()
        .trim_matches('"');
    if text.is_empty() || text.len() > 255 {
        return Err(ApiError::BadRequest(
            "Idempotency-Key must be 1 to 255 characters".into(),
        ));
    }
    Ok(Some(text.to_owned()))
}

/// Whether a `Content-Type` is JSON: `application/json` or `application/<something>+json`, with
/// parameters (a charset) allowed, compared exactly (`application/jsonp` is not JSON).
pub fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.split_once('/') {
        Some(("application", "json")) => true,
        Some(("application", subtype)) => {
            subtype.ends_with("+json") && subtype.len() > "+json".len()
        }
        _ => false,
    }
}

/// Refuses a body that is not declared as JSON.
pub fn require_json(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if is_json(content_type) {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(
            "send the body as JSON with Content-Type: application/json".into(),
        ))
    }
}

/// A date of birth that makes sense: not after `today`, and within the last 130 years.
pub fn birth_date(
    field: &str,
    date: chrono::NaiveDate,
    today: chrono::NaiveDate,
) -> Result<chrono::NaiveDate, ApiError> {
    let earliest = today
        .checked_sub_months(chrono::Months::new(130 * 12))
        .unwrap_or(today);
    if date > today || date < earliest {
        return Err(ApiError::invalid_field(
            field,
            format!("a date of birth from {earliest} to {today}"),
        ));
    }
    Ok(date)
}

/// A date of something that already happened: not after `today`, and not before `since` (the act
/// it follows).
pub fn past_date(
    field: &str,
    date: chrono::NaiveDate,
    since: chrono::NaiveDate,
    today: chrono::NaiveDate,
) -> Result<chrono::NaiveDate, ApiError> {
    date_between(field, date, since, today)
}

/// How far ahead an effect may be dated (a removal recorded ahead of the day it takes effect).
pub const EFFECT_DAYS_AHEAD: u64 = 31;

/// The date an effect takes effect: not before `since` (the act it follows), and not further
/// ahead of `today` than [`EFFECT_DAYS_AHEAD`].
pub fn effect_date(
    field: &str,
    date: chrono::NaiveDate,
    since: chrono::NaiveDate,
    today: chrono::NaiveDate,
) -> Result<chrono::NaiveDate, ApiError> {
    let latest = today + chrono::Days::new(EFFECT_DAYS_AHEAD);
    date_between(field, date, since, latest)
}

fn date_between(
    field: &str,
    date: chrono::NaiveDate,
    since: chrono::NaiveDate,
    until: chrono::NaiveDate,
) -> Result<chrono::NaiveDate, ApiError> {
    if date > until || date < since {
        return Err(ApiError::invalid_field(
            field,
            format!("a date from {since} (the act it follows) to {until}"),
        ));
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn json_media_types_are_matched_exactly() {
        for yes in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/problem+json",
            "application/merge-patch+json ; charset=UTF-8",
        ] {
            assert!(is_json(yes), "{yes}");
        }
        for no in [
            "",
            "application/jsonp",
            "application/json-seq",
            "application/+json",
            "text/json",
            "application/x-www-form-urlencoded",
            "application/jsonx; charset=utf-8",
        ] {
            assert!(!is_json(no), "{no}");
        }
    }
}

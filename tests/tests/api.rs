//! End-to-end tests of the HTTP API.
//!
//! Each test builds the application the way production does (`connect` with the runtime role,
//! `build_state`, `router`) over its own freshly migrated database, with a
//! [`ManualClock`](expedientes_projections::ManualClock) that the test drives forward (nothing
//! sleeps to let time pass), and sends requests through the whole router in-process with
//! `tower::ServiceExt::oneshot`: authentication, extractors, problem details, middleware, the event
//! log and the read models all take part.
//!
//! Layout: this file only declares the modules of the one test binary, each in `api/`.
//! - `support`: the helpers every suite shares (the app under test, the people and councils, a
//!   request builder, replies, the problem-details assertions, domain shortcuts, the legal
//!   calendar), brought in here so that each suite's `use super::*;` finds them;
//! - one suite per concern or procedure:
//!   - `access`: who may see what (citizens, representatives, token spellings, auditors, tenants)
//!     and authentication;
//!   - `requests`: malformed requests get problems, never a 500;
//!   - `general_application`: the general application's whole life, the caseworkers' list, the
//!     procedure's refusals in words (409);
//!   - `concurrency`: `ETag`/`If-Match`/`If-None-Match`, `Idempotency-Key` retries, retries racing
//!     their first attempt, more clients than pool connections, reading one's own write while
//!     other transactions run;
//!   - `operations`: health, readiness, metrics and OpenAPI endpoints, deadlines, the audit
//!     stream's verification and paging;
//!   - `accounts` (user accounts), `timers` (deadline timers), `calendars` (the council's holiday
//!     calendar), `padron` (inscription, renewal, lapse), `openapi` (the pipeline's guarantees over
//!     every operation of the document, and the document itself), `rebuild` (rebuilds never act
//!     twice), `registry` (each procedure's files carry its own SIA code).

#[path = "api/support.rs"]
mod support;
use support::*;

#[path = "api/access.rs"]
mod access;

#[path = "api/requests.rs"]
mod requests;

#[path = "api/general_application.rs"]
mod general_application;

#[path = "api/concurrency.rs"]
mod concurrency;

#[path = "api/operations.rs"]
mod operations;

#[path = "api/accounts.rs"]
mod accounts;

#[path = "api/timers.rs"]
mod timers;

#[path = "api/calendars.rs"]
mod calendars;

#[path = "api/padron.rs"]
mod padron;

#[path = "api/openapi.rs"]
mod openapi;

#[path = "api/rebuild.rs"]
mod rebuild;

#[path = "api/registry.rs"]
mod registry;

#[path = "api/read_models.rs"]
mod read_models;

#[path = "api/connections.rs"]
mod connections;

/// Registry entries, receipts and the public check of a verification code (arts. 16, 27, 31).
#[path = "api/registry_book.rs"]
mod registry_book;

/// Documents and the electronic index (arts. 26-28, 70).
#[path = "api/documents.rs"]
mod documents;

/// Representation on record (arts. 5–6): filings in another's name.
#[path = "api/representations.rs"]
mod representations;

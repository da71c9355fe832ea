//! Read models built from the event log, and the runner that keeps them up to date.
//!
//! A read model declares which stream types it handles and which tables it owns; the [`Runner`]
//! feeds it batches of events in the log's commit-safe reading order and commits its rows together
//! with its checkpoint, so each event takes effect exactly once even across restarts and several
//! service instances. A model can be rebuilt from position 0 into fresh tables that are swapped in
//! when they have caught up, so readers never see an empty model.
//!
//! Sits between `eventlog` (what it reads) and `api` (which queries the tables).

pub mod accounts;
pub mod case_view;
pub mod certificates;
pub mod clock;
pub mod documents;
pub mod notifications;
pub mod outbox;
pub mod padron;
pub mod registry;
pub mod registry_book;
pub mod representations;
mod runner;
pub mod timers;

pub use accounts::Accounts;
pub use case_view::{CaseRow, CaseView};
pub use certificates::PadronCertificates;
pub use clock::{Clock, ManualClock, SystemClock};
pub use documents::CaseDocuments;
pub use notifications::Notifications;
pub use outbox::Outbox;
pub use padron::PadronRegister;
pub use registry::{Registered, Registry};
pub use registry_book::RegistryBook;
pub use representations::Representations;
pub use runner::{Lag, ProjectionError, ReadModel, RebuildEffects, Runner, SetAside, Tables};
pub use timers::{Scheduler, SchedulerPass, TimerStats, Timers};

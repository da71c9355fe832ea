//! The parts of the common administrative procedure (Ley 39/2015, LPAC) that every procedure
//! shares: registry entries and their receipts, the maximum time to resolve and what silence
//! means, resolutions with their appeals, and representation. A procedure's events carry these
//! values; the read models (the registry book, the case view) read them through the
//! [`crate::Procedure`] trait, so each part is built once.

pub mod correction;
pub mod document;
pub mod notification;
pub mod registry;
pub mod representation;
pub mod resolution;
pub mod silence;

pub use correction::Correction;
pub use registry::{RegistryEntry, SubmissionKind};
pub use resolution::{Appeal, AppealKind, Reasons};
pub use silence::{MaximumTime, SilenceMeaning};

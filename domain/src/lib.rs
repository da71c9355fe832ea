//! The pure domain of *expedientes*: procedures as [`esrs::Aggregate`]s, the value types they are
//! made of, and the legal calendar used to compute deadlines.
//!
//! Nothing here touches a database, the network or the clock: everything a decision needs from
//! outside is resolved by the caller and carried in the command. This crate is the bottom of the
//! dependency chain `api -> projections -> eventlog -> domain`.

pub mod calendar;
pub mod council_calendar;
pub mod general_application;
pub mod identity;
pub mod lpac;
pub mod padron;
pub mod procedure;
pub mod testing;
pub mod user_account;
pub mod values;
pub mod vehicle_crossing;

pub use procedure::{
    deadline_data, CaseEffect, CaseParty, DeadlineRule, FollowUp, Notice, NoticeChannel,
    NoticeRecipient, PartyRole, Procedure, TimerContext, TimerEffect,
};
pub use values::{
    CaseNumber, DocumentNumber, MunicipalityCode, ParseError, RegistryDirection, RegistryNumber,
    SiaCode, VerificationCode,
};

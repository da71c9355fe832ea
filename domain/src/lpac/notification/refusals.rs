//! Why a notification refuses a command.

use chrono::NaiveDate;

/// A notification's refusals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Issued once.
    #[error("the notification was already issued")]
    AlreadyIssued,
    /// Nothing to act on.
    #[error("no such notification")]
    NotIssued,
    /// Electronic and paper notifications need a known addressee; an edict for an unknown one
    /// must not name one.
    #[error("{0}")]
    Addressee(&'static str),
    /// A paper notification needs its address.
    #[error("a paper notification needs the address it is sent to")]
    AddressMissing,
    /// The act needs its summary and text.
    #[error("the act notified needs its summary and its text")]
    ActIncomplete,
    /// The step does not fit the channel or where the notification is.
    #[error("not possible now: {0}")]
    NotNow(&'static str),
    /// It already took effect.
    #[error("the notification already took effect on {0}")]
    AlreadyTookEffect(NaiveDate),
    /// A date before what it follows.
    #[error("{what} cannot be before {earliest}")]
    TooEarly {
        /// Which date.
        what: &'static str,
        /// The earliest day allowed.
        earliest: NaiveDate,
    },
    /// A date ahead of today.
    #[error("{0} cannot be in the future")]
    InFuture(&'static str),
    /// The second paper attempt must be within three days and at another time (art. 42.2).
    #[error("the second attempt must be within the three days after the first, on the other side of 15:00 and at least three hours apart (art. 42.2)")]
    SecondAttemptOutOfRule,
    /// The edict only after two failed attempts, or when the addressee or address is unknown.
    #[error("the edict comes after two failed delivery attempts, an addressee unknown at the address, or when the addressee or the address is unknown (art. 44)")]
    EdictNotYet,
    /// The BOE reference is needed.
    #[error("the edict needs the BOE's reference of the announcement")]
    EdictReferenceMissing,
    /// Only the addressee may open it.
    #[error("only the addressee may open this notification")]
    NotTheAddressee,
    /// The timer came early (or for an older setting).
    #[error("not yet: the period ends on {0}")]
    NotDue(NaiveDate),
}

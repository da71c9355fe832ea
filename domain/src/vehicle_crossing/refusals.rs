//! Why a vehicle-crossing command is refused, in words a caseworker understands.

use chrono::NaiveDate;

use super::values::Requirement;

/// A refusal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Apply on a file that exists.
    #[error("this file was already filed")]
    AlreadyApplied,
    /// Any command but Apply on an empty stream.
    #[error("there is no such vehicle-crossing file")]
    NotApplied,
    /// A command on a closed file.
    #[error("the file is closed ({0})")]
    Closed(&'static str),
    /// Apply with something missing or wrong.
    #[error("the application is incomplete: {0}")]
    Incomplete(&'static str),
    /// A provisional term that is not in the future, or one missing for works.
    #[error("{0}")]
    Term(&'static str),
    /// A document for an item this file does not need.
    #[error("this file does not need {}", .0.describe())]
    NotRequired(Requirement),
    /// Review of an item with nothing brought, or already accepted.
    #[error("there is no document waiting to be checked for {}", .0.describe())]
    NothingToReview(Requirement),
    /// A document for an item already accepted.
    #[error("{} was already accepted", .0.describe())]
    AlreadyAccepted(Requirement),
    /// The documentation is complete: documents no longer change the application.
    #[error("the documentation is complete: the council is resolving")]
    DocumentationComplete,
    /// A request to fix with nothing missing or rejected.
    #[error("nothing is missing or rejected: check the documents brought, or resolve")]
    NothingToFix,
    /// A request to fix while one runs.
    #[error("a request to bring the documents is already running")]
    RectificationRunning,
    /// The effect of a notification that is not the running request's.
    #[error("that notification is not the request to bring the documents that is running")]
    NotThisRequest,
    /// The period timer of another period, or before it ended.
    #[error("no period to bring the documents ends on {0}")]
    StalePeriod(NaiveDate),
    /// Resolve while the applicant still has time.
    #[error("the applicant has until {0} to bring the documents; resolve after that")]
    AwaitingApplicant(NaiveDate),
    /// Resolve while the request is being notified.
    #[error("the request to bring the documents has not taken effect yet")]
    RectificationBeingNotified,
    /// Grant or deny before the documentation is complete.
    #[error("the documentation is not complete: accept every document, ask for what is missing (art. 68.1 LPAC), or declare the desistimiento when the period ended")]
    DocumentationIncomplete,
    /// Grant or deny while the desistimiento is proposed.
    #[error("the period to bring the documents ended without them: declare the desistimiento (art. 68.1 LPAC)")]
    DesistimientoPending,
    /// Desistimiento without a period that ended unanswered.
    #[error("desistimiento is declared only when the period to bring the documents ended without them (art. 68.1 LPAC)")]
    NoDesistimientoProposed,
    /// A grant of an authorisation without its liquidation.
    #[error("a granted authorisation carries its liquidation")]
    NoLiquidation,
    /// A grant with works by the applicant without the deposit's amount.
    #[error("with works by the applicant, say the cost of restoring the pavement, road and street furniture: the deposit must cover it")]
    NoRestorationCost,
    /// The maximum-time timer of another day, or before it passed.
    #[error("the time to resolve does not end on {0}, or has not passed")]
    StaleMaximumTime(NaiveDate),
    /// Silence recorded twice.
    #[error("the effect of the silence was already recorded")]
    SilenceAlreadyReached,
    /// A step of the authorisation while the file is not at it.
    #[error("{0}")]
    NotAtThisStep(&'static str),
    /// A payment of another amount.
    #[error("the liquidation to pay is {0}")]
    WrongAmount(String),
    /// Already recorded.
    #[error("{0} was already recorded")]
    AlreadyRecorded(&'static str),
    /// Insurance under the minimum, with an excess, or expired.
    #[error("the insurance must cover at least 300,000 euros per claim, without excess, for the works and their guarantee period: {0}")]
    InsuranceInsufficient(&'static str),
    /// A deposit under the restoration cost.
    #[error("the deposit must be at least the cost of restoring the pavement: {0}")]
    DepositInsufficient(String),
    /// Issuing before what must precede it.
    #[error("the authorisation is not issued until {0} is recorded")]
    PrerequisiteMissing(&'static str),
    /// A crossing command on a file that is not an authorised crossing.
    #[error("this is not an authorised crossing in force")]
    NotAuthorised,
    /// A modification with works.
    #[error("a modification with works is a new authorisation: apply for one naming this crossing as the one it replaces")]
    ModificationWithWorks,
    /// A day that makes no sense.
    #[error("{0}")]
    Date(&'static str),
    /// Extension of a permanent crossing, or after the term, or twice.
    #[error("{0}")]
    Extension(&'static str),
    /// The term timer while an extension is being decided, or of another term.
    #[error("the provisional term does not end on {0}, or an extension of it is being decided")]
    TermNotEnding(NaiveDate),
    /// The effect of a notification this file does not expect.
    #[error("that notification is not one this file is waiting for")]
    UnknownNotification,
    /// The sign's timer of another day, or before it passed.
    #[error("the sign is not due on {0}, or its month has not passed")]
    StaleSign(NaiveDate),
    /// Withdraw after the resolution.
    #[error("the application is resolved: it can no longer be withdrawn")]
    AlreadyResolved,
}

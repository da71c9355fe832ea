//! Why a general application's command is refused, in words a caseworker understands.

use chrono::NaiveDate;

/// A refusal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A calendar move for a deadline that no longer runs, or that already moved.
    #[error("that deadline is not running with that last day")]
    DeadlineNotRunning,
    /// Submit on a file that exists.
    #[error("this file was already submitted")]
    AlreadySubmitted,
    /// Any command but Submit on an empty stream.
    #[error("there is no such application")]
    NotSubmitted,
    /// A command on a closed file.
    #[error("the file is closed ({0})")]
    Closed(&'static str),
    /// Submit without an interested party, or with an empty subject.
    #[error("the application is incomplete: {0}")]
    Incomplete(&'static str),
    /// Subsanación requested while one is already running.
    #[error("a request to fix the application is already running until {0}")]
    RectificationAlreadyRunning(NaiveDate),
    /// Extend, or resolve, while the request to fix is still being notified.
    #[error("the request to fix the application has not been notified yet: its period starts the day after it takes effect (art. 68.1 LPAC)")]
    RectificationBeingNotified,
    /// The effect of a notification that is not the running request's.
    #[error("that notification is not the request to fix the application that is running")]
    NotThisRequest,
    /// A correction of a fix that is not the file's last step.
    #[error("only the file's last step can be corrected as a material error, when it is a fix: what followed it is reviewed by its own means")]
    NothingToCorrect,
    /// A correction of a fix recorded before the request to fix had taken effect.
    #[error("that fix was recorded before the request to fix had been notified: to ask for the fix again, make a new request")]
    FixedBeforeNotified,
    /// Rectify, extend or close the period while none is running.
    #[error("no request to fix the application is running")]
    NoRectificationRunning,
    /// A second extension, or one to an earlier day.
    #[error("the period to fix the application can be extended only once, to a later day")]
    ExtensionNotAllowed,
    /// The timer for an older period fired.
    #[error("the period ending on {0} is not the one running")]
    StalePeriod(NaiveDate),
    /// The period has not ended yet.
    #[error("the period to fix the application runs until {0}")]
    PeriodStillRunning(NaiveDate),
    /// Resolve while the applicant still has time to fix the application.
    #[error("the applicant has until {0} to fix the application; resolve after that")]
    AwaitingApplicant(NaiveDate),
    /// Grant or deny while the desistimiento is proposed.
    #[error("the period to fix the application ended without a fix: declare the desistimiento (art. 68.1 LPAC), or record the late fix first (art. 73.3)")]
    DesistimientoPending,
    /// Declare the desistimiento when the period did not end unanswered.
    #[error("desistimiento is declared only when the period to fix the application ended without a fix (art. 68.1 LPAC)")]
    NoDesistimientoProposed,
    /// Deny after the application was granted by silence.
    #[error("the application was granted by administrative silence when its maximum time ended on {0}: a later resolution may only confirm it (art. 24.3.a LPAC)")]
    GrantedBySilence(NaiveDate),
    /// The maximum-time timer of another last day, or one that fired while the time is suspended.
    #[error("the maximum time to resolve does not end on {0}")]
    StaleMaximumTime(NaiveDate),
    /// The maximum time has not passed yet.
    #[error("the maximum time to resolve runs until {0}")]
    MaximumTimeRunning(NaiveDate),
    /// The silence was already recorded.
    #[error("the effect of the silence was already recorded")]
    SilenceAlreadyReached,
}

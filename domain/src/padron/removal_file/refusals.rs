//! Why a removal-file command is refused.

use chrono::NaiveDate;

/// Why a removal-file command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileRefusal {
    /// Open twice.
    #[error("the file is already open")]
    AlreadyOpen,
    /// Anything on a file never opened.
    #[error("there is no such removal file")]
    NotOpened,
    /// The file is over.
    #[error("the file is closed ({0})")]
    Closed(&'static str),
    /// A request without whereabouts.
    #[error("a request for removal must say what is known of the person's whereabouts")]
    WhereaboutsMissing,
    /// A step out of order.
    #[error("not possible at this stage of the file ({0})")]
    WrongStage(&'static str),
    /// Removal without agreement nor favourable report.
    #[error("without the person's express agreement, removal needs the Consejo de Empadronamiento's favourable report")]
    ReportNeeded,
    /// Resolving while the person still has time.
    #[error("the person has until {0} to regularise or allege")]
    HearingRunning(NaiveDate),
    /// After the maximum time, only the lapse may be declared.
    #[error("the maximum time has passed: the file's lapse is to be declared (art. 25.1.b LPAC); a new file may be opened if the removal still applies (art. 95.3)")]
    LapseProposed,
    /// Declaring a lapse not proposed.
    #[error("the lapse is declared only once the maximum time has passed")]
    LapseNotProposed,
    /// A correction of something that is not the file's last step, or not the person's
    /// agreement or allegations.
    #[error("only the file's last step can be corrected as a material error, when it is the person's agreement or allegations")]
    NothingToCorrect,
    /// A lapse timer before its day, or for another day.
    #[error("the maximum time runs until {0}")]
    NotLapsedYet(NaiveDate),
}

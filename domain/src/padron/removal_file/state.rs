//! Where a removal file is, rebuilt from its events.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The stage of a removal file.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum FileStage {
    /// Not opened.
    #[default]
    NotOpened,
    /// Opened; the notification is being delivered.
    Notifying,
    /// Notified: the person has 15 business days to regularise or allege.
    Hearing,
    /// Waiting for the Consejo de Empadronamiento's report (the maximum-time clock is suspended).
    AwaitingReport,
    /// Ready to resolve.
    ToResolve,
    /// Resolved with removal.
    Removed,
    /// Archived (the person still lives there, or regularised).
    Archived,
    /// The maximum time passed without resolution: the lapse is proposed, to be declared by
    /// resolution (art. 25.1.b).
    LapseProposed,
    /// Lapsed: declared by resolution (or, in older files, by the timer).
    Lapsed,
}

impl FileStage {
    /// Whether the file is over.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            FileStage::Removed | FileStage::Archived | FileStage::Lapsed
        )
    }
}

/// The state of a removal file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileState {
    /// Stage.
    pub stage: FileStage,
    /// The inscription it concerns.
    pub inscription: Option<Uuid>,
    /// The last day to regularise or allege.
    pub hearing_due: Option<NaiveDate>,
    /// The person agreed expressly to the removal.
    pub agreed: bool,
    /// The Consejo's report, once received.
    pub report_favourable: Option<bool>,
    /// The last day of the maximum time to resolve (moved by suspensions).
    pub max_time_due: Option<NaiveDate>,
    /// When the Consejo's report was requested, while it is awaited.
    pub report_requested_on: Option<NaiveDate>,
    /// The maximum time's last day if the report does not come, while it is awaited.
    pub max_time_due_if_unanswered: Option<NaiveDate>,
    /// How the maximum time's last day is counted, with its suspensions (absent in older files).
    pub max_time_rule: Option<crate::procedure::DeadlineRule>,
    /// How the hearing's last day is counted.
    pub hearing_rule: Option<crate::procedure::DeadlineRule>,
    /// The hearing as it stood before the person's agreement or allegations were recorded, while
    /// that is the file's last step: what a correction of it restores (art. 109.2).
    pub before_hearing_fact: Option<HearingAsItStood>,
}

/// The hearing of a removal file as it stood: what a correction of an agreement or allegations
/// recorded by mistake restores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HearingAsItStood {
    /// In the hearing, or to be resolved (the hearing over).
    pub stage: FileStage,
    /// The hearing's last day.
    pub hearing_due: Option<NaiveDate>,
    /// How it is counted.
    pub hearing_rule: Option<crate::procedure::DeadlineRule>,
    /// Whether the person had agreed.
    pub agreed: bool,
}

impl FileState {
    /// The maximum time's last day, and how it is counted, once the wait for the report that
    /// began on `report_requested_on` ends on `until` (art. 22.1.d).
    pub fn resumed_maximum_time(
        &self,
        until: NaiveDate,
        calendar: &crate::calendar::HolidayCalendar,
        seat: &str,
    ) -> Result<(NaiveDate, Option<crate::procedure::DeadlineRule>), crate::calendar::CalendarError>
    {
        crate::procedure::resumed_after_suspension(
            self.max_time_rule.as_ref(),
            self.max_time_due,
            None,
            self.report_requested_on.unwrap_or(until),
            until,
            calendar,
            seat,
        )
    }

    /// The maximum time moved by the calendar days the report has been awaited until `on`: only
    /// for files whose request did not carry the day computed with the legal calendar.
    pub(super) fn resumed_due(&self, on: NaiveDate) -> NaiveDate {
        let current = self.max_time_due.unwrap_or(on);
        let suspended = self
            .report_requested_on
            .map_or(0, |requested| (on - requested).num_days().max(0) as u64);
        current + chrono::Days::new(suspended)
    }
}

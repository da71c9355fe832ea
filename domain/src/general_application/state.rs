//! The state of a general application, rebuilt from its events.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use uuid::Uuid;

use crate::calendar::{CalendarError, HolidayCalendar};
use crate::lpac::notification::Delivery;
use crate::lpac::SilenceMeaning;
use crate::procedure::{CaseParty, DeadlineRule};

/// The life of a general application.
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
pub enum Stage {
    /// Nothing submitted yet (an empty stream).
    #[default]
    NotSubmitted,
    /// Submitted and waiting for the council.
    Submitted,
    /// The applicant was asked to fix the application (subsanación) and the period is running.
    AwaitingRectification,
    /// The period to fix the application ended without a fix: the council must declare the
    /// withdrawal by resolution (art. 68.1); a fix that arrives before that still counts
    /// (art. 73.3).
    DesistimientoProposed,
    /// Resolved: granted.
    Granted,
    /// Resolved: denied.
    Denied,
    /// Withdrawn by the applicant.
    Withdrawn,
    /// Declared withdrawn because the application was not fixed in time (desistimiento,
    /// art. 68.1).
    DeemedWithdrawn,
}

impl Stage {
    /// Its code as stored in read models.
    pub fn code(self) -> &'static str {
        self.into()
    }

    /// Whether the file is closed.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            Stage::Granted | Stage::Denied | Stage::Withdrawn | Stage::DeemedWithdrawn
        )
    }
}

/// The state rebuilt from a file's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// Where the file is.
    pub stage: Stage,
    /// The parties (applicant first).
    pub parties: Vec<CaseParty>,
    /// The applicant's municipality of residence, when known (art. 30.6).
    pub residence: Option<crate::MunicipalityCode>,
    /// The running subsanación period's last day, if any.
    pub rectification_due: Option<NaiveDate>,
    /// Whether the subsanación period was already extended once (art. 68.2).
    pub rectification_extended: bool,
    /// The last day of the maximum time to resolve as it stands (while suspended, as it stood
    /// when the suspension began).
    pub resolution_due: Option<NaiveDate>,
    /// The day the maximum time was suspended (the request to fix was notified), while it is.
    pub suspended_on: Option<NaiveDate>,
    /// The last day of the maximum time if the period to fix ends without a fix (the suspension
    /// then lasts until the period's end, art. 22.1.a).
    pub resolution_due_if_unanswered: Option<NaiveDate>,
    /// The meaning of the silence once the maximum time passed without a resolution.
    pub silence_reached: Option<SilenceMeaning>,
    /// How the applicant is notified.
    pub notify_by: Delivery,
    /// How the maximum time's last day is counted, with its suspensions (absent in older files).
    pub max_time_rule: Option<DeadlineRule>,
    /// What the running request to fix asks for.
    pub rectification_what: Option<String>,
    /// The notification of the running request to fix, until it takes effect.
    pub rectification_notification: Option<Uuid>,
    /// How the running period to fix is counted (absent in older files).
    pub rectification_rule: Option<DeadlineRule>,
    /// The period to fix as it stood before the last fix, while that fix is the file's last
    /// step: what a correction of that fix restores (art. 109.2).
    pub before_fix: Option<PeriodToFix>,
}

/// The period to fix an application as it stood: what a correction of a fix recorded by
/// mistake restores (the period, its suspension of the maximum time, the desistimiento proposed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodToFix {
    /// Awaiting the fix, or the desistimiento proposed.
    pub stage: Stage,
    /// What the request asked for.
    pub what: Option<String>,
    /// The period's last day, while it ran.
    pub due: Option<NaiveDate>,
    /// How it is counted.
    pub rule: Option<DeadlineRule>,
    /// Whether it had been extended.
    pub extended: bool,
    /// The day the maximum time stood still from, while it did.
    pub suspended_on: Option<NaiveDate>,
    /// The maximum time's last day if the period ends unanswered.
    pub resolution_due_if_unanswered: Option<NaiveDate>,
    /// The maximum time's last day as it stood.
    pub resolution_due: Option<NaiveDate>,
    /// How it is counted.
    pub max_time_rule: Option<DeadlineRule>,
}

impl State {
    /// The period to fix as it stands (before a fix).
    pub fn period_to_fix(&self) -> PeriodToFix {
        PeriodToFix {
            stage: self.stage,
            what: self.rectification_what.clone(),
            due: self.rectification_due,
            rule: self.rectification_rule.clone(),
            extended: self.rectification_extended,
            suspended_on: self.suspended_on,
            resolution_due_if_unanswered: self.resolution_due_if_unanswered,
            resolution_due: self.resolution_due,
            max_time_rule: self.max_time_rule.clone(),
        }
    }

    /// The maximum time's last day, and how it is counted, once it stood still from `from` to
    /// `until` (art. 22.1.a): the suspended business days move it, at the seat and at the
    /// applicant's residence (art. 30.6), so it lands on a business day (art. 30.5).
    pub fn resumed_maximum_time(
        &self,
        from: NaiveDate,
        until: NaiveDate,
        calendar: &HolidayCalendar,
        seat: &str,
    ) -> Result<(NaiveDate, Option<DeadlineRule>), CalendarError> {
        crate::procedure::resumed_after_suspension(
            self.max_time_rule.as_ref(),
            self.resolution_due,
            self.residence.as_ref().map(|r| r.as_str()),
            from,
            until,
            calendar,
            seat,
        )
    }
}

impl Default for State {
    fn default() -> Self {
        Self {
            stage: Stage::default(),
            parties: Vec::new(),
            residence: None,
            rectification_due: None,
            rectification_extended: false,
            resolution_due: None,
            suspended_on: None,
            resolution_due_if_unanswered: None,
            silence_reached: None,
            notify_by: Delivery::Electronic,
            max_time_rule: None,
            rectification_what: None,
            rectification_notification: None,
            rectification_rule: None,
            before_fix: None,
        }
    }
}

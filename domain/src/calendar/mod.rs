//! The legal calendar of Ley 39/2015 (LPAC): which days are business days (días hábiles) and when
//! a deadline ends.
//!
//! Every due date in the system comes from here, never from `now + n * 24h`. The rules are those of
//! art. 30 LPAC (counting), art. 31 (the electronic registry's non-business days), art. 22
//! (suspensions) and art. 32 (extensions):
//!
//! * **Hours** (30.1): every hour of a business day counts, minute by minute from the notification;
//!   non-business days are skipped whole; at most 24 hours.
//! * **Business days** (30.2, 30.3): Saturdays, Sundays and declared holidays do not count; the count
//!   starts the day after the notification.
//! * **Calendar days** (días naturales, 30.2): every day counts, but a last day that is not a
//!   business day still moves (30.5).
//! * **Months and years** (30.4): date to date, ending on the same day number as the notification
//!   (or the last day of the month if that day does not exist).
//! * **Last day** (30.5): a last day that is not a business day moves to the next business day.
//! * **Two places** (30.6): a holiday in the body's seat *or* in the person's residence is a holiday
//!   for the deadline.
//!
//! The holidays are data, published yearly (30.7), loaded from JSON (see [`YearCalendar`] for the
//! format) and compiled in by [`HolidayCalendar::bundled`]. This module does no IO: persisting
//! changes made at runtime ([`HolidayCalendar::upsert_year`], [`HolidayCalendar::set_local_days`]) is
//! the caller's job.
//!
//! A year, community or municipality with no known calendar is never silently treated as having no
//! holidays: the result carries a warning naming what is missing. Every result also explains itself
//! with the days it excluded and the steps it took, each citing its article.
//!
//! ```
//! use chrono::NaiveDate;
//! use expedientes_domain::calendar::{DeadlineRequest, HolidayCalendar, Unit};
//!
//! let calendar = HolidayCalendar::bundled();
//! let result = calendar
//!     .compute(&DeadlineRequest {
//!         from: NaiveDate::from_ymd_opt(2026, 5, 14).unwrap(),
//!         at: None,
//!         amount: 1,
//!         unit: Unit::BusinessDays,
//!         seat: Some("28079".into()),
//!         residence: None,
//!     })
//!     .unwrap();
//! // 15 May is San Isidro in Madrid, then a weekend.
//! assert_eq!(result.due_date, NaiveDate::from_ymd_opt(2026, 5, 18).unwrap());
//! ```

mod data;
mod deadline;
mod places;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};

pub use data::{HolidayCalendar, IslandDays, LocalDays, YearCalendar};
pub use deadline::{add_months_clamped, EffectiveFiling, Suspension};
pub use places::{Place, Places};

/// The unit a deadline is expressed in. Parses from and serialises as `business-days`,
/// `calendar-days`, `months`, `years` or `hours`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Unit {
    /// Días hábiles: Saturdays, Sundays and holidays do not count (art. 30.2).
    BusinessDays,
    /// Días naturales: every day counts, only when a law says so (art. 30.2).
    CalendarDays,
    /// Months, date to date (art. 30.4).
    Months,
    /// Years, date to date (art. 30.4).
    Years,
    /// Business hours, at most 24 (art. 30.1).
    Hours,
}

impl Unit {
    /// All units, in a stable order.
    pub const ALL: [Unit; 5] = [
        Unit::BusinessDays,
        Unit::CalendarDays,
        Unit::Months,
        Unit::Years,
        Unit::Hours,
    ];

    /// The kebab-case name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// `amount` of this unit in plain English ("1 business day", "2 months").
    pub fn describe(self, amount: u32) -> String {
        let (one, many) = match self {
            Unit::BusinessDays => ("business day", "business days"),
            Unit::CalendarDays => ("calendar day", "calendar days"),
            Unit::Months => ("month", "months"),
            Unit::Years => ("year", "years"),
            Unit::Hours => ("hour", "hours"),
        };
        format!("{amount} {}", if amount == 1 { one } else { many })
    }

    /// The largest amount accepted, so that a typo cannot send the counter across centuries.
    /// Hours have their own legal limit ([`MAX_HOURS`]).
    fn max_amount(self) -> u32 {
        match self {
            Unit::BusinessDays | Unit::CalendarDays => 10_000,
            Unit::Months => 1_200,
            Unit::Years => 100,
            Unit::Hours => MAX_HOURS,
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Unit {
    type Err = CalendarError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Unit::ALL
            .into_iter()
            .find(|unit| unit.as_str() == s)
            .ok_or_else(|| CalendarError::UnknownUnit(s.chars().take(64).collect()))
    }
}

/// A deadline expressed in hours may not be longer than this (art. 30.1): longer ones are in days.
pub const MAX_HOURS: u32 = 24;

/// What to compute: `amount` `unit`s from the notification (or publication) on `from`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineRequest {
    /// The day of the notification or publication that starts the deadline.
    pub from: NaiveDate,
    /// The time of the notification; required for [`Unit::Hours`], ignored otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<NaiveTime>,
    /// How many units; at least 1.
    pub amount: u32,
    /// The unit of `amount`.
    pub unit: Unit,
    /// INE code of the municipality where the body has its seat (normally the council itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seat: Option<String>,
    /// INE code of the municipality where the interested person resides (art. 30.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residence: Option<String>,
}

/// A day that did not count, and why ("Saturday", "national holiday", "regional holiday (MD)",
/// "island holiday (Tenerife)", "local holiday (28079)").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExcludedDay {
    /// The day, serialised as `YYYY-MM-DD`.
    pub date: NaiveDate,
    /// Why it is not a business day.
    pub reason: String,
}

/// One step of the reasoning, with the article it applies (e.g. `art. 30.4 LPAC`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// What was done, in plain English.
    pub text: String,
    /// The legal basis.
    pub article: String,
}

impl Step {
    fn new(text: impl Into<String>, article: &str) -> Self {
        Self {
            text: text.into(),
            article: article.to_owned(),
        }
    }
}

/// A computed deadline, with its explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineResult {
    /// The last day of the deadline: always a business day for the places of the request.
    pub due_date: NaiveDate,
    /// For deadlines in hours, the instant the deadline ends (an end at 24:00 is shown as 00:00 of
    /// the next day; `due_date` is then still the business day that ended).
    pub due_at: Option<NaiveDateTime>,
    /// The non-business days that were skipped or that moved the last day, in date order.
    pub excluded: Vec<ExcludedDay>,
    /// What the result could not take into account (missing calendars), in plain English.
    pub warnings: Vec<String>,
    /// How the result was reached.
    pub steps: Vec<Step>,
}

/// Why a deadline could not be computed or calendar data could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// A deadline (or extension) of zero units.
    #[error("the amount must be at least 1")]
    AmountBelowOne,
    /// More than 24 hours (art. 30.1).
    #[error("a deadline in hours cannot be longer than {MAX_HOURS} hours (got {0}): express it in days (art. 30.1 LPAC)")]
    TooManyHours(u32),
    /// An absurdly long deadline.
    #[error("{amount} is too large for a deadline in {unit} (at most {max})")]
    AmountTooLarge {
        /// The requested amount.
        amount: u32,
        /// Its unit.
        unit: Unit,
        /// The largest accepted.
        max: u32,
    },
    /// Hours are counted from the minute of the notification, so it must be known.
    #[error("a deadline in hours needs the time of the notification ('at')")]
    HoursWithoutTime,
    /// Not a unit name.
    #[error("unknown unit '{0}': expected business-days, calendar-days, months, years or hours")]
    UnknownUnit(String),
    /// Not 5 digits.
    #[error("'{0}' is not a valid INE municipality code: it must be exactly 5 digits")]
    InvalidMunicipalityCode(String),
    /// The first two digits are not a province in the province table.
    #[error("municipality {code}: province '{province}' is unknown (not in the province table)")]
    UnknownProvince {
        /// The municipality code.
        code: String,
        /// Its first two digits.
        province: String,
    },
    /// A regional entry for a community no province belongs to.
    #[error("calendar data for {year}: unknown autonomous community '{community}'")]
    UnknownCommunity {
        /// The year file.
        year: i32,
        /// The offending key.
        community: String,
    },
    /// Calendar data that does not parse or does not make sense.
    #[error("invalid calendar data: {0}")]
    InvalidData(String),
    /// A holiday listed under another year.
    #[error("calendar data for {year} lists {date}, which is not in {year}")]
    DateOutsideYear {
        /// The year of the file.
        year: i32,
        /// The stray date.
        date: NaiveDate,
    },
    /// Local days for a year whose national calendar is not loaded.
    #[error("no calendar for {0} is loaded: add the year's calendar before its local holidays")]
    NoCalendarForYear(i32),
    /// The count went past the dates chrono can represent.
    #[error("the deadline ends outside the supported range of dates")]
    DateOutOfRange,
    /// An extension longer than half the original term (art. 32.1).
    #[error("an extension of {} exceeds half of the original {} (at most {max}) (art. 32.1 LPAC)", unit.describe(*requested), unit.describe(*original))]
    ExtensionTooLong {
        /// The requested extension.
        requested: u32,
        /// The original term.
        original: u32,
        /// The longest extension allowed.
        max: u32,
        /// The unit of all three.
        unit: Unit,
    },
    /// A suspension that ends before it starts.
    #[error("a suspension cannot be lifted on {resumed_on}, before it started on {suspended_on}")]
    SuspensionEndsBeforeStart {
        /// When the clock stopped.
        suspended_on: NaiveDate,
        /// When it started again.
        resumed_on: NaiveDate,
    },
    /// A deadline that had already ended cannot be suspended.
    #[error("the deadline ended on {due_date}: it cannot be suspended on {suspended_on}")]
    SuspendedAfterDue {
        /// The last day of the deadline.
        due_date: NaiveDate,
        /// When the suspension was said to start.
        suspended_on: NaiveDate,
    },
    /// Suspensions move a due date by business days, which does not fit a deadline in hours.
    #[error("a deadline in hours cannot be suspended: suspensions are counted in business days")]
    SuspensionOfHours,
}

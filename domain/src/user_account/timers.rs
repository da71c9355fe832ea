//! The password expiry: a year without use.

use chrono::{Months, NaiveDate};

/// The password-expiry timer.
pub const EXPIRY_TIMER: &str = "password_expiry";

/// When the expiry timer fires: the day after one full year without use.
pub(super) fn expiry_day(last_used_on: NaiveDate) -> NaiveDate {
    let day = last_used_on;
    let year_later = day.checked_add_months(Months::new(12)).unwrap_or(day);
    year_later.succ_opt().unwrap_or(year_later)
}

//! Computing deadlines (art. 30), the electronic registry's effective filing time (art. 31),
//! suspensions (art. 22) and extensions (art. 32).

use chrono::{Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use serde::{Deserialize, Serialize};

use super::data::HolidayCalendar;
use super::places::{day, next_day, Places, Scan};
use super::{CalendarError, DeadlineRequest, DeadlineResult, ExcludedDay, Step, Unit, MAX_HOURS};

/// `date` plus `months`, date to date: the same day number, or the last day of the target month
/// if it has no such day (31 Jan + 1 month = 28/29 Feb) (art. 30.4). `None` past chrono's range.
pub fn add_months_clamped(date: NaiveDate, months: u32) -> Option<NaiveDate> {
    // chrono already clamps to the last day of the month, which is exactly the rule of art. 30.4.
    date.checked_add_months(Months::new(months))
}

/// A period during which a running deadline was suspended (art. 22 LPAC), e.g. from the
/// notification of a request to fix a defect until it is fixed.
///
/// **Rule used**: the suspended business days are those *after* `suspended_on` up to and
/// *including* `resumed_on`, counted like a term of days (art. 30.3: the day of the event that
/// stops the clock is day zero, and the clock runs again the day after the event that restarts it).
/// The due date then moves forward by that many business days. When the suspension outlasts the
/// original due date this gives the same result as "the days that were left run again after
/// `resumed_on`". A suspension and resumption on the same day suspends nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suspension {
    /// The day the clock stopped.
    pub suspended_on: NaiveDate,
    /// The day the reason for the suspension ended.
    pub resumed_on: NaiveDate,
}

impl Suspension {
    /// A suspension, refused if it ends before it starts.
    pub fn new(suspended_on: NaiveDate, resumed_on: NaiveDate) -> Result<Self, CalendarError> {
        let suspension = Self {
            suspended_on,
            resumed_on,
        };
        suspension.check()?;
        Ok(suspension)
    }

    fn check(&self) -> Result<(), CalendarError> {
        if self.resumed_on < self.suspended_on {
            return Err(CalendarError::SuspensionEndsBeforeStart {
                suspended_on: self.suspended_on,
                resumed_on: self.resumed_on,
            });
        }
        Ok(())
    }
}

/// When a filing in the electronic registry counts as made, for deadlines (art. 31.2.b).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveFiling {
    /// When it was really filed (the sede's official clock). It keeps this order in the registry.
    pub filed_at: NaiveDateTime,
    /// When it counts as filed: the same instant on a business day, else 00:00 of the next
    /// business day.
    pub effective_at: NaiveDateTime,
    /// The non-business days that were skipped.
    pub excluded: Vec<ExcludedDay>,
    /// Missing calendars.
    pub warnings: Vec<String>,
    /// How the result was reached.
    pub steps: Vec<Step>,
}

/// Checks what does not depend on the calendar data.
fn validate(request: &DeadlineRequest) -> Result<(), CalendarError> {
    if request.amount < 1 {
        return Err(CalendarError::AmountBelowOne);
    }
    match request.unit {
        Unit::Hours if request.amount > MAX_HOURS => {
            Err(CalendarError::TooManyHours(request.amount))
        }
        Unit::Hours if request.at.is_none() => Err(CalendarError::HoursWithoutTime),
        unit if request.amount > unit.max_amount() => Err(CalendarError::AmountTooLarge {
            amount: request.amount,
            unit,
            max: unit.max_amount(),
        }),
        _ => Ok(()),
    }
}

impl HolidayCalendar {
    /// Computes a deadline: validates the request (amount, hours, municipality codes), counts
    /// according to its unit and explains the result.
    pub fn compute(&self, request: &DeadlineRequest) -> Result<DeadlineResult, CalendarError> {
        validate(request)?;
        let places = self.places(request.seat.as_deref(), request.residence.as_deref())?;
        self.count(request, request.amount, &places)
    }

    /// Computes a deadline extended by `extension` units of its own unit (art. 32.1): at most half
    /// of the original amount, so a term of 1 (e.g. 1 month) cannot be extended in its unit. The
    /// extended term is counted as one term of `amount + extension` from the same notification, so
    /// the original last day moving for a holiday does not shift the extension. A deadline in hours
    /// may thus end up longer than 24 hours. Whether the extension was agreed before the original
    /// term ended (art. 32.3) is for the caller to check.
    pub fn extend(
        &self,
        request: &DeadlineRequest,
        extension: u32,
    ) -> Result<DeadlineResult, CalendarError> {
        validate(request)?;
        if extension < 1 {
            return Err(CalendarError::AmountBelowOne);
        }
        let max = request.amount / 2;
        if extension > max {
            return Err(CalendarError::ExtensionTooLong {
                requested: extension,
                original: request.amount,
                max,
                unit: request.unit,
            });
        }
        let places = self.places(request.seat.as_deref(), request.residence.as_deref())?;
        let original = self.count(request, request.amount, &places)?;
        let total = request.amount + extension;
        let mut result = self.count(request, total, &places)?;
        result.steps.insert(
            0,
            Step::new(
                format!(
                    "The original term of {} (ending on {}) is extended by {}, no more than half of it ({} at most): the term is now {} from the same notification",
                    request.unit.describe(request.amount),
                    day(original.due_date),
                    request.unit.describe(extension),
                    max,
                    request.unit.describe(total),
                ),
                "art. 32.1 LPAC",
            ),
        );
        Ok(result)
    }

    /// Moves `due_date` forward by the business days of a suspension (art. 22); see [`Suspension`]
    /// for the exact rule. The places are those of the deadline (art. 30.6 applies to the count).
    pub fn apply_suspension(
        &self,
        due_date: NaiveDate,
        suspension: &Suspension,
        seat: Option<&str>,
        residence: Option<&str>,
    ) -> Result<DeadlineResult, CalendarError> {
        let places = self.places(seat, residence)?;
        let mut scan = Scan::new(self, &places);
        let mut steps = Vec::new();
        let due_date = suspend(&mut scan, &mut steps, due_date, suspension)?;
        steps.extend(scan.source_steps());
        Ok(DeadlineResult {
            due_date,
            due_at: None,
            excluded: scan.excluded,
            warnings: scan.warnings,
            steps,
        })
    }

    /// Computes a deadline and then applies its suspensions in the order given, each to the due
    /// date left by the previous one. This is how a deadline is recomputed when a suspension ends.
    pub fn compute_with_suspensions(
        &self,
        request: &DeadlineRequest,
        suspensions: &[Suspension],
    ) -> Result<DeadlineResult, CalendarError> {
        let mut result = self.compute(request)?;
        if suspensions.is_empty() {
            return Ok(result);
        }
        if request.unit == Unit::Hours {
            return Err(CalendarError::SuspensionOfHours);
        }
        for suspension in suspensions {
            let moved = self.apply_suspension(
                result.due_date,
                suspension,
                request.seat.as_deref(),
                request.residence.as_deref(),
            )?;
            result.due_date = moved.due_date;
            result.excluded.extend(moved.excluded);
            for warning in moved.warnings {
                if !result.warnings.contains(&warning) {
                    result.warnings.push(warning);
                }
            }
            for step in moved.steps {
                if !result.steps.contains(&step) {
                    result.steps.push(step);
                }
            }
        }
        Ok(result)
    }

    /// When a filing in the electronic registry counts as made (art. 31.2.b): on a business day of
    /// the seat, when it was made; on a non-business day, at 00:00 of the next business day. Only
    /// the seat's calendar applies here, not the filer's residence.
    pub fn effective_filing_time(
        &self,
        filed_at: NaiveDateTime,
        seat: &str,
    ) -> Result<EffectiveFiling, CalendarError> {
        let places = self.places(Some(seat), None)?;
        let mut scan = Scan::new(self, &places);
        let filed_on = filed_at.date();
        let effective_on = scan.first_business_day_from(filed_on)?;
        let (effective_at, text) = if effective_on == filed_on {
            (
                filed_at,
                format!(
                    "Filed on {} at {}, a business day at the seat ({seat}): it counts as made at that moment",
                    day(filed_on),
                    filed_at.format("%H:%M:%S"),
                ),
            )
        } else {
            (
                effective_on.and_time(NaiveTime::MIN),
                format!(
                    "Filed on {} at {}, not a business day at the seat ({seat}; {}): for deadlines it counts as made at 00:00 of the next business day, {}, while keeping its real order in the registry",
                    day(filed_on),
                    filed_at.format("%H:%M:%S"),
                    reason_for(&scan.excluded, filed_on),
                    day(effective_on),
                ),
            )
        };
        let mut steps = vec![Step::new(text, "art. 31.2.b LPAC")];
        steps.extend(scan.source_steps());
        Ok(EffectiveFiling {
            filed_at,
            effective_at,
            excluded: scan.excluded,
            warnings: scan.warnings,
            steps,
        })
    }

    /// Counts `amount` units of `request.unit` (already validated) for these places.
    fn count(
        &self,
        request: &DeadlineRequest,
        amount: u32,
        places: &Places,
    ) -> Result<DeadlineResult, CalendarError> {
        let mut scan = Scan::new(self, places);
        let mut steps = Vec::new();
        if places.is_union() {
            steps.push(Step::new(
                format!(
                    "A day that is not a business day in {} is not a business day for this deadline",
                    places.describe()
                ),
                "art. 30.6 LPAC",
            ));
        }
        let from = request.from;
        let (due_date, due_at) = match request.unit {
            Unit::BusinessDays => {
                steps.push(count_starts(from)?);
                let mut date = from;
                let mut counted = 0;
                while counted < amount {
                    date = next_day(date)?;
                    if scan.is_business_day(date) {
                        counted += 1;
                    }
                }
                steps.push(Step::new(
                    format!(
                        "Counted {} leaving out Saturdays, Sundays and holidays ({} days left out): the last is {}",
                        Unit::BusinessDays.describe(amount),
                        scan.excluded.len(),
                        day(date)
                    ),
                    "art. 30.2 LPAC",
                ));
                (date, None)
            }
            Unit::CalendarDays => {
                steps.push(count_starts(from)?);
                let last = from
                    .checked_add_days(Days::new(amount.into()))
                    .ok_or(CalendarError::DateOutOfRange)?;
                steps.push(Step::new(
                    format!(
                        "Counted {} (días naturales), holidays included: the last is {}",
                        Unit::CalendarDays.describe(amount),
                        day(last)
                    ),
                    "art. 30.2 LPAC",
                ));
                (move_last_day(&mut scan, &mut steps, last)?, None)
            }
            unit @ (Unit::Months | Unit::Years) => {
                let months = if unit == Unit::Years {
                    amount * 12
                } else {
                    amount
                };
                let last = add_months_clamped(from, months).ok_or(CalendarError::DateOutOfRange)?;
                steps.push(Step::new(
                    format!(
                        "Notified on {}: the count starts the next day and the term ends on the same day number {} later",
                        day(from),
                        unit.describe(amount)
                    ),
                    "art. 30.4 LPAC",
                ));
                let text = if last.day() == from.day() {
                    format!("The last day is {}", day(last))
                } else {
                    format!(
                        "{} has no day {}: the term ends on the last day of that month, {}",
                        last.format("%Y-%m"),
                        from.day(),
                        day(last)
                    )
                };
                steps.push(Step::new(text, "art. 30.4 LPAC"));
                (move_last_day(&mut scan, &mut steps, last)?, None)
            }
            Unit::Hours => {
                let at = request.at.ok_or(CalendarError::HoursWithoutTime)?;
                let (due_date, due_at) =
                    count_hours(&mut scan, &mut steps, from.and_time(at), amount)?;
                (due_date, Some(due_at))
            }
        };
        steps.extend(scan.source_steps());
        Ok(DeadlineResult {
            due_date,
            due_at,
            excluded: scan.excluded,
            warnings: scan.warnings,
            steps,
        })
    }
}

/// The step saying that a count in days starts the day after the notification.
fn count_starts(from: NaiveDate) -> Result<Step, CalendarError> {
    Ok(Step::new(
        format!(
            "Notified on {}: the count starts the next day, {}",
            day(from),
            day(next_day(from)?)
        ),
        "art. 30.3 LPAC",
    ))
}

/// The recorded reason why `date` was excluded.
fn reason_for(excluded: &[ExcludedDay], date: NaiveDate) -> &str {
    excluded
        .iter()
        .find(|e| e.date == date)
        .map_or("not a business day", |e| e.reason.as_str())
}

/// Art. 30.5: a last day that is not a business day moves to the next business day.
fn move_last_day(
    scan: &mut Scan<'_>,
    steps: &mut Vec<Step>,
    last: NaiveDate,
) -> Result<NaiveDate, CalendarError> {
    let due = scan.first_business_day_from(last)?;
    if due != last {
        steps.push(Step::new(
            format!(
                "The last day, {}, is not a business day ({}): the deadline moves to the next business day, {}",
                day(last),
                reason_for(&scan.excluded, last),
                day(due)
            ),
            "art. 30.5 LPAC",
        ));
    }
    Ok(due)
}

/// Art. 30.1: business hours, minute by minute from `start`; non-business days are skipped whole.
/// Returns the business day on which the term ends and the instant it ends (an end at 24:00 is
/// 00:00 of the next calendar day).
fn count_hours(
    scan: &mut Scan<'_>,
    steps: &mut Vec<Step>,
    start: NaiveDateTime,
    amount: u32,
) -> Result<(NaiveDate, NaiveDateTime), CalendarError> {
    steps.push(Step::new(
        format!(
            "Notified on {} at {}: the {} count minute by minute from then; every hour of a business day counts and non-business days are skipped whole",
            day(start.date()),
            start.format("%H:%M"),
            Unit::Hours.describe(amount)
        ),
        "art. 30.1 LPAC",
    ));
    let mut remaining = TimeDelta::hours(amount.into());
    let mut cursor = start;
    loop {
        let date = cursor.date();
        let midnight_after = next_day(date)?.and_time(NaiveTime::MIN);
        if !scan.is_business_day(date) {
            if date == start.date() {
                steps.push(Step::new(
                    format!(
                        "{} is not a business day ({}): the hours start counting at 00:00 of the next business day",
                        day(date),
                        reason_for(&scan.excluded, date)
                    ),
                    "art. 30.1 LPAC",
                ));
            }
            cursor = midnight_after;
            continue;
        }
        let available = midnight_after - cursor;
        if remaining <= available {
            let end = cursor + remaining;
            let text = if end == midnight_after {
                format!("The term ends at 24:00 of {}", day(date))
            } else {
                format!("The term ends on {} at {}", day(date), end.format("%H:%M"))
            };
            steps.push(Step::new(text, "art. 30.1 LPAC"));
            return Ok((date, end));
        }
        remaining -= available;
        cursor = midnight_after;
    }
}

/// Moves `due` forward by the business days of `suspension` (rule in [`Suspension`]'s docs).
fn suspend(
    scan: &mut Scan<'_>,
    steps: &mut Vec<Step>,
    due: NaiveDate,
    suspension: &Suspension,
) -> Result<NaiveDate, CalendarError> {
    suspension.check()?;
    let Suspension {
        suspended_on,
        resumed_on,
    } = *suspension;
    if suspended_on > due {
        return Err(CalendarError::SuspendedAfterDue {
            due_date: due,
            suspended_on,
        });
    }
    // The days inside the suspension are only counted, not skipped: they are not listed as
    // excluded, which is kept for the days the new due date passes over.
    let mut suspended = 0u32;
    let mut date = suspended_on;
    while date < resumed_on {
        date = next_day(date)?;
        if scan.is_business_day_quiet(date) {
            suspended += 1;
        }
    }
    steps.push(Step::new(
        format!(
            "Suspended on {} and resumed on {}: {} suspended (from the day after the suspension up to and including the day it was lifted)",
            day(suspended_on),
            day(resumed_on),
            Unit::BusinessDays.describe(suspended)
        ),
        "art. 22 LPAC",
    ));
    let mut new_due = due;
    let mut moved = 0;
    while moved < suspended {
        new_due = next_day(new_due)?;
        if scan.is_business_day(new_due) {
            moved += 1;
        }
    }
    steps.push(Step::new(
        format!(
            "The due date, {}, moves {} later: {}",
            day(due),
            Unit::BusinessDays.describe(suspended),
            day(new_due)
        ),
        "art. 22 LPAC",
    ));
    Ok(new_due)
}

//! Properties of the count, over the years the bundled data covers.

use chrono::{Datelike, Days, NaiveDate, NaiveTime, TimeDelta};
use proptest::prelude::*;

use super::*;

fn calendar() -> &'static HolidayCalendar {
    static CALENDAR: std::sync::OnceLock<HolidayCalendar> = std::sync::OnceLock::new();
    CALENDAR.get_or_init(HolidayCalendar::bundled)
}

/// A day of 2025 or 2026.
fn a_day() -> impl Strategy<Value = NaiveDate> {
    (0u64..730).prop_map(|offset| NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + Days::new(offset))
}

/// Madrid alone, Leganés alone, or Madrid with a residence in Barcelona.
fn places() -> impl Strategy<Value = (Option<String>, Option<String>)> {
    prop_oneof![
        Just((Some("28079".to_owned()), None)),
        Just((Some("28074".to_owned()), None)),
        Just((Some("28079".to_owned()), Some("08019".to_owned()))),
    ]
}

fn a_unit() -> impl Strategy<Value = Unit> {
    prop_oneof![
        Just(Unit::BusinessDays),
        Just(Unit::CalendarDays),
        Just(Unit::Months),
        Just(Unit::Years),
        Just(Unit::Hours),
    ]
}

fn request(
    from: NaiveDate,
    amount: u32,
    unit: Unit,
    places: &(Option<String>, Option<String>),
) -> DeadlineRequest {
    DeadlineRequest {
        from,
        at: Some(NaiveTime::from_hms_opt(13, 45, 0).unwrap()),
        amount,
        unit,
        seat: places.0.clone(),
        residence: places.1.clone(),
    }
}

fn last_day_of_month(date: NaiveDate) -> u32 {
    let first_of_next = add_months_clamped(date.with_day(1).unwrap(), 1).unwrap();
    first_of_next.pred_opt().unwrap().day()
}

proptest! {
    #[test]
    fn the_due_date_is_never_a_non_business_day(
        from in a_day(), amount in 1u32..=24, unit in a_unit(), places in places(),
    ) {
        let request = request(from, amount, unit, &places);
        let result = calendar().compute(&request).unwrap();
        let resolved = calendar().places(places.0.as_deref(), places.1.as_deref()).unwrap();
        prop_assert!(calendar().is_business_day(result.due_date, &resolved));
        prop_assert!(result.due_date > from || unit == Unit::Hours);
        prop_assert!(result.excluded.iter().all(|e| !calendar().is_business_day(e.date, &resolved)));
    }

    #[test]
    fn adding_business_days_is_monotonic(from in a_day(), n in 1u32..80, places in places()) {
        let shorter = calendar().compute(&request(from, n, Unit::BusinessDays, &places)).unwrap();
        let longer = calendar().compute(&request(from, n + 1, Unit::BusinessDays, &places)).unwrap();
        prop_assert!(longer.due_date > shorter.due_date);
    }

    #[test]
    fn n_business_days_span_exactly_n_business_days(from in a_day(), n in 1u32..80, places in places()) {
        let result = calendar().compute(&request(from, n, Unit::BusinessDays, &places)).unwrap();
        let resolved = calendar().places(places.0.as_deref(), places.1.as_deref()).unwrap();
        let business = from
            .iter_days()
            .skip(1)
            .take_while(|d| *d <= result.due_date)
            .filter(|d| calendar().is_business_day(*d, &resolved))
            .count();
        prop_assert_eq!(business, n as usize);
        // Every day in between that did not count is listed as excluded, and no other.
        let days_between = (result.due_date - from).num_days() as usize;
        prop_assert_eq!(result.excluded.len(), days_between - n as usize);
    }

    #[test]
    fn months_never_overflow_the_end_of_a_month(from in a_day(), months in 1u32..=36) {
        let nominal = add_months_clamped(from, months).unwrap();
        let last = last_day_of_month(nominal);
        prop_assert!(nominal.day() <= last);
        prop_assert_eq!(nominal.day(), from.day().min(last));
        prop_assert_eq!(
            nominal.year() * 12 + nominal.month0() as i32,
            from.year() * 12 + from.month0() as i32 + months as i32
        );

        let places = (Some("28079".to_owned()), None);
        let result = calendar().compute(&request(from, months, Unit::Months, &places)).unwrap();
        // The due date is the nominal day, or the first business day after it.
        prop_assert!(result.due_date >= nominal);
        let resolved = calendar().places(Some("28079"), None).unwrap();
        prop_assert!(nominal
            .iter_days()
            .take_while(|d| *d < result.due_date)
            .all(|d| !calendar().is_business_day(d, &resolved)));
    }

    #[test]
    fn hours_end_within_24_hours_of_business_time(from in a_day(), hours in 1u32..=24) {
        let places = (Some("28079".to_owned()), None);
        let result = calendar().compute(&request(from, hours, Unit::Hours, &places)).unwrap();
        let start = from.and_hms_opt(13, 45, 0).unwrap();
        let due_at = result.due_at.unwrap();
        // Business time elapsed = wall time minus the whole non-business days skipped (the
        // notification day's remainder counts as skipped only if it is itself non-business).
        let mut skipped = TimeDelta::zero();
        for excluded in &result.excluded {
            skipped += if excluded.date == from {
                excluded.date.succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap() - start
            } else {
                TimeDelta::days(1)
            };
        }
        prop_assert_eq!(due_at - start - skipped, TimeDelta::hours(hours.into()));
    }
}

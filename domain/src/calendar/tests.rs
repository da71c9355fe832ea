//! Given / when / then tests of every rule, starting with the worked examples of DOMAIN.md.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use super::*;

const MADRID: &str = "28079";
const LEGANES: &str = "28074";
const BARCELONA: &str = "08019";
const SANTA_CRUZ_DE_TENERIFE: &str = "38038";

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn time(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn datetime(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
    date(y, mo, d).and_time(time(h, mi))
}

/// A request with the council's seat in Madrid and no residence.
fn in_madrid(from: NaiveDate, amount: u32, unit: Unit) -> DeadlineRequest {
    DeadlineRequest {
        from,
        at: None,
        amount,
        unit,
        seat: Some(MADRID.into()),
        residence: None,
    }
}

fn excluded(result: &DeadlineResult) -> Vec<(NaiveDate, &str)> {
    result
        .excluded
        .iter()
        .map(|e| (e.date, e.reason.as_str()))
        .collect()
}

fn articles(result: &DeadlineResult) -> Vec<&str> {
    result.steps.iter().map(|s| s.article.as_str()).collect()
}

// ---- the worked examples of DOMAIN.md ----

#[test]
fn given_a_notification_on_monday_20_july_2026_when_10_business_days_then_3_august() {
    let calendar = HolidayCalendar::bundled();
    let result = calendar
        .compute(&in_madrid(date(2026, 7, 20), 10, Unit::BusinessDays))
        .unwrap();
    // August is a business month in administrative procedure.
    assert_eq!(result.due_date, date(2026, 8, 3));
    assert_eq!(result.due_at, None);
    assert_eq!(
        excluded(&result),
        [
            (date(2026, 7, 25), "Saturday"),
            (date(2026, 7, 26), "Sunday"),
            (date(2026, 8, 1), "Saturday"),
            (date(2026, 8, 2), "Sunday"),
        ]
    );
    assert!(result.warnings.is_empty(), "{:?}", result.warnings);
    assert!(articles(&result).contains(&"art. 30.3 LPAC"));
    assert!(articles(&result).contains(&"art. 30.2 LPAC"));
}

#[test]
fn given_a_notification_on_31_january_2026_when_1_month_then_28_february_moves_to_2_march() {
    let calendar = HolidayCalendar::bundled();
    let result = calendar
        .compute(&in_madrid(date(2026, 1, 31), 1, Unit::Months))
        .unwrap();
    assert_eq!(result.due_date, date(2026, 3, 2));
    assert_eq!(
        excluded(&result),
        [
            (date(2026, 2, 28), "Saturday"),
            (date(2026, 3, 1), "Sunday")
        ]
    );
    assert!(articles(&result).contains(&"art. 30.4 LPAC"));
    assert!(articles(&result).contains(&"art. 30.5 LPAC"));
    assert!(result
        .steps
        .iter()
        .any(|s| s.text.contains("2026-02 has no day 31")));
}

#[test]
fn given_a_notification_on_14_may_2026_in_madrid_when_1_business_day_then_san_isidro_and_the_weekend_are_skipped(
) {
    let calendar = HolidayCalendar::bundled();
    let result = calendar
        .compute(&in_madrid(date(2026, 5, 14), 1, Unit::BusinessDays))
        .unwrap();
    assert_eq!(result.due_date, date(2026, 5, 18));
    assert_eq!(
        excluded(&result),
        [
            (date(2026, 5, 15), "local holiday (28079)"),
            (date(2026, 5, 16), "Saturday"),
            (date(2026, 5, 17), "Sunday"),
        ]
    );
    // The result cites the official source of Madrid's local holidays.
    assert!(result
        .steps
        .iter()
        .any(|s| s.article == "art. 30.7 LPAC" && s.text.contains("BOCM n.º 296")));
}

// ---- units ----

#[test]
fn given_a_friday_notification_when_24_hours_then_the_weekend_is_skipped_whole() {
    let calendar = HolidayCalendar::bundled();
    let request = DeadlineRequest {
        at: Some(time(10, 0)),
        ..in_madrid(date(2026, 7, 24), 24, Unit::Hours)
    };
    let result = calendar.compute(&request).unwrap();
    // 14 hours on Friday, none on Saturday or Sunday, 10 on Monday.
    assert_eq!(result.due_at, Some(datetime(2026, 7, 27, 10, 0)));
    assert_eq!(result.due_date, date(2026, 7, 27));
    assert_eq!(
        excluded(&result),
        [
            (date(2026, 7, 25), "Saturday"),
            (date(2026, 7, 26), "Sunday")
        ]
    );
    assert!(articles(&result).contains(&"art. 30.1 LPAC"));
}

#[test]
fn given_hours_within_the_same_day_when_counted_then_they_run_minute_by_minute() {
    let calendar = HolidayCalendar::bundled();
    let request = DeadlineRequest {
        at: Some(NaiveTime::from_hms_opt(9, 17, 30).unwrap()),
        ..in_madrid(date(2026, 7, 21), 2, Unit::Hours)
    };
    let result = calendar.compute(&request).unwrap();
    assert_eq!(
        result.due_at,
        Some(date(2026, 7, 21).and_hms_opt(11, 17, 30).unwrap())
    );
    assert!(result.excluded.is_empty());
}

#[test]
fn given_a_notification_on_a_saturday_when_hours_then_they_start_at_00_00_of_monday() {
    let calendar = HolidayCalendar::bundled();
    let request = DeadlineRequest {
        at: Some(time(18, 0)),
        ..in_madrid(date(2026, 7, 25), 5, Unit::Hours)
    };
    let result = calendar.compute(&request).unwrap();
    assert_eq!(result.due_at, Some(datetime(2026, 7, 27, 5, 0)));
    assert_eq!(result.due_date, date(2026, 7, 27));
}

#[test]
fn given_a_friday_notification_at_midnight_when_24_hours_then_it_ends_at_24_00_of_friday() {
    let calendar = HolidayCalendar::bundled();
    let request = DeadlineRequest {
        at: Some(time(0, 0)),
        ..in_madrid(date(2026, 7, 24), 24, Unit::Hours)
    };
    let result = calendar.compute(&request).unwrap();
    // The instant is midnight between Friday and Saturday; the day that ended is Friday.
    assert_eq!(result.due_date, date(2026, 7, 24));
    assert_eq!(result.due_at, Some(datetime(2026, 7, 25, 0, 0)));
    assert!(result.steps.iter().any(|s| s.text.contains("24:00")));
}

#[test]
fn given_calendar_days_when_the_last_day_is_a_holiday_then_it_moves_to_the_next_business_day() {
    let calendar = HolidayCalendar::bundled();
    // 5 May + 10 calendar days = Friday 15 May, San Isidro, then a weekend.
    let result = calendar
        .compute(&in_madrid(date(2026, 5, 5), 10, Unit::CalendarDays))
        .unwrap();
    assert_eq!(result.due_date, date(2026, 5, 18));
    assert_eq!(
        excluded(&result),
        [
            (date(2026, 5, 15), "local holiday (28079)"),
            (date(2026, 5, 16), "Saturday"),
            (date(2026, 5, 17), "Sunday"),
        ]
    );
    assert!(articles(&result).contains(&"art. 30.5 LPAC"));
}

#[test]
fn given_calendar_days_when_holidays_fall_inside_then_they_count() {
    let calendar = HolidayCalendar::bundled();
    // 1 to 11 May: the holiday of 1 May is before the start, weekends inside all count.
    let result = calendar
        .compute(&in_madrid(date(2026, 4, 30), 11, Unit::CalendarDays))
        .unwrap();
    assert_eq!(result.due_date, date(2026, 5, 11));
    assert!(result.excluded.is_empty());
}

#[test]
fn given_years_when_counted_then_they_run_date_to_date_with_the_end_of_month_rule() {
    let calendar = HolidayCalendar::bundled();
    // 29 Feb 2024 + 1 year: 2025 has no 29 Feb, so 28 Feb 2025 (a Friday).
    let result = calendar
        .compute(&in_madrid(date(2024, 2, 29), 1, Unit::Years))
        .unwrap();
    assert_eq!(result.due_date, date(2025, 2, 28));
}

#[test]
fn given_a_month_ending_on_a_national_holiday_then_it_moves() {
    let calendar = HolidayCalendar::bundled();
    // 25 Nov + 1 month = Friday 25 Dec 2026, then the weekend.
    let result = calendar
        .compute(&in_madrid(date(2026, 11, 25), 1, Unit::Months))
        .unwrap();
    assert_eq!(result.due_date, date(2026, 12, 28));
    assert_eq!(
        excluded(&result)[0],
        (date(2026, 12, 25), "national holiday")
    );
}

// ---- two places (art. 30.6) ----

#[test]
fn given_a_seat_in_madrid_and_a_residence_in_barcelona_then_the_holidays_of_both_count() {
    let calendar = HolidayCalendar::bundled();
    let request = DeadlineRequest {
        residence: Some(BARCELONA.into()),
        ..in_madrid(date(2026, 4, 1), 2, Unit::BusinessDays)
    };
    let result = calendar.compute(&request).unwrap();
    // Holy Thursday is a holiday in Madrid only, Easter Monday in Catalonia only.
    assert_eq!(result.due_date, date(2026, 4, 8));
    assert_eq!(
        excluded(&result),
        [
            (date(2026, 4, 2), "regional holiday (MD)"),
            (date(2026, 4, 3), "national holiday"),
            (date(2026, 4, 4), "Saturday"),
            (date(2026, 4, 5), "Sunday"),
            (date(2026, 4, 6), "regional holiday (CT)"),
        ]
    );
    assert!(articles(&result).contains(&"art. 30.6 LPAC"));
    assert_eq!(
        result.warnings,
        ["no local holidays known for municipality 08019 in 2026"]
    );

    // Madrid alone would have ended a day earlier.
    let alone = calendar
        .compute(&in_madrid(date(2026, 4, 1), 2, Unit::BusinessDays))
        .unwrap();
    assert_eq!(alone.due_date, date(2026, 4, 7));
}

#[test]
fn given_a_local_holiday_of_the_residence_only_then_it_is_a_holiday_for_the_deadline() {
    let mut calendar = HolidayCalendar::bundled();
    calendar
        .set_local_days(2026, LEGANES, &[date(2026, 7, 22)], "BOCM test")
        .unwrap();
    let request = DeadlineRequest {
        residence: Some(LEGANES.into()),
        ..in_madrid(date(2026, 7, 20), 2, Unit::BusinessDays)
    };
    let result = calendar.compute(&request).unwrap();
    assert_eq!(result.due_date, date(2026, 7, 23));
    assert_eq!(
        excluded(&result),
        [(date(2026, 7, 22), "local holiday (28074)")]
    );
}

#[test]
fn given_the_same_municipality_as_seat_and_residence_then_it_counts_once() {
    let calendar = HolidayCalendar::bundled();
    let places = calendar.places(Some(MADRID), Some(MADRID)).unwrap();
    assert_eq!(places.iter().count(), 1);
    let request = DeadlineRequest {
        residence: Some(MADRID.into()),
        ..in_madrid(date(2026, 5, 14), 1, Unit::BusinessDays)
    };
    let result = calendar.compute(&request).unwrap();
    assert!(!articles(&result).contains(&"art. 30.6 LPAC"));
}

// ---- electronic registry (art. 31) ----

#[test]
fn given_a_filing_on_a_saturday_then_it_counts_at_00_00_of_monday() {
    let calendar = HolidayCalendar::bundled();
    let filing = calendar
        .effective_filing_time(datetime(2026, 5, 16, 15, 30), MADRID)
        .unwrap();
    assert_eq!(filing.filed_at, datetime(2026, 5, 16, 15, 30));
    assert_eq!(filing.effective_at, datetime(2026, 5, 18, 0, 0));
    assert_eq!(filing.steps[0].article, "art. 31.2.b LPAC");
    assert!(filing.steps[0].text.contains("real order"));
}

#[test]
fn given_a_filing_on_a_local_holiday_of_the_seat_then_it_moves_past_it() {
    let calendar = HolidayCalendar::bundled();
    let filing = calendar
        .effective_filing_time(datetime(2026, 5, 15, 10, 0), MADRID)
        .unwrap();
    assert_eq!(filing.effective_at, datetime(2026, 5, 18, 0, 0));
    assert_eq!(filing.excluded[0].reason, "local holiday (28079)");
}

#[test]
fn given_a_filing_on_a_business_day_then_it_counts_when_made() {
    let calendar = HolidayCalendar::bundled();
    let at = datetime(2026, 5, 14, 23, 59);
    let filing = calendar.effective_filing_time(at, MADRID).unwrap();
    assert_eq!(filing.effective_at, at);
    assert!(filing.excluded.is_empty());
}

// ---- suspensions (art. 22) ----

#[test]
fn given_a_suspension_of_a_week_then_the_due_date_moves_by_its_business_days() {
    let calendar = HolidayCalendar::bundled();
    let suspension = Suspension::new(date(2026, 3, 2), date(2026, 3, 9)).unwrap();
    // Suspended business days: 3, 4, 5, 6 and 9 March.
    let result = calendar
        .apply_suspension(date(2026, 3, 16), &suspension, Some(MADRID), None)
        .unwrap();
    assert_eq!(result.due_date, date(2026, 3, 23));
    assert_eq!(
        excluded(&result),
        [
            (date(2026, 3, 21), "Saturday"),
            (date(2026, 3, 22), "Sunday")
        ]
    );
    assert!(articles(&result)
        .iter()
        .all(|a| *a == "art. 22 LPAC" || *a == "art. 30.7 LPAC"));
}

#[test]
fn given_a_suspension_lifted_after_the_due_date_then_the_remaining_days_run_after_it() {
    let calendar = HolidayCalendar::bundled();
    // Due Friday 10 July; suspended on Wednesday 8 (2 days left: 9 and 10); lifted on 20 July.
    let suspension = Suspension::new(date(2026, 7, 8), date(2026, 7, 20)).unwrap();
    let result = calendar
        .apply_suspension(date(2026, 7, 10), &suspension, Some(MADRID), None)
        .unwrap();
    assert_eq!(result.due_date, date(2026, 7, 22));
}

#[test]
fn given_a_request_and_its_suspensions_then_the_deadline_is_recomputed() {
    let calendar = HolidayCalendar::bundled();
    let request = in_madrid(date(2026, 7, 20), 10, Unit::BusinessDays);
    let suspensions = [
        Suspension::new(date(2026, 7, 21), date(2026, 7, 22)).unwrap(),
        Suspension::new(date(2026, 7, 27), date(2026, 7, 28)).unwrap(),
    ];
    let result = calendar
        .compute_with_suspensions(&request, &suspensions)
        .unwrap();
    // 3 August + 1 + 1 business days.
    assert_eq!(result.due_date, date(2026, 8, 5));
}

#[test]
fn given_a_suspension_that_ends_before_it_starts_or_after_the_due_date_then_it_is_refused() {
    let calendar = HolidayCalendar::bundled();
    assert!(matches!(
        Suspension::new(date(2026, 3, 9), date(2026, 3, 2)),
        Err(CalendarError::SuspensionEndsBeforeStart { .. })
    ));
    let late = Suspension::new(date(2026, 3, 17), date(2026, 3, 20)).unwrap();
    assert!(matches!(
        calendar.apply_suspension(date(2026, 3, 16), &late, Some(MADRID), None),
        Err(CalendarError::SuspendedAfterDue { .. })
    ));
    let hours = DeadlineRequest {
        at: Some(time(9, 0)),
        ..in_madrid(date(2026, 3, 2), 5, Unit::Hours)
    };
    let any = Suspension::new(date(2026, 3, 2), date(2026, 3, 3)).unwrap();
    assert_eq!(
        calendar.compute_with_suspensions(&hours, &[any]),
        Err(CalendarError::SuspensionOfHours)
    );
}

#[test]
fn given_a_suspension_lifted_the_same_day_then_nothing_moves() {
    let calendar = HolidayCalendar::bundled();
    let suspension = Suspension::new(date(2026, 3, 4), date(2026, 3, 4)).unwrap();
    let result = calendar
        .apply_suspension(date(2026, 3, 16), &suspension, Some(MADRID), None)
        .unwrap();
    assert_eq!(result.due_date, date(2026, 3, 16));
}

// ---- extensions (art. 32) ----

#[test]
fn given_10_business_days_when_extended_by_5_then_15_business_days_from_the_notification() {
    let calendar = HolidayCalendar::bundled();
    let request = in_madrid(date(2026, 7, 20), 10, Unit::BusinessDays);
    let result = calendar.extend(&request, 5).unwrap();
    assert_eq!(result.due_date, date(2026, 8, 10));
    assert_eq!(result.steps[0].article, "art. 32.1 LPAC");
    assert!(result.steps[0].text.contains("2026-08-03"));
}

#[test]
fn given_10_business_days_when_extended_by_6_then_it_is_refused() {
    let calendar = HolidayCalendar::bundled();
    let request = in_madrid(date(2026, 7, 20), 10, Unit::BusinessDays);
    let error = calendar.extend(&request, 6).unwrap_err();
    assert_eq!(
        error,
        CalendarError::ExtensionTooLong {
            requested: 6,
            original: 10,
            max: 5,
            unit: Unit::BusinessDays
        }
    );
    assert!(error.to_string().contains("at most 5"));
    assert_eq!(
        calendar.extend(&request, 0),
        Err(CalendarError::AmountBelowOne)
    );
}

#[test]
fn given_1_month_when_extended_in_months_then_it_is_refused() {
    let calendar = HolidayCalendar::bundled();
    let request = in_madrid(date(2026, 1, 31), 1, Unit::Months);
    assert!(matches!(
        calendar.extend(&request, 1),
        Err(CalendarError::ExtensionTooLong { max: 0, .. })
    ));
}

// ---- missing calendars ----

#[test]
fn given_a_deadline_running_into_2027_then_it_warns_that_there_is_no_calendar_for_2027() {
    let calendar = HolidayCalendar::bundled();
    let result = calendar
        .compute(&in_madrid(date(2026, 12, 21), 10, Unit::BusinessDays))
        .unwrap();
    // 2027 is not published: its fixed national holidays (1 and 6 January) are assumed, so the
    // ten days are 22–24, 28–31 December, 4, 5 and 7 January; the result says it is provisional.
    assert_eq!(result.due_date, date(2027, 1, 7));
    assert!(result
        .warnings
        .iter()
        .any(|w| w.starts_with("no calendar for 2027")));
    assert!(result.warnings.iter().all(|w| !w.contains("2026")));
}

#[test]
fn given_the_2027_calendar_is_added_at_runtime_then_the_warning_goes_and_its_holidays_count() {
    let mut calendar = HolidayCalendar::bundled();
    calendar
        .upsert_year_json(
            r#"{"year": 2027, "official": true,
                "sources": {"national_and_regional": "BOE test", "local.28079": "BOCM test"},
                "national": ["2027-01-01", "2027-01-06"],
                "regional": {"MD": []},
                "local": {"28079": {"name": "Madrid", "days": ["2027-05-15"]}}}"#,
        )
        .unwrap();
    let result = calendar
        .compute(&in_madrid(date(2026, 12, 21), 10, Unit::BusinessDays))
        .unwrap();
    assert_eq!(result.due_date, date(2027, 1, 7));
    assert!(result.warnings.is_empty(), "{:?}", result.warnings);
    assert!(result.steps.iter().any(|s| s.text.contains("BOE test")));
}

#[test]
fn given_a_municipality_without_local_holidays_then_it_warns() {
    let calendar = HolidayCalendar::bundled();
    let request = DeadlineRequest {
        seat: Some(LEGANES.into()),
        ..in_madrid(date(2026, 7, 20), 10, Unit::BusinessDays)
    };
    let result = calendar.compute(&request).unwrap();
    assert_eq!(
        result.warnings,
        ["no local holidays known for municipality 28074 in 2026"]
    );
}

#[test]
fn given_local_days_set_at_runtime_then_the_warning_goes_and_the_source_is_cited() {
    let mut calendar = HolidayCalendar::bundled();
    let replaced = calendar
        .set_local_days(
            2026,
            LEGANES,
            &[date(2026, 7, 21), date(2026, 10, 13)],
            "BOCM Leganés 2026",
        )
        .unwrap();
    assert_eq!(replaced, None);
    let request = DeadlineRequest {
        seat: Some(LEGANES.into()),
        ..in_madrid(date(2026, 7, 20), 1, Unit::BusinessDays)
    };
    let result = calendar.compute(&request).unwrap();
    assert_eq!(result.due_date, date(2026, 7, 22));
    assert!(result.warnings.is_empty(), "{:?}", result.warnings);
    assert!(result
        .steps
        .iter()
        .any(|s| s.text.contains("BOCM Leganés 2026")));
}

#[test]
fn given_local_days_for_an_unknown_year_or_outside_it_then_they_are_refused() {
    let mut calendar = HolidayCalendar::bundled();
    assert_eq!(
        calendar.set_local_days(2027, MADRID, &[date(2027, 5, 15)], "x"),
        Err(CalendarError::NoCalendarForYear(2027))
    );
    assert!(matches!(
        calendar.set_local_days(2026, MADRID, &[date(2027, 5, 15)], "x"),
        Err(CalendarError::DateOutsideYear { year: 2026, .. })
    ));
}

#[test]
fn given_2025_with_only_madrid_data_then_other_communities_are_flagged() {
    let calendar = HolidayCalendar::bundled();
    let request = DeadlineRequest {
        seat: Some(BARCELONA.into()),
        ..in_madrid(date(2025, 3, 3), 5, Unit::BusinessDays)
    };
    let result = calendar.compute(&request).unwrap();
    assert_eq!(
        result.warnings,
        [
            "no regional holidays known for CT in 2025",
            "no local holidays known for municipality 08019 in 2025"
        ]
    );
}

#[test]
fn given_no_municipality_then_only_national_holidays_apply_and_it_says_so() {
    let calendar = HolidayCalendar::bundled();
    let request = DeadlineRequest {
        seat: None,
        ..in_madrid(date(2026, 5, 14), 1, Unit::BusinessDays)
    };
    let result = calendar.compute(&request).unwrap();
    assert_eq!(result.due_date, date(2026, 5, 15));
    assert!(result.warnings[0].starts_with("no municipality given"));
}

#[test]
fn given_a_provisional_year_then_it_warns() {
    let mut calendar = HolidayCalendar::bundled();
    calendar
        .upsert_year_json(r#"{"year": 2027, "national": ["2027-01-01"], "regional": {"MD": []}, "local": {"28079": {"days": []}}}"#)
        .unwrap();
    let result = calendar
        .compute(&in_madrid(date(2027, 3, 1), 1, Unit::BusinessDays))
        .unwrap();
    assert_eq!(
        result.warnings,
        ["the calendar for 2027 is not marked official: its holidays may still change"]
    );
}

// ---- islands ----

#[test]
fn given_a_canary_municipality_then_island_days_apply_only_once_its_island_is_known() {
    let mut calendar = HolidayCalendar::bundled();
    let request = DeadlineRequest {
        seat: Some(SANTA_CRUZ_DE_TENERIFE.into()),
        ..in_madrid(date(2026, 1, 30), 1, Unit::BusinessDays)
    };
    let unknown = calendar.compute(&request).unwrap();
    assert_eq!(unknown.due_date, date(2026, 2, 2));
    assert!(unknown
        .warnings
        .iter()
        .any(|w| w.starts_with("island holidays not applied for municipality 38038")));

    calendar
        .set_island(SANTA_CRUZ_DE_TENERIFE, "Tenerife")
        .unwrap();
    let known = calendar.compute(&request).unwrap();
    // 2 February is Candelaria, Tenerife's island day.
    assert_eq!(known.due_date, date(2026, 2, 3));
    assert_eq!(known.excluded[2].reason, "island holiday (Tenerife)");
    assert!(known.warnings.iter().all(|w| !w.contains("island")));
    assert!(known.steps.iter().any(|s| s.text.contains("islands: ")));
}

// ---- validation ----

#[test]
fn given_invalid_requests_then_they_are_refused_with_clear_errors() {
    let calendar = HolidayCalendar::bundled();
    let base = in_madrid(date(2026, 7, 20), 10, Unit::BusinessDays);
    let refused = |request: DeadlineRequest| calendar.compute(&request).unwrap_err();

    assert_eq!(
        refused(DeadlineRequest {
            amount: 0,
            ..base.clone()
        }),
        CalendarError::AmountBelowOne
    );
    assert_eq!(
        refused(DeadlineRequest {
            amount: 25,
            unit: Unit::Hours,
            at: Some(time(9, 0)),
            ..base.clone()
        }),
        CalendarError::TooManyHours(25)
    );
    assert_eq!(
        refused(DeadlineRequest {
            amount: 5,
            unit: Unit::Hours,
            ..base.clone()
        }),
        CalendarError::HoursWithoutTime
    );
    assert_eq!(
        refused(DeadlineRequest {
            seat: Some("2807".into()),
            ..base.clone()
        }),
        CalendarError::InvalidMunicipalityCode("2807".into())
    );
    assert_eq!(
        refused(DeadlineRequest {
            residence: Some("28O79".into()),
            ..base.clone()
        }),
        CalendarError::InvalidMunicipalityCode("28O79".into())
    );
    let unknown = refused(DeadlineRequest {
        seat: Some("53001".into()),
        ..base.clone()
    });
    assert_eq!(
        unknown,
        CalendarError::UnknownProvince {
            code: "53001".into(),
            province: "53".into()
        }
    );
    assert!(unknown.to_string().contains("province '53' is unknown"));
    assert!(matches!(
        refused(DeadlineRequest {
            amount: 1_000_000,
            ..base
        }),
        CalendarError::AmountTooLarge { .. }
    ));
}

#[test]
fn given_unit_names_then_they_parse_and_serialise_in_kebab_case() {
    for unit in Unit::ALL {
        assert_eq!(unit.as_str().parse::<Unit>(), Ok(unit));
        assert_eq!(
            serde_json::to_value(unit).unwrap(),
            serde_json::json!(unit.as_str())
        );
    }
    assert_eq!("business-days".parse(), Ok(Unit::BusinessDays));
    assert!(matches!(
        "fortnights".parse::<Unit>(),
        Err(CalendarError::UnknownUnit(_))
    ));
}

#[test]
fn given_a_request_in_json_then_it_deserialises() {
    let request: DeadlineRequest = serde_json::from_str(
        r#"{"from": "2026-07-20", "amount": 10, "unit": "business-days", "seat": "28079"}"#,
    )
    .unwrap();
    assert_eq!(
        request,
        in_madrid(date(2026, 7, 20), 10, Unit::BusinessDays)
    );
}

#[test]
fn given_a_result_then_it_serialises_with_the_documented_field_names() {
    let calendar = HolidayCalendar::bundled();
    let result = calendar
        .compute(&in_madrid(date(2026, 5, 14), 1, Unit::BusinessDays))
        .unwrap();
    let json = serde_json::to_value(&result).unwrap();
    assert_eq!(json["due_date"], "2026-05-18");
    assert_eq!(json["due_at"], serde_json::Value::Null);
    assert_eq!(
        json["excluded"][0],
        serde_json::json!({"date": "2026-05-15", "reason": "local holiday (28079)"})
    );
    assert!(json["warnings"].as_array().unwrap().is_empty());
    let step = &json["steps"][0];
    assert!(step["text"].is_string() && step["article"] == "art. 30.3 LPAC");
}

// ---- data ----

#[test]
fn given_the_bundled_data_then_it_loads_with_the_facts_of_domain_md() {
    let calendar = HolidayCalendar::bundled();
    let places = calendar.places(Some(MADRID), None).unwrap();
    let holidays_2026: Vec<NaiveDate> = date(2026, 1, 1)
        .iter_days()
        .take_while(|d| *d <= date(2026, 12, 31))
        .filter(|d| {
            calendar
                .non_business_reason(*d, &places)
                .is_some_and(|r| r.contains("holiday"))
        })
        .collect();
    let expected: Vec<NaiveDate> = [
        (1, 1),
        (1, 6),
        (4, 2),
        (4, 3),
        (5, 1),
        (5, 15),
        (10, 12),
        (11, 2),
        (11, 9),
        (12, 7),
        (12, 8),
        (12, 25),
    ]
    .into_iter()
    .map(|(m, d)| date(2026, m, d))
    .collect();
    assert_eq!(holidays_2026, expected);
    assert_eq!(calendar.community_of(MADRID), Ok("MD"));
    assert_eq!(
        calendar.years().map(|y| y.year).collect::<Vec<_>>(),
        [2025, 2026]
    );
}

#[test]
fn given_bad_calendar_files_then_they_are_refused() {
    let provinces = r#"{"provinces": {"28": "MD"}}"#;
    assert!(matches!(
        HolidayCalendar::from_json_files(&[r#"{"year": 2026, "national": []}"#]),
        Err(CalendarError::InvalidData(_))
    ));
    assert!(matches!(
        HolidayCalendar::from_json_files(&[
            provinces,
            r#"{"year": 2026, "national": ["2025-12-25"]}"#
        ]),
        Err(CalendarError::DateOutsideYear { year: 2026, .. })
    ));
    assert!(matches!(
        HolidayCalendar::from_json_files(&[
            provinces,
            r#"{"year": 2026, "national": [], "regional": {"XX": []}}"#
        ]),
        Err(CalendarError::UnknownCommunity { .. })
    ));
    assert!(matches!(
        HolidayCalendar::from_json_files(&[
            provinces,
            r#"{"year": 2026, "national": [], "local": {"08019": {"days": []}}}"#
        ]),
        Err(CalendarError::UnknownProvince { .. })
    ));
    assert!(matches!(
        HolidayCalendar::from_json_files(&[provinces, r#"{"hello": 1}"#]),
        Err(CalendarError::InvalidData(_))
    ));
    let year = r#"{"year": 2026, "national": []}"#;
    assert!(matches!(
        HolidayCalendar::from_json_files(&[provinces, year, year]),
        Err(CalendarError::InvalidData(_))
    ));
}

#[test]
fn given_a_year_calendar_then_it_round_trips_through_json() {
    let calendar = HolidayCalendar::bundled();
    let year = calendar.year(2026).unwrap();
    let json = serde_json::to_string(year).unwrap();
    assert_eq!(&YearCalendar::from_json(&json).unwrap(), year);
    assert_eq!(
        year.islands.get("Tenerife"),
        Some(&IslandDays::One(date(2026, 2, 2)))
    );
}

#[test]
fn easter_and_good_friday_are_those_of_the_published_calendars() {
    use super::places::{assumed_national_holiday, easter_sunday};
    // Good Friday: 18 April 2025 and 3 April 2026 (BOE), 26 March 2027, 14 April 2028.
    for (year, good_friday) in [
        (2025, (4, 18)),
        (2026, (4, 3)),
        (2027, (3, 26)),
        (2028, (4, 14)),
    ] {
        let friday = date(year, good_friday.0, good_friday.1);
        assert!(assumed_national_holiday(friday), "{friday}");
        assert_eq!(
            easter_sunday(year),
            friday.checked_add_days(chrono::Days::new(2))
        );
    }
    // The assumption never invents a holiday: in the published years, every weekday it assumes
    // is a non-business day in Madrid.
    let bundled = HolidayCalendar::bundled();
    let madrid = bundled.places(Some("28079"), None).unwrap();
    for year in [2025, 2026] {
        let mut day = date(year, 1, 1);
        while chrono::Datelike::year(&day) == year {
            if assumed_national_holiday(day) {
                assert!(!bundled.is_business_day(day, &madrid), "{day}");
            }
            day = day.succ_opt().unwrap();
        }
    }
}

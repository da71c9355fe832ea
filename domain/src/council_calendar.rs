//! A council's legal calendar as an aggregate: the holidays it computes deadlines with are the
//! bundled official data plus every correction its administrators recorded, each an event saying
//! who (in the metadata), when, and on which official source. One stream per council.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::{CalendarError, HolidayCalendar, YearCalendar};
use crate::procedure::DomainEvent;
use crate::values::MunicipalityCode;

/// The aggregate.
#[derive(Debug)]
pub struct CouncilCalendar;

/// The calendar after the recorded changes (`None`: only the bundled data).
#[derive(Debug, Clone, Default)]
pub struct State {
    changed: Option<HolidayCalendar>,
}

impl State {
    /// The effective calendar.
    pub fn calendar(&self) -> HolidayCalendar {
        self.changed
            .clone()
            .unwrap_or_else(HolidayCalendar::bundled)
    }
}

/// The commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Adds or replaces a whole year (national, regional, island and local days).
    PublishYear {
        /// The year's data, in the documented file format.
        calendar: YearCalendar,
        /// The official publication it comes from (e.g. a BOE reference).
        source: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Sets a municipality's local holidays for a year already known.
    SetLocalDays {
        /// The year.
        year: i32,
        /// The municipality.
        municipality: MunicipalityCode,
        /// Its local holidays that year.
        days: Vec<NaiveDate>,
        /// The official publication.
        source: String,
        /// When.
        at: DateTime<Utc>,
    },
}

/// The events.
// The log stores `event_type()`: strum derives it from the variant names, in the same
// snake_case as the serde tag, so renaming a variant renames stored events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Event {
    /// A year was added or replaced.
    YearPublished {
        /// Its data.
        calendar: YearCalendar,
        /// The official source.
        source: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// A municipality's local days were set.
    LocalDaysSet {
        /// The year.
        year: i32,
        /// The municipality.
        municipality: MunicipalityCode,
        /// The days.
        days: Vec<NaiveDate>,
        /// The official source.
        source: String,
        /// When.
        at: DateTime<Utc>,
    },
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        self.into()
    }
}

/// Why a change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No official source given.
    #[error("name the official publication the days come from (source)")]
    NoSource,
    /// The data does not make sense.
    #[error("{0}")]
    Invalid(#[from] CalendarError),
    /// Duplicate days.
    #[error("{0} is listed twice")]
    Duplicate(NaiveDate),
}

impl esrs::Aggregate for CouncilCalendar {
    const NAME: &'static str = "council_calendar";
    type State = State;
    type Command = Command;
    type Event = Event;
    type Error = Refusal;

    fn handle_command(state: &State, command: Command) -> Result<Vec<Event>, Refusal> {
        let mut calendar = state.calendar();
        match command {
            Command::PublishYear {
                calendar: year,
                source,
                at,
            } => {
                if source.trim().is_empty() {
                    return Err(Refusal::NoSource);
                }
                calendar.upsert_year(year.clone())?;
                Ok(vec![Event::YearPublished {
                    calendar: year,
                    source: source.trim().to_owned(),
                    at,
                }])
            }
            Command::SetLocalDays {
                year,
                municipality,
                mut days,
                source,
                at,
            } => {
                if source.trim().is_empty() {
                    return Err(Refusal::NoSource);
                }
                days.sort();
                if let Some(pair) = days.windows(2).find(|w| w[0] == w[1]) {
                    return Err(Refusal::Duplicate(pair[0]));
                }
                if let Some(day) = days.iter().find(|d| d.year() != year) {
                    return Err(Refusal::Invalid(CalendarError::DateOutsideYear {
                        year,
                        date: *day,
                    }));
                }
                calendar.set_local_days(year, municipality.as_str(), &days, source.trim())?;
                Ok(vec![Event::LocalDaysSet {
                    year,
                    municipality,
                    days,
                    source: source.trim().to_owned(),
                    at,
                }])
            }
        }
    }

    fn apply_event(state: State, event: Event) -> State {
        let mut calendar = state.calendar();
        // Events were validated when recorded; a change that no longer applies (it cannot happen
        // with the same bundled data) leaves the calendar as it was rather than lose the rest.
        let _ = match event {
            Event::YearPublished { calendar: year, .. } => calendar.upsert_year(year).map(|_| ()),
            Event::LocalDaysSet {
                year,
                municipality,
                days,
                source,
                ..
            } => calendar
                .set_local_days(year, municipality.as_str(), &days, &source)
                .map(|_| ()),
        };
        State {
            changed: Some(calendar),
        }
    }
}

/// The stream id of a council's calendar.
pub fn stream_id(tenant: &MunicipalityCode) -> uuid::Uuid {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("expedientes:council_calendar:{tenant}").as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{DeadlineRequest, Unit};
    use crate::testing::given;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 10, 9, 0, 0).unwrap()
    }
    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }
    fn leganes() -> MunicipalityCode {
        "28074".parse().unwrap()
    }
    fn local_set() -> Event {
        Event::LocalDaysSet {
            year: 2026,
            municipality: leganes(),
            days: vec![d(7, 21), d(8, 17)],
            source: "BOCM 2025-12-12".into(),
            at: at(),
        }
    }

    #[test]
    fn local_days_are_recorded_and_used() {
        let state = given::<CouncilCalendar>([])
            .when(Command::SetLocalDays {
                year: 2026,
                municipality: leganes(),
                days: vec![d(8, 17), d(7, 21)],
                source: " BOCM 2025-12-12 ".into(),
                at: at(),
            })
            .then([local_set()]);
        let request = DeadlineRequest {
            from: d(7, 20),
            at: None,
            amount: 1,
            unit: Unit::BusinessDays,
            seat: Some("28074".into()),
            residence: None,
        };
        assert_eq!(
            state.calendar().compute(&request).unwrap().due_date,
            d(7, 22)
        );
        assert_eq!(
            State::default()
                .calendar()
                .compute(&request)
                .unwrap()
                .due_date,
            d(7, 21)
        );
    }

    #[test]
    fn a_change_needs_its_official_source() {
        given::<CouncilCalendar>([])
            .when(Command::SetLocalDays {
                year: 2026,
                municipality: leganes(),
                days: vec![d(7, 21)],
                source: "  ".into(),
                at: at(),
            })
            .then_refused(|e| *e == Refusal::NoSource);
    }

    #[test]
    fn local_days_outside_the_year_or_twice_are_refused() {
        given::<CouncilCalendar>([])
            .when(Command::SetLocalDays {
                year: 2026,
                municipality: leganes(),
                days: vec![NaiveDate::from_ymd_opt(2027, 1, 2).unwrap()],
                source: "x".into(),
                at: at(),
            })
            .then_refused(|e| matches!(e, Refusal::Invalid(CalendarError::DateOutsideYear { .. })));
        given::<CouncilCalendar>([])
            .when(Command::SetLocalDays {
                year: 2026,
                municipality: leganes(),
                days: vec![d(7, 21), d(7, 21)],
                source: "x".into(),
                at: at(),
            })
            .then_refused(|e| *e == Refusal::Duplicate(d(7, 21)));
    }

    #[test]
    fn local_days_of_an_unknown_year_are_refused() {
        given::<CouncilCalendar>([])
            .when(Command::SetLocalDays {
                year: 2030,
                municipality: leganes(),
                days: vec![NaiveDate::from_ymd_opt(2030, 5, 15).unwrap()],
                source: "x".into(),
                at: at(),
            })
            .then_refused(|e| {
                matches!(e, Refusal::Invalid(CalendarError::NoCalendarForYear(2030)))
            });
    }

    #[test]
    fn a_new_year_can_be_published_then_used() {
        let year: YearCalendar = serde_json::from_value(serde_json::json!({
            "year": 2027, "official": true,
            "sources": {"national_and_regional": "BOE-A-2026-00000"},
            "national": ["2027-01-01", "2027-01-06"],
            "regional": {"MD": ["2027-03-25"]},
            "local": {"28079": {"name": "Madrid", "days": ["2027-05-15"]}}
        }))
        .unwrap();
        let published = Event::YearPublished {
            calendar: year.clone(),
            source: "BOE-A-2026-00000".into(),
            at: at(),
        };
        let state = given::<CouncilCalendar>([])
            .when(Command::PublishYear {
                calendar: year,
                source: "BOE-A-2026-00000".into(),
                at: at(),
            })
            .then([published]);
        let result = state
            .calendar()
            .compute(&DeadlineRequest {
                from: NaiveDate::from_ymd_opt(2027, 1, 5).unwrap(),
                at: None,
                amount: 1,
                unit: Unit::BusinessDays,
                seat: Some("28079".into()),
                residence: None,
            })
            .unwrap();
        assert_eq!(
            result.due_date,
            NaiveDate::from_ymd_opt(2027, 1, 7).unwrap()
        );
        assert!(result.warnings.is_empty(), "{:?}", result.warnings);
    }

    #[test]
    fn event_types_are_the_names_stored_in_the_log() {
        let year: YearCalendar = serde_json::from_value(serde_json::json!({
            "year": 2027, "official": true, "national": ["2027-01-01"]
        }))
        .unwrap();
        let published = Event::YearPublished {
            calendar: year,
            source: "BOE-A-2026-00000".into(),
            at: at(),
        };
        for (event, name) in [
            (published, "year_published"),
            (local_set(), "local_days_set"),
        ] {
            assert_eq!(event.event_type(), name);
            assert_eq!(serde_json::to_value(&event).unwrap()["type"], name);
        }
    }

    #[test]
    fn a_year_with_dates_of_another_year_is_refused() {
        let year: YearCalendar = serde_json::from_value(serde_json::json!({
            "year": 2027, "official": true, "national": ["2026-01-01"]
        }))
        .unwrap();
        given::<CouncilCalendar>([])
            .when(Command::PublishYear {
                calendar: year,
                source: "x".into(),
                at: at(),
            })
            .then_refused(|e| matches!(e, Refusal::Invalid(CalendarError::DateOutsideYear { .. })));
    }
}

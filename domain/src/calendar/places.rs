//! Where a deadline runs (the places whose holidays count, art. 30.6) and the day-by-day lookup
//! of non-business days, which also collects warnings about missing calendars.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{Datelike, NaiveDate, Weekday};

use super::data::{local_source_key, HolidayCalendar};
use super::{CalendarError, ExcludedDay, Step};

/// The role of a place in a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Seat,
    Residence,
    Both,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Seat => "the body's seat",
            Role::Residence => "the person's residence",
            Role::Both => "the body's seat and the person's residence",
        })
    }
}

/// A municipality whose holidays count for a deadline, resolved against the province table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    municipality: String,
    community: String,
    island: Option<String>,
    role: Role,
}

impl Place {
    /// Its INE code.
    pub fn municipality(&self) -> &str {
        &self.municipality
    }

    /// Its autonomous community.
    pub fn community(&self) -> &str {
        &self.community
    }

    /// Its island, if one was set with [`HolidayCalendar::set_island`].
    pub fn island(&self) -> Option<&str> {
        self.island.as_deref()
    }
}

/// The places whose holidays count for a deadline: the body's seat and the person's residence,
/// either of them optional. A day that is a holiday in any of them is a holiday (art. 30.6). Build
/// it with [`HolidayCalendar::places`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Places {
    list: Vec<Place>,
}

impl Places {
    /// The places, seat first.
    pub fn iter(&self) -> impl Iterator<Item = &Place> {
        self.list.iter()
    }

    /// Whether no place was given (only national holidays apply).
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Whether two different municipalities are united (art. 30.6).
    pub(super) fn is_union(&self) -> bool {
        self.list.len() > 1
    }

    /// "28079 (the body's seat, MD) or 08019 (the person's residence, CT)".
    pub(super) fn describe(&self) -> String {
        self.list
            .iter()
            .map(|p| format!("{} ({}, {})", p.municipality, p.role, p.community))
            .collect::<Vec<_>>()
            .join(" or ")
    }
}

impl HolidayCalendar {
    /// Resolves the seat and residence municipalities (INE codes) of a deadline. The same
    /// municipality given twice counts once.
    pub fn places(
        &self,
        seat: Option<&str>,
        residence: Option<&str>,
    ) -> Result<Places, CalendarError> {
        let mut list: Vec<Place> = Vec::with_capacity(2);
        for (code, role) in [(seat, Role::Seat), (residence, Role::Residence)] {
            let Some(code) = code else { continue };
            let community = self.community_of(code)?.to_owned();
            if let Some(existing) = list.iter_mut().find(|p| p.municipality == code) {
                existing.role = Role::Both;
                continue;
            }
            list.push(Place {
                municipality: code.to_owned(),
                community,
                island: self.island_of(code).map(str::to_owned),
                role,
            });
        }
        Ok(Places { list })
    }

    /// Why `date` is not a business day for these places, or `None` if it is one. A day with several
    /// reasons gets the broadest: weekend, then national, regional, island and local holiday. A year
    /// with no calendar has its weekends and the holidays every year has (see
    /// [`assumed_national_holiday`]); the deadline functions warn that the result is provisional.
    pub fn non_business_reason(&self, date: NaiveDate, places: &Places) -> Option<String> {
        match date.weekday() {
            Weekday::Sat => return Some("Saturday".into()),
            Weekday::Sun => return Some("Sunday".into()),
            _ => {}
        }
        let Some(year) = self.year(date.year()) else {
            return assumed_national_holiday(date).then(|| {
                format!(
                    "national holiday (assumed: no calendar published for {})",
                    date.year()
                )
            });
        };
        if year.national.contains(&date) {
            return Some("national holiday".into());
        }
        let regional = places.iter().find(|p| {
            year.regional
                .get(&p.community)
                .is_some_and(|days| days.contains(&date))
        });
        if let Some(place) = regional {
            return Some(format!("regional holiday ({})", place.community));
        }
        let island = places
            .iter()
            .filter_map(|p| p.island.as_deref())
            .find(|island| {
                year.islands
                    .get(*island)
                    .is_some_and(|days| days.contains(date))
            });
        if let Some(island) = island {
            return Some(format!("island holiday ({island})"));
        }
        let local = places.iter().find(|p| {
            year.local
                .get(&p.municipality)
                .is_some_and(|l| l.days.contains(&date))
        });
        local.map(|p| format!("local holiday ({})", p.municipality))
    }

    /// Whether `date` is a business day for these places.
    pub fn is_business_day(&self, date: NaiveDate, places: &Places) -> bool {
        self.non_business_reason(date, places).is_none()
    }

    /// Why a deadline at `seat` whose days run from `from` to `to` is provisional — every year
    /// it spans that lacks a published calendar, or its regional or local holidays (the same
    /// warnings its computation gave) — or `None` when its days are all known. A caller shows it
    /// beside the date; once an administrator publishes what was missing, the mark goes.
    pub fn provisional(&self, from: NaiveDate, to: NaiveDate, seat: &str) -> Option<String> {
        let places = self.places(Some(seat), None).ok()?;
        let warnings: Vec<String> = (from.year()..=to.year().max(from.year()))
            .flat_map(|year| self.year_warnings(year, &places))
            .collect();
        (!warnings.is_empty()).then(|| warnings.join("; "))
    }

    /// What is missing to know the non-business days of `year` for these places.
    fn year_warnings(&self, year: i32, places: &Places) -> Vec<String> {
        let Some(data) = self.year(year) else {
            return vec![format!(
                "no calendar for {year}: its fixed national holidays (1 and 6 January, 1 May, 15 August, 12 October, 1 November, 6, 8 and 25 December) and Good Friday were assumed; its regional and local holidays are not known, so the date is provisional"
            )];
        };
        let mut warnings = Vec::new();
        if !data.official {
            warnings.push(format!(
                "the calendar for {year} is not marked official: its holidays may still change"
            ));
        }
        for place in places.iter() {
            if !data.regional.contains_key(&place.community) {
                warnings.push(format!(
                    "no regional holidays known for {} in {year}",
                    place.community
                ));
            }
            match place.island.as_deref() {
                Some(island) if !data.islands.contains_key(island) => {
                    warnings.push(format!("no island holidays known for {island} in {year}"));
                }
                None if place.community == "CN" => warnings.push(format!(
                    "island holidays not applied for municipality {} in {year}: its island is not known",
                    place.municipality
                )),
                _ => {}
            }
            if !data.local.contains_key(&place.municipality) {
                warnings.push(format!(
                    "no local holidays known for municipality {} in {year}",
                    place.municipality
                ));
            }
        }
        warnings
    }

    /// Where this year's holidays for these places were published, for citing.
    fn source_lines(&self, year: i32, places: &Places) -> Vec<String> {
        let Some(data) = self.year(year) else {
            return Vec::new();
        };
        let mut lines = Vec::new();
        let mut cite = |label: String, key: &str| {
            if let Some(source) = data.sources.get(key) {
                let line = format!("{label}: {source}");
                if !lines.contains(&line) {
                    lines.push(line);
                }
            }
        };
        if data.sources.contains_key("national_and_regional") {
            cite("national and regional".into(), "national_and_regional");
        } else {
            cite("national".into(), "national");
            for place in places.iter() {
                cite(
                    format!("regional {}", place.community),
                    &format!("regional.{}", place.community),
                );
            }
        }
        if places.iter().any(|p| p.island.is_some()) {
            cite("islands".into(), "islands");
        }
        for place in places.iter() {
            cite(
                format!("local {}", place.municipality),
                &local_source_key(&place.municipality),
            );
        }
        lines
    }
}

/// A walk over days for one computation: classifies each day, remembers the excluded ones, and
/// collects each year's warnings the first time a day of that year is looked at. Only the years
/// actually looked at matter: a calendar-day deadline does not care about holidays inside it.
#[derive(Debug)]
pub(super) struct Scan<'a> {
    calendar: &'a HolidayCalendar,
    places: &'a Places,
    years: BTreeSet<i32>,
    pub(super) warnings: Vec<String>,
    pub(super) excluded: Vec<ExcludedDay>,
}

impl<'a> Scan<'a> {
    pub(super) fn new(calendar: &'a HolidayCalendar, places: &'a Places) -> Self {
        let mut warnings = Vec::new();
        if places.is_empty() {
            warnings.push(
                "no municipality given: only Saturdays, Sundays and national holidays were applied"
                    .to_owned(),
            );
        }
        Self {
            calendar,
            places,
            years: BTreeSet::new(),
            warnings,
            excluded: Vec::new(),
        }
    }

    pub(super) fn warn(&mut self, warning: String) {
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    /// Collects the warnings of `year` the first time one of its days is looked at.
    fn see_year(&mut self, year: i32) {
        if self.years.insert(year) {
            for warning in self.calendar.year_warnings(year, self.places) {
                self.warn(warning);
            }
        }
    }

    /// Whether `date` is a business day, without recording it as excluded.
    pub(super) fn is_business_day_quiet(&mut self, date: NaiveDate) -> bool {
        self.see_year(date.year());
        self.calendar.is_business_day(date, self.places)
    }

    /// Whether `date` is a business day; if not, it is recorded as excluded.
    pub(super) fn is_business_day(&mut self, date: NaiveDate) -> bool {
        self.see_year(date.year());
        match self.calendar.non_business_reason(date, self.places) {
            Some(reason) => {
                self.excluded.push(ExcludedDay { date, reason });
                false
            }
            None => true,
        }
    }

    /// `date` if it is a business day, else the first business day after it.
    pub(super) fn first_business_day_from(
        &mut self,
        mut date: NaiveDate,
    ) -> Result<NaiveDate, CalendarError> {
        while !self.is_business_day(date) {
            date = next_day(date)?;
        }
        Ok(date)
    }

    /// The steps citing the published calendars of the years looked at (art. 30.7).
    pub(super) fn source_steps(&self) -> Vec<Step> {
        self.years
            .iter()
            .filter_map(|&year| {
                let lines = self.calendar.source_lines(year, self.places);
                (!lines.is_empty()).then(|| {
                    Step::new(
                        format!(
                            "Non-business days for {year} as published in: {}",
                            lines.join("; ")
                        ),
                        "art. 30.7 LPAC",
                    )
                })
            })
            .collect()
    }
}

/// The day after `date`.
pub(super) fn next_day(date: NaiveDate) -> Result<NaiveDate, CalendarError> {
    date.succ_opt().ok_or(CalendarError::DateOutOfRange)
}

/// "Monday 2026-07-20".
pub(super) fn day(date: NaiveDate) -> String {
    let name = match date.weekday() {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    };
    format!("{name} {date}")
}

/// Whether `date` is one of the national holidays every year has (Real Decreto 2001/1983, art. 45:
/// 1 January, Good Friday, 1 May, 15 August, 12 October, 1 November, 6 and 8 December, 25
/// December; and 6 January, which every community has kept), assumed for a year whose calendar is
/// not published yet: counting them as business days would end a deadline early.
pub fn assumed_national_holiday(date: NaiveDate) -> bool {
    let fixed = matches!(
        (date.month(), date.day()),
        (1, 1) | (1, 6) | (5, 1) | (8, 15) | (10, 12) | (11, 1) | (12, 6) | (12, 8) | (12, 25)
    );
    fixed
        || easter_sunday(date.year()).and_then(|e| e.checked_sub_days(chrono::Days::new(2)))
            == Some(date)
}

/// Easter Sunday of a Gregorian year (the anonymous Gregorian algorithm, Meeus/Jones/Butcher).
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32)
}

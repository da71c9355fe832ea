//! The calendar data: one [`YearCalendar`] per published year, the province table, and the
//! [`HolidayCalendar`] that holds them.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::CalendarError;

const BUNDLED_PROVINCES: &str = include_str!("../../../data/calendars/provinces.json");
const BUNDLED_YEARS: [&str; 2] = [
    include_str!("../../../data/calendars/es-2025.json"),
    include_str!("../../../data/calendars/es-2026.json"),
];

/// The key of `sources` citing a municipality's local holidays.
pub(super) fn local_source_key(municipality: &str) -> String {
    format!("local.{municipality}")
}

/// One year's non-business days, as published (art. 30.7). This is the JSON format of the files in
/// `data/calendars/es-YYYY.json`:
///
/// ```json
/// {
///   "year": 2026,
///   "official": true,
///   "note": "free text",
///   "sources": {
///     "national_and_regional": "BOE-A-2025-23702 ...",
///     "islands": "...",
///     "local.28079": "BOCM n.º 296 ..."
///   },
///   "national": ["2026-01-01", "..."],
///   "regional": { "MD": ["2026-04-02", "..."] },
///   "islands": { "Tenerife": "2026-02-02" },
///   "local": { "28079": { "name": "Madrid", "days": ["2026-05-15", "2026-11-09"] } }
/// }
/// ```
///
/// Saturdays and Sundays are never listed: they are always non-business days. `regional` is keyed
/// by autonomous community (ISO 3166-2:ES without the `ES-` prefix), `local` by 5-digit INE
/// municipality code, `islands` by island name (one date or a list). A community or municipality
/// that is *absent* has unknown holidays (and results warn about it); one present with an empty list
/// has none. `official` defaults to `false` (results then warn that the year is provisional).
/// `sources` cites where each part was published: `national_and_regional` (or `national` and
/// `regional.XX`), `islands` and `local.<INE code>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearCalendar {
    /// The calendar year.
    pub year: i32,
    /// Whether the data comes from the official publication (false: provisional).
    #[serde(default)]
    pub official: bool,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Official sources, keyed as described above.
    #[serde(default)]
    pub sources: BTreeMap<String, String>,
    /// Holidays everywhere in Spain.
    pub national: BTreeSet<NaiveDate>,
    /// Holidays of each autonomous community.
    #[serde(default)]
    pub regional: BTreeMap<String, BTreeSet<NaiveDate>>,
    /// Holidays of each (Canary) island.
    #[serde(default)]
    pub islands: BTreeMap<String, IslandDays>,
    /// Holidays of each municipality, by INE code.
    #[serde(default)]
    pub local: BTreeMap<String, LocalDays>,
}

impl YearCalendar {
    /// Parses one year file (see the type's docs for the format). Only the JSON is checked here;
    /// [`HolidayCalendar::upsert_year`] checks it against the province table.
    pub fn from_json(json: &str) -> Result<Self, CalendarError> {
        serde_json::from_str(json).map_err(|e| CalendarError::InvalidData(e.to_string()))
    }

    /// Every date listed anywhere in the file.
    fn all_dates(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.national
            .iter()
            .chain(self.regional.values().flatten())
            .copied()
            .chain(self.islands.values().flat_map(IslandDays::dates))
            .chain(self.local.values().flat_map(|l| l.days.iter().copied()))
    }
}

/// An island's holidays: the published files give one date per island, a list is accepted too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IslandDays {
    /// A single day (the usual case).
    One(NaiveDate),
    /// Several days.
    Many(BTreeSet<NaiveDate>),
}

impl IslandDays {
    /// Whether `date` is one of the days.
    pub fn contains(&self, date: NaiveDate) -> bool {
        match self {
            IslandDays::One(day) => *day == date,
            IslandDays::Many(days) => days.contains(&date),
        }
    }

    /// The days, in order.
    pub fn dates(&self) -> Vec<NaiveDate> {
        match self {
            IslandDays::One(day) => vec![*day],
            IslandDays::Many(days) => days.iter().copied().collect(),
        }
    }
}

/// A municipality's own holidays for one year (normally two).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalDays {
    /// The municipality's name, for humans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The days.
    pub days: BTreeSet<NaiveDate>,
}

/// `provinces.json`: `{"note": "...", "provinces": {"28": "MD", ...}}`.
#[derive(Debug, Deserialize)]
struct ProvinceFile {
    provinces: BTreeMap<String, String>,
}

/// The legal calendar: the province table (province -> autonomous community) and the published
/// non-business days of each known year. Cheap to clone; build it once with [`Self::bundled`] or
/// [`Self::from_json_files`] and share it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayCalendar {
    /// Two-digit province code -> autonomous community code.
    provinces: BTreeMap<String, String>,
    years: BTreeMap<i32, YearCalendar>,
    /// INE municipality code -> island name, for island holidays (see [`Self::set_island`]).
    islands_of: BTreeMap<String, String>,
}

impl HolidayCalendar {
    /// A calendar with this province table (two-digit province code -> community code) and no
    /// years yet.
    pub fn new(provinces: BTreeMap<String, String>) -> Self {
        Self {
            provinces,
            years: BTreeMap::new(),
            islands_of: BTreeMap::new(),
        }
    }

    /// The data shipped with the program (`data/calendars/`), compiled in.
    pub fn bundled() -> Self {
        let mut files = vec![BUNDLED_PROVINCES];
        files.extend(BUNDLED_YEARS);
        Self::from_json_files(&files)
            .expect("the bundled calendar data is valid (checked by the calendar's unit tests)")
    }

    /// Builds a calendar from the contents of JSON files, in any order: exactly one province table
    /// (an object with a `provinces` key) and any number of year files (an object with a `year`
    /// key, see [`YearCalendar`]), each year at most once.
    pub fn from_json_files(files: &[&str]) -> Result<Self, CalendarError> {
        let invalid = |e: serde_json::Error| CalendarError::InvalidData(e.to_string());
        let mut provinces = None;
        let mut years = Vec::new();
        for (index, file) in files.iter().enumerate() {
            let value: serde_json::Value = serde_json::from_str(file).map_err(invalid)?;
            if value.get("provinces").is_some() {
                let table: ProvinceFile = serde_json::from_value(value).map_err(invalid)?;
                if provinces.replace(table.provinces).is_some() {
                    return Err(CalendarError::InvalidData(
                        "more than one province table given".into(),
                    ));
                }
            } else if value.get("year").is_some() {
                years.push(serde_json::from_value::<YearCalendar>(value).map_err(invalid)?);
            } else {
                return Err(CalendarError::InvalidData(format!(
                    "file #{} is neither a province table ('provinces') nor a year calendar ('year')",
                    index + 1
                )));
            }
        }
        let provinces = provinces
            .ok_or_else(|| CalendarError::InvalidData("no province table given".into()))?;
        let mut calendar = Self::new(provinces);
        for year in years {
            let number = year.year;
            if calendar.upsert_year(year)?.is_some() {
                return Err(CalendarError::InvalidData(format!(
                    "the calendar for {number} is given twice"
                )));
            }
        }
        Ok(calendar)
    }

    /// Adds a year's calendar, or replaces it if the year is already known (returning the old one).
    /// Every date must belong to the year, every community must be one of the province table and
    /// every municipality a valid INE code of a known province.
    pub fn upsert_year(
        &mut self,
        year: YearCalendar,
    ) -> Result<Option<YearCalendar>, CalendarError> {
        if let Some(date) = year.all_dates().find(|d| d.year() != year.year) {
            return Err(CalendarError::DateOutsideYear {
                year: year.year,
                date,
            });
        }
        if let Some(community) = year
            .regional
            .keys()
            .find(|c| !self.provinces.values().any(|known| known == *c))
        {
            return Err(CalendarError::UnknownCommunity {
                year: year.year,
                community: community.clone(),
            });
        }
        for municipality in year.local.keys() {
            self.community_of(municipality)?;
        }
        Ok(self.years.insert(year.year, year))
    }

    /// Parses a year file and adds or replaces it (see [`Self::upsert_year`]).
    pub fn upsert_year_json(&mut self, json: &str) -> Result<Option<YearCalendar>, CalendarError> {
        self.upsert_year(YearCalendar::from_json(json)?)
    }

    /// Sets (or replaces) a municipality's local holidays for a year whose calendar is loaded, with
    /// the official source they were published in. Returns the days it replaced, if any.
    pub fn set_local_days(
        &mut self,
        year: i32,
        municipality: &str,
        days: &[NaiveDate],
        source: &str,
    ) -> Result<Option<LocalDays>, CalendarError> {
        self.community_of(municipality)?;
        if let Some(date) = days.iter().find(|d| d.year() != year) {
            return Err(CalendarError::DateOutsideYear { year, date: *date });
        }
        let entry = self
            .years
            .get_mut(&year)
            .ok_or(CalendarError::NoCalendarForYear(year))?;
        let name = entry.local.get(municipality).and_then(|l| l.name.clone());
        entry
            .sources
            .insert(local_source_key(municipality), source.to_owned());
        Ok(entry.local.insert(
            municipality.to_owned(),
            LocalDays {
                name,
                days: days.iter().copied().collect(),
            },
        ))
    }

    /// Says which island a municipality is on, so that its island holidays apply. Island holidays
    /// (Canary Islands) exist only for municipalities named here; for other Canary municipalities
    /// results warn that island holidays were not applied.
    pub fn set_island(&mut self, municipality: &str, island: &str) -> Result<(), CalendarError> {
        self.community_of(municipality)?;
        self.islands_of
            .insert(municipality.to_owned(), island.to_owned());
        Ok(())
    }

    /// The calendar of a year, if loaded.
    pub fn year(&self, year: i32) -> Option<&YearCalendar> {
        self.years.get(&year)
    }

    /// The loaded years, in order.
    pub fn years(&self) -> impl Iterator<Item = &YearCalendar> {
        self.years.values()
    }

    /// The autonomous community of a municipality, from its province (its first two digits).
    /// Fails if the code is not 5 digits or its province is not in the table.
    pub fn community_of(&self, municipality: &str) -> Result<&str, CalendarError> {
        if municipality.len() != 5 || !municipality.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CalendarError::InvalidMunicipalityCode(
                municipality.chars().take(64).collect(),
            ));
        }
        let province = &municipality[..2];
        self.provinces
            .get(province)
            .map(String::as_str)
            .ok_or_else(|| CalendarError::UnknownProvince {
                code: municipality.to_owned(),
                province: province.to_owned(),
            })
    }

    /// The island a municipality was said to be on, if any.
    pub(super) fn island_of(&self, municipality: &str) -> Option<&str> {
        self.islands_of.get(municipality).map(String::as_str)
    }
}

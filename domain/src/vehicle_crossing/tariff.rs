//! A council's tariff for vehicle crossings, year by year, as an aggregate: every published year
//! is an event saying who (in the metadata), when and on which official source, so a liquidation
//! can always be traced to the tariff it used. One stream per council; amounts never come from
//! code.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::values::Tariff;
use crate::procedure::DomainEvent;
use crate::values::MunicipalityCode;

/// The aggregate.
#[derive(Debug)]
pub struct CrossingTariff;

/// The tariffs published, by year (the last publication of a year wins).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// By year.
    pub years: BTreeMap<i32, Tariff>,
}

/// The commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Publishes (adds or replaces) a year's tariff.
    PublishYear {
        /// The tariff.
        tariff: Tariff,
        /// When.
        at: DateTime<Utc>,
    },
}

/// The events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Event {
    /// A year's tariff was published.
    YearPublished {
        /// The tariff.
        tariff: Tariff,
        /// When.
        at: DateTime<Utc>,
    },
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        self.into()
    }
}

/// A refusal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A tariff that does not hold.
    #[error("{0}")]
    Invalid(&'static str),
    /// The same tariff again.
    #[error("the tariff of {0} is already this one")]
    Unchanged(i32),
}

impl esrs::Aggregate for CrossingTariff {
    const NAME: &'static str = "crossing_tariff";
    type State = State;
    type Command = Command;
    type Event = Event;
    type Error = Refusal;

    fn handle_command(state: &State, command: Command) -> Result<Vec<Event>, Refusal> {
        match command {
            Command::PublishYear { mut tariff, at } => {
                tariff.check().map_err(Refusal::Invalid)?;
                tariff.source = tariff.source.trim().to_owned();
                if state.years.get(&tariff.year) == Some(&tariff) {
                    return Err(Refusal::Unchanged(tariff.year));
                }
                Ok(vec![Event::YearPublished { tariff, at }])
            }
        }
    }

    fn apply_event(mut state: State, event: Event) -> State {
        match event {
            Event::YearPublished { tariff, .. } => {
                state.years.insert(tariff.year, tariff);
            }
        }
        state
    }
}

/// The council's tariff stream.
pub fn stream_id(tenant: &MunicipalityCode) -> uuid::Uuid {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("expedientes:crossing_tariff:{tenant}").as_bytes(),
    )
}

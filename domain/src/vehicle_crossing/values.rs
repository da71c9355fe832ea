//! The value types of a vehicle crossing: who applies and why they may, the works, the measures
//! of the crossing, the documents the application needs, the council's tariff and the
//! liquidation it gives, the guarantees before the authorisation is collected, the plate number.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::values::ParseError;

/// The applicant's standing (who may apply, seed 004 "¿A quién va dirigido?").
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Standing {
    /// Owner of the property the crossing gives access to.
    Owner,
    /// Legitimate possessor of the property under any valid title (a tenant, say).
    LegitimatePossessor,
    /// Whoever runs the activity the crossing serves.
    ActivityOperator,
    /// A community of owners (propiedad horizontal), through its representative.
    CommunityOfOwners,
    /// The owner of works, for a provisional crossing to reach them.
    WorksOwner,
    /// The holder of a municipal concession.
    ConcessionHolder,
}

impl Standing {
    /// Its code as stored.
    pub fn code(self) -> &'static str {
        self.into()
    }
}

/// Who does the works the crossing needs, if any.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Works {
    /// No works: the kerb and pavement already allow it.
    None,
    /// The applicant does the works (a report on materials and signage and a budget; insurance
    /// and a deposit before the authorisation is collected).
    ByApplicant,
    /// The council does them at the applicant's request (public price for works on the street).
    ByCouncil,
    /// Urbanisation works that build or remake the pavement include the crossing: only the
    /// title and the location plan are needed.
    Urbanisation,
}

impl Works {
    /// Whether there are works (the liquidation then has the urban-services fee and the
    /// construction tax).
    pub fn any(self) -> bool {
        self != Works::None
    }

    /// Whether the signage month counts from the acceptance of the works rather than from the
    /// notification of the authorisation.
    pub fn accepted_before_sign(self) -> bool {
        matches!(self, Works::ByApplicant | Works::ByCouncil)
    }

    /// Its code as stored.
    pub fn code(self) -> &'static str {
        self.into()
    }
}

/// A class of vehicle, for the parking places the 1:100 plan shows.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum VehicleClass {
    /// Cars.
    Car,
    /// Motorcycles.
    Motorcycle,
    /// Vans and light goods vehicles.
    Van,
    /// Lorries.
    Lorry,
    /// Buses and coaches.
    Bus,
}

/// The parking places of one class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParkingPlaces {
    /// The class.
    pub class: VehicleClass,
    /// How many (1 to 10,000).
    pub count: u32,
}

/// The crossing's measures, as the 1:100 plan gives them (centimetres and square metres).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measures {
    /// Width of the crossing along the kerb (the fee's basis).
    pub crossing_width_cm: u32,
    /// Width of the access to the property.
    pub access_width_cm: u32,
    /// Width of the pavement.
    pub pavement_width_cm: u32,
    /// Height of the property's floor over the pavement (cota), may be negative.
    pub kerb_height_cm: i32,
    /// Surface for vehicles to stand.
    pub parking_surface_m2: u32,
    /// Parking places by class of vehicle.
    pub parking_places: Vec<ParkingPlaces>,
    /// Whether there is a loading zone.
    pub loading_zone: bool,
    /// Street furniture affected (bollards, a tree pit, a lamp post), or empty.
    pub affected_street_furniture: String,
}

impl Measures {
    /// Checks that the measures are those of a real crossing: widths from 1 cm to 50 m, a height
    /// within ±5 m, a surface up to 100,000 m², at most 20 classes and 10,000 places per class,
    /// a description of up to 500 characters on one line.
    pub fn check(&self) -> Result<(), &'static str> {
        let width = 1..=5_000;
        if !width.contains(&self.crossing_width_cm) {
            return Err("the crossing's width is from 1 to 5,000 cm");
        }
        if !width.contains(&self.access_width_cm) {
            return Err("the access's width is from 1 to 5,000 cm");
        }
        if !width.contains(&self.pavement_width_cm) {
            return Err("the pavement's width is from 1 to 5,000 cm");
        }
        if !(-500..=500).contains(&self.kerb_height_cm) {
            return Err("the height over the pavement is from -500 to 500 cm");
        }
        if self.parking_surface_m2 > 100_000 {
            return Err("the parking surface is at most 100,000 m²");
        }
        if self.parking_places.len() > 20
            || self
                .parking_places
                .iter()
                .any(|p| !(1..=10_000).contains(&p.count))
        {
            return Err("parking places: at most 20 classes, each with 1 to 10,000 places");
        }
        for (i, p) in self.parking_places.iter().enumerate() {
            if self.parking_places[..i].iter().any(|q| q.class == p.class) {
                return Err("parking places: each class of vehicle once");
            }
        }
        if self.affected_street_furniture.chars().count() > 500
            || self.affected_street_furniture.chars().any(char::is_control)
        {
            return Err("the affected street furniture is one line of at most 500 characters");
        }
        Ok(())
    }
}

/// A document the application needs: an item of the file's checklist.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumIter,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Requirement {
    /// Title to the property or to its legitimate occupation, with the owner's identity.
    Title,
    /// Descriptive report justifying the need for the crossing.
    DescriptiveReport,
    /// Location plan at 1:500, showing the property.
    LocationPlan,
    /// Plan at 1:100: parking places by class, surface, height over the pavement, loading zone,
    /// pavement, access and crossing widths, affected street furniture.
    DetailPlan,
    /// Works by the applicant: report on materials (dimensions and qualities), signage and
    /// beaconing during the works.
    WorksReport,
    /// Works by the applicant: budget of the works' material execution.
    WorksBudget,
    /// Protective islands: the approval (homologación) of the model to be installed.
    IslandApproval,
}

impl Requirement {
    /// Its code as stored and in the API.
    pub fn code(self) -> &'static str {
        self.into()
    }

    /// What it is, for the person who must bring it.
    pub fn describe(self) -> &'static str {
        match self {
            Requirement::Title => {
                "the title to the property or to its occupation, with the owner's identity"
            }
            Requirement::DescriptiveReport => {
                "the descriptive report justifying the need for the crossing"
            }
            Requirement::LocationPlan => "the location plan at 1:500",
            Requirement::DetailPlan => {
                "the plan at 1:100 (parking places, surface, heights, widths, street furniture)"
            }
            Requirement::WorksReport => {
                "the report on the works' materials and on signage during the works"
            }
            Requirement::WorksBudget => "the budget of the works",
            Requirement::IslandApproval => "the approval of the protective island's model",
        }
    }
}

/// What a file asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "purpose", rename_all = "snake_case")]
pub enum Purpose {
    /// An authorisation of a crossing; `replaces` names the crossing a modification with works
    /// replaces (it is treated as a new authorisation, and the old one ends when it is issued).
    Authorisation {
        /// The crossing it replaces.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replaces: Option<Uuid>,
    },
    /// Protective islands (isletas) for an authorised crossing: a later, separate authorisation.
    ProtectiveIsland {
        /// The crossing.
        crossing: Uuid,
    },
}

/// The documents a file needs: with urbanisation works only the title and the location plan;
/// with works by the applicant also the works' report and budget; protective islands, the
/// model's approval.
pub fn required_documents(purpose: Purpose, works: Works) -> Vec<Requirement> {
    use Requirement as R;
    match (purpose, works) {
        (Purpose::ProtectiveIsland { .. }, _) => vec![R::IslandApproval],
        (_, Works::Urbanisation) => vec![R::Title, R::LocationPlan],
        (_, Works::ByApplicant) => vec![
            R::Title,
            R::DescriptiveReport,
            R::LocationPlan,
            R::DetailPlan,
            R::WorksReport,
            R::WorksBudget,
        ],
        (_, Works::None | Works::ByCouncil) => {
            vec![
                R::Title,
                R::DescriptiveReport,
                R::LocationPlan,
                R::DetailPlan,
            ]
        }
    }
}

/// Where an item of the checklist stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ItemStatus {
    /// Not brought yet.
    Missing,
    /// Brought, waiting for the caseworker's check.
    Provided,
    /// Checked and valid.
    Accepted,
    /// Checked and not valid: another must be brought.
    Rejected,
}

/// One item of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistItem {
    /// What it is.
    pub requirement: Requirement,
    /// Where it stands.
    pub status: ItemStatus,
    /// The document brought for it (a document of the file).
    pub document: Option<Uuid>,
    /// The local day that document entered the registry.
    pub entered_on: Option<NaiveDate>,
    /// Why it was rejected.
    pub reason: Option<String>,
}

/// An amount of money in euro cents.
pub type Cents = i64;

/// The minimum cover of the civil liability insurance per claim, without excess: 300,000 euros.
pub const MINIMUM_INSURANCE_CENTS: Cents = 300_000_00;

/// A concept of the liquidation.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum FeeConcept {
    /// Tasa por utilización privativa o aprovechamiento especial del dominio público local por
    /// pasos de vehículos (and by their construction).
    PublicPropertyFee,
    /// Tasa por prestación de servicios urbanísticos (licence processing), with works.
    UrbanServicesFee,
    /// Impuesto sobre construcciones, instalaciones y obras, on the works' budget.
    ConstructionTax,
    /// Tasa por control de calidad, when the applicant does the works.
    QualityControlFee,
    /// Precio público por la realización de obras en la vía pública, when the council does them.
    StreetWorksPrice,
}

impl FeeConcept {
    /// Its name as the liquidation says it.
    pub fn label(self) -> &'static str {
        match self {
            FeeConcept::PublicPropertyFee => {
                "Tasa por utilización privativa del dominio público local por pasos de vehículos"
            }
            FeeConcept::UrbanServicesFee => "Tasa por prestación de servicios urbanísticos",
            FeeConcept::ConstructionTax => "Impuesto sobre construcciones, instalaciones y obras",
            FeeConcept::QualityControlFee => {
                "Tasa por prestación de servicios urbanísticos por el control de calidad"
            }
            FeeConcept::StreetWorksPrice => {
                "Precio público por la realización de obras en la vía pública"
            }
        }
    }
}

/// The council's tariff for a year, as its fiscal ordinances set it (never from code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tariff {
    /// The year it applies to.
    pub year: i32,
    /// The official source (the fiscal ordinances and their publication).
    pub source: String,
    /// Public-property fee per metre of crossing width and year.
    pub public_property_per_metre: Cents,
    /// Urban-services fee per authorisation with works.
    pub urban_services_fee: Cents,
    /// Construction tax, in basis points of the works' budget (400 is 4 %).
    pub construction_tax_basis_points: u32,
    /// Quality-control fee per authorisation whose works the applicant does.
    pub quality_control_fee: Cents,
    /// Public price per metre of crossing width for works the council does.
    pub street_works_per_metre: Cents,
}

impl Tariff {
    /// Checks the amounts: none negative, none over a million euros, a tax rate up to 10 %
    /// (art. 102.3 TRLRHL caps it at 4 %), a source named.
    pub fn check(&self) -> Result<(), &'static str> {
        if !(2000..=2100).contains(&self.year) {
            return Err("the year is from 2000 to 2100");
        }
        let source = self.source.trim();
        if source.is_empty() || source.chars().count() > 300 || source.chars().any(char::is_control)
        {
            return Err("name the official source in one line of 1 to 300 characters");
        }
        let amounts = [
            self.public_property_per_metre,
            self.urban_services_fee,
            self.quality_control_fee,
            self.street_works_per_metre,
        ];
        if amounts.iter().any(|a| !(0..=100_000_000).contains(a)) {
            return Err("each amount is from 0 to 1,000,000 euros (in cents)");
        }
        if self.construction_tax_basis_points > 400 {
            return Err("the construction tax is at most 4 % of the budget (art. 102.3 TRLRHL): at most 400 basis points");
        }
        Ok(())
    }
}

/// One line of a liquidation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeLine {
    /// The concept.
    pub concept: FeeConcept,
    /// Its basis, as the liquidation states it.
    pub basis: String,
    /// The amount.
    pub amount: Cents,
}

/// A liquidation of the fees of an authorisation, from the tariff of its year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Liquidation {
    /// The tariff's year.
    pub year: i32,
    /// The tariff's source.
    pub source: String,
    /// The lines.
    pub lines: Vec<FeeLine>,
    /// Their total.
    pub total: Cents,
}

/// Formats cents as euros, Spanish style ("1.234,50 €").
pub fn euros(cents: Cents) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let units = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped},{:02} €", cents % 100)
}

/// The liquidation of an authorisation: with works, the urban-services fee, the public-property
/// fee and the construction tax on the budget (with the quality-control fee when the applicant
/// does them, the street-works price when the council does); without works, the public-property
/// fee. The public-property fee is the year's, per metre of crossing width (started metres count
/// whole).
pub fn liquidate(tariff: &Tariff, works: Works, measures: &Measures, budget: Cents) -> Liquidation {
    let metres = i64::from(measures.crossing_width_cm.div_ceil(100));
    let mut lines = vec![FeeLine {
        concept: FeeConcept::PublicPropertyFee,
        basis: format!(
            "{metres} m de paso × {} por metro y año ({})",
            euros(tariff.public_property_per_metre),
            tariff.year
        ),
        amount: metres * tariff.public_property_per_metre,
    }];
    if works.any() {
        lines.push(FeeLine {
            concept: FeeConcept::UrbanServicesFee,
            basis: "autorización con obras".to_owned(),
            amount: tariff.urban_services_fee,
        });
        let rate = i64::from(tariff.construction_tax_basis_points);
        lines.push(FeeLine {
            concept: FeeConcept::ConstructionTax,
            basis: format!(
                "{},{:02} % sobre un presupuesto de {}",
                rate / 100,
                rate % 100,
                euros(budget)
            ),
            // Rounded to the nearest cent.
            amount: (budget * rate + 5_000) / 10_000,
        });
    }
    match works {
        Works::ByApplicant => lines.push(FeeLine {
            concept: FeeConcept::QualityControlFee,
            basis: "obras ejecutadas por el titular".to_owned(),
            amount: tariff.quality_control_fee,
        }),
        Works::ByCouncil => lines.push(FeeLine {
            concept: FeeConcept::StreetWorksPrice,
            basis: format!(
                "{metres} m de paso × {} por metro",
                euros(tariff.street_works_per_metre)
            ),
            amount: metres * tariff.street_works_per_metre,
        }),
        Works::None | Works::Urbanisation => {}
    }
    let total = lines.iter().map(|l| l.amount).sum();
    Liquidation {
        year: tariff.year,
        source: tariff.source.trim().to_owned(),
        lines,
        total,
    }
}

/// The civil liability insurance for the works, recorded before the authorisation is collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Insurance {
    /// The insurer.
    pub insurer: String,
    /// The policy's number.
    pub policy: String,
    /// The cover per claim.
    pub cover_per_claim: Cents,
    /// The excess (franquicia): none is allowed.
    pub excess: Cents,
    /// The last day it covers: the works and their guarantee period.
    pub covers_until: NaiveDate,
}

/// The deposit (aval, or cash) at the Treasury for the cost of restoring the pavement, the road
/// and the street furniture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deposit {
    /// Its amount.
    pub amount: Cents,
    /// The Treasury's receipt (carta de pago).
    pub receipt: String,
}

/// The crossing's number: the plate number the district gives, 1 to 20 letters, digits, `-`
/// or `/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CrossingNumber(String);

impl CrossingNumber {
    /// As text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CrossingNumber {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, ParseError> {
        let trimmed = value.trim();
        if trimmed.is_empty()
            || trimmed.len() > 20
            || !trimmed
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '/')
        {
            return Err(ParseError::new(
                "crossing number",
                &value,
                "1 to 20 letters, digits, '-' or '/' (the district's plate number)",
            ));
        }
        Ok(Self(trimmed.to_ascii_uppercase()))
    }
}

impl std::str::FromStr for CrossingNumber {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        Self::try_from(s.to_owned())
    }
}

impl From<CrossingNumber> for String {
    fn from(value: CrossingNumber) -> Self {
        value.0
    }
}

/// Why a crossing ended.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum EndReason {
    /// Removed at the holder's request (baja).
    RemovedAtHolderRequest,
    /// Removed by the council.
    RemovedByCouncil,
    /// A communicated modification ended it.
    Modification,
    /// A provisional crossing's term passed without extension.
    TermEnded,
    /// A new authorisation (a modification with works) replaced it.
    Replaced,
}

impl EndReason {
    /// Its code as stored.
    pub fn code(self) -> &'static str {
        self.into()
    }
}

/// Where the sign stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "sign", rename_all = "snake_case")]
pub enum Sign {
    /// The signage month has not started (no authorisation notified, works not accepted).
    #[default]
    NotDue,
    /// To be put up by the day.
    Due {
        /// The last day.
        due: NaiveDate,
    },
    /// The month passed without it.
    Overdue {
        /// The last day that passed.
        due: NaiveDate,
    },
    /// Put up.
    Installed {
        /// The day it was checked in place.
        on: NaiveDate,
    },
}

/// The last day of the voluntary payment of a liquidation notified on `notified_on` (art. 62.2
/// Ley 58/2003, General Tributaria): notified from the 1st to the 15th, the 20th of the next
/// month; from the 16th to the last day, the 5th of the second month after. (When that day is
/// not a business day it moves to the next, which the caller applies with the calendar.)
pub fn voluntary_payment_day(notified_on: NaiveDate) -> NaiveDate {
    use chrono::{Datelike, Months};
    let first = notified_on
        .with_day(1)
        .expect("every month has a first day");
    if notified_on.day() <= 15 {
        (first + Months::new(1))
            .with_day(20)
            .expect("every month has a 20th")
    } else {
        (first + Months::new(2))
            .with_day(5)
            .expect("every month has a 5th")
    }
}

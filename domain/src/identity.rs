//! Who a person is, as far as the council's procedures need to know: their nationality, the
//! identity documents it allows, and their age on a day. Shared by the user account and the
//! padrón.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::values::{DocumentKind, DocumentNumber, ParseError};

/// A passport number: 5 to 20 letters and digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PassportNumber(String);

impl FromStr for PassportNumber {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm: String = s.trim().to_ascii_uppercase();
        if !(5..=20).contains(&norm.len()) || !norm.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ParseError {
                what: "passport number",
                input: s.chars().take(64).collect(),
                reason: "it must be 5 to 20 letters and digits",
            });
        }
        Ok(Self(norm))
    }
}

impl fmt::Display for PassportNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for PassportNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PassportNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A person's nationality, as far as the identity documents it allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Nationality {
    /// Spanish.
    Spanish,
    /// Of another member state of the European Union.
    EuropeanUnion,
    /// Of any other country.
    NonEu,
}

/// An identity document in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IdentityDocument {
    /// Spanish DNI.
    Dni {
        /// Its number (check letter verified).
        number: DocumentNumber,
    },
    /// A passport.
    Passport {
        /// Its number.
        number: PassportNumber,
    },
    /// The national identity card of another EU state.
    EuIdentityCard {
        /// Its number.
        number: PassportNumber,
    },
    /// A residence card (tarjeta de residencia), with an NIE.
    ResidenceCard {
        /// The NIE (check letter verified).
        number: DocumentNumber,
    },
    /// The EU citizen registration certificate (with its NIE) plus the passport.
    EuRegistrationCertificate {
        /// The NIE on the certificate.
        number: DocumentNumber,
        /// The passport that goes with it.
        passport: PassportNumber,
    },
}

impl IdentityDocument {
    /// The number the person logs in with.
    pub fn login_number(&self) -> String {
        match self {
            IdentityDocument::Dni { number }
            | IdentityDocument::ResidenceCard { number }
            | IdentityDocument::EuRegistrationCertificate { number, .. } => number.to_string(),
            IdentityDocument::Passport { number } | IdentityDocument::EuIdentityCard { number } => {
                number.to_string()
            }
        }
    }

    /// Whether this document proves the identity of someone of this nationality (seed 000).
    pub fn valid_for(&self, nationality: Nationality) -> bool {
        match (nationality, self) {
            (Nationality::Spanish, IdentityDocument::Dni { number }) => {
                number.kind() == DocumentKind::Dni
            }
            (Nationality::Spanish, IdentityDocument::Passport { .. }) => true,
            (Nationality::EuropeanUnion, IdentityDocument::EuIdentityCard { .. }) => true,
            (Nationality::EuropeanUnion, IdentityDocument::ResidenceCard { number })
            | (
                Nationality::EuropeanUnion,
                IdentityDocument::EuRegistrationCertificate { number, .. },
            )
            | (Nationality::NonEu, IdentityDocument::ResidenceCard { number }) => {
                number.kind() == DocumentKind::Nie
            }
            _ => false,
        }
    }
}

/// A person's age in whole years on a day.
pub(crate) fn age_on(birth: NaiveDate, day: NaiveDate) -> i32 {
    let mut age = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

//! Value types that parse rather than validate: once constructed they are valid, so the rest of
//! the code never re-checks them. Each serialises as its canonical string.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a string is not a valid value of one of these types. The message is meant for a human.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} '{input}' is not valid: {reason}")]
pub struct ParseError {
    /// The kind of value that was being parsed.
    pub what: &'static str,
    /// The offending input, as given.
    pub input: String,
    /// Why it was refused.
    pub reason: &'static str,
}

impl ParseError {
    pub(crate) fn new(what: &'static str, input: &str, reason: &'static str) -> Self {
        Self {
            what,
            input: input.chars().take(64).collect(),
            reason,
        }
    }
}

macro_rules! string_value {
    ($ty:ident) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl $ty {
            /// The canonical string form.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                raw.parse().map_err(serde::de::Error::custom)
            }
        }
        impl TryFrom<String> for $ty {
            type Error = ParseError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                value.parse()
            }
        }
    };
}

/// A municipality's 5-digit INE code (e.g. `28079`, Madrid). It identifies a tenant: every council
/// is one. The first two digits are the province (01 to 52).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MunicipalityCode(String);
string_value!(MunicipalityCode);

impl MunicipalityCode {
    /// The two-digit province code.
    pub fn province(&self) -> &str {
        &self.0[..2]
    }
}

impl FromStr for MunicipalityCode {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const WHAT: &str = "INE municipality code";
        if s.len() != 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::new(WHAT, s, "it must be exactly 5 digits"));
        }
        let province: u8 = s[..2].parse().unwrap_or(0);
        if !(1..=52).contains(&province) {
            return Err(ParseError::new(
                WHAT,
                s,
                "its first two digits must be a province code from 01 to 52",
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

/// The kind of Spanish tax identification number a [`DocumentNumber`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// DNI: Spanish national identity document (8 digits + check letter).
    Dni,
    /// NIE: foreigner identity number (X/Y/Z + 7 digits + check letter).
    Nie,
    /// NIF of a legal person (formerly CIF): letter + 7 digits + control character.
    LegalPerson,
}

/// A Spanish identification number (NIF) whose check character is correct: a DNI, an NIE or the
/// NIF of a legal person. Stored upper-case without separators.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentNumber(String);
string_value!(DocumentNumber);

const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

impl DocumentNumber {
    /// Which kind of number this is.
    pub fn kind(&self) -> DocumentKind {
        match self.0.as_bytes()[0] {
            b'0'..=b'9' => DocumentKind::Dni,
            b'X' | b'Y' | b'Z' => DocumentKind::Nie,
            _ => DocumentKind::LegalPerson,
        }
    }

    /// Whether it identifies a natural person (DNI or NIE).
    pub fn is_natural_person(&self) -> bool {
        !matches!(self.kind(), DocumentKind::LegalPerson)
    }
}

fn dni_letter(number: u32) -> u8 {
    DNI_LETTERS[(number % 23) as usize]
}

impl FromStr for DocumentNumber {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const WHAT: &str = "document number";
        let norm: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let b = norm.as_bytes();
        if b.len() != 9 || !norm.is_ascii() {
            return Err(ParseError::new(WHAT, s, "it must have 9 characters"));
        }
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = &norm[r];
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())
                .flatten()
        };
        match b[0] {
            b'0'..=b'9' => {
                let n =
                    digits(0..8).ok_or_else(|| ParseError::new(WHAT, s, "a DNI has 8 digits"))?;
                if dni_letter(n) != b[8] {
                    return Err(ParseError::new(
                        WHAT,
                        s,
                        "the DNI check letter does not match",
                    ));
                }
            }
            b'X' | b'Y' | b'Z' => {
                let n =
                    digits(1..8).ok_or_else(|| ParseError::new(WHAT, s, "an NIE has 7 digits"))?;
                let prefix = u32::from(b[0] - b'X');
                if dni_letter(prefix * 10_000_000 + n) != b[8] {
                    return Err(ParseError::new(
                        WHAT,
                        s,
                        "the NIE check letter does not match",
                    ));
                }
            }
            b'A'..=b'W' if !matches!(b[0], b'I' | b'O' | b'T' | b'X') => {
                digits(1..8).ok_or_else(|| {
                    ParseError::new(
                        WHAT,
                        s,
                        "a legal person's NIF has 7 digits after the letter",
                    )
                })?;
                let mut sum = 0u32;
                for (i, c) in b[1..8].iter().enumerate() {
                    let d = u32::from(c - b'0');
                    if i % 2 == 0 {
                        let x = d * 2;
                        sum += x / 10 + x % 10;
                    } else {
                        sum += d;
                    }
                }
                let control = (10 - sum % 10) % 10;
                let as_letter = b"JABCDEFGHI"[control as usize];
                let as_digit = b'0' + control as u8;
                let ok = match b[0] {
                    // These organisation types always use a letter (public bodies, foreign entities…).
                    b'K' | b'P' | b'Q' | b'S' | b'N' | b'W' | b'R' => b[8] == as_letter,
                    // Companies with these letters always use a digit.
                    b'A' | b'B' | b'E' | b'H' => b[8] == as_digit,
                    _ => b[8] == as_letter || b[8] == as_digit,
                };
                if !ok {
                    return Err(ParseError::new(
                        WHAT,
                        s,
                        "the legal person's NIF control character does not match",
                    ));
                }
            }
            _ => {
                return Err(ParseError::new(
                    WHAT,
                    s,
                    "it is neither a DNI, an NIE nor a legal person's NIF",
                ))
            }
        }
        Ok(Self(norm))
    }
}

/// A case number as shown to people: `<INE>/<year>/<sequence>` (e.g. `28079/2026/000042`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseNumber(String);
string_value!(CaseNumber);

impl CaseNumber {
    /// Builds the number of the `sequence`th file of `year` in `tenant`.
    pub fn new(tenant: &MunicipalityCode, year: i32, sequence: u64) -> Result<Self, ParseError> {
        format!("{tenant}/{year:04}/{sequence:06}").parse()
    }
}

impl FromStr for CaseNumber {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const WHAT: &str = "case number";
        let mut parts = s.split('/');
        let (Some(ine), Some(year), Some(seq), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ParseError::new(
                WHAT,
                s,
                "it must look like 28079/2026/000042",
            ));
        };
        ine.parse::<MunicipalityCode>()
            .map_err(|_| ParseError::new(WHAT, s, "it must start with an INE municipality code"))?;
        let year_ok = year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()) && year >= "2000";
        let seq_ok = (6..=12).contains(&seq.len()) && seq.bytes().all(|b| b.is_ascii_digit());
        if !year_ok || !seq_ok || seq.bytes().all(|b| b == b'0') {
            return Err(ParseError::new(
                WHAT,
                s,
                "it must look like 28079/2026/000042",
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

/// Which way a registry entry goes (art. 16.1 LPAC: the registry records what comes in and what
/// goes out).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RegistryDirection {
    /// An entry (asiento de entrada): something a person presented.
    In,
    /// An exit (asiento de salida): something the council sent, such as a notification.
    Out,
}

impl RegistryDirection {
    /// The letter used in registry numbers: `E` (entrada) or `S` (salida).
    pub fn letter(self) -> char {
        match self {
            RegistryDirection::In => 'E',
            RegistryDirection::Out => 'S',
        }
    }
}

/// A registry entry's number (art. 16.3 LPAC: every entry gets a number, per council and year):
/// `28079/2026/E/0000123` (entries) or `28079/2026/S/0000045` (exits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegistryNumber(String);
string_value!(RegistryNumber);

impl RegistryNumber {
    /// Builds the number of the `sequence`th entry of `year`, in `direction`, in `tenant`.
    pub fn new(
        tenant: &MunicipalityCode,
        year: i32,
        direction: RegistryDirection,
        sequence: u64,
    ) -> Result<Self, ParseError> {
        format!("{tenant}/{year:04}/{}/{sequence:07}", direction.letter()).parse()
    }

    /// Its direction.
    pub fn direction(&self) -> RegistryDirection {
        if self.0.split('/').nth(2) == Some("S") {
            RegistryDirection::Out
        } else {
            RegistryDirection::In
        }
    }
}

impl FromStr for RegistryNumber {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const WHAT: &str = "registry number";
        const SHAPE: &str = "it must look like 28079/2026/E/0000123";
        let mut parts = s.split('/');
        let (Some(ine), Some(year), Some(letter), Some(seq), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(ParseError::new(WHAT, s, SHAPE));
        };
        ine.parse::<MunicipalityCode>()
            .map_err(|_| ParseError::new(WHAT, s, "it must start with an INE municipality code"))?;
        let year_ok = year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()) && year >= "2000";
        let seq_ok = (7..=12).contains(&seq.len()) && seq.bytes().all(|b| b.is_ascii_digit());
        if !year_ok || !seq_ok || seq.bytes().all(|b| b == b'0') || !matches!(letter, "E" | "S") {
            return Err(ParseError::new(WHAT, s, SHAPE));
        }
        Ok(Self(s.to_owned()))
    }
}

/// A secure verification code (código seguro de verificación, art. 27.3.a LPAC and art. 42.b of
/// Ley 40/2015): printed on a receipt or a copy, it lets anyone check at the council's sede what
/// the document is. Twenty characters of Crockford's base 32 (no `I L O U`, which
/// look like digits or letters), 100 bits: it cannot be guessed, so it is the only key the public check needs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VerificationCode(String);
string_value!(VerificationCode);

impl VerificationCode {
    /// The code's alphabet (Crockford's base 32).
    pub const ALPHABET: &'static [u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    /// How many characters it has.
    pub const LENGTH: usize = 20;

    /// A code from 20 random values (each taken modulo 32).
    pub fn from_random(bytes: [u8; 20]) -> Self {
        let code: String = bytes
            .iter()
            .map(|b| char::from(Self::ALPHABET[usize::from(b % 32)]))
            .collect();
        Self(code)
    }
}

impl FromStr for VerificationCode {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != Self::LENGTH || !s.bytes().all(|b| Self::ALPHABET.contains(&b)) {
            return Err(ParseError::new(
                "verification code",
                s,
                "it must be 20 capital letters and digits, as printed on the receipt",
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

/// A procedure's code in the national inventory of administrative procedures (SIA): digits only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SiaCode(String);
string_value!(SiaCode);

impl FromStr for SiaCode {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::new("SIA code", s, "it must be 1 to 9 digits"));
        }
        Ok(Self(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dni_check_letter() {
        assert_eq!(
            "12345678Z".parse::<DocumentNumber>().unwrap().kind(),
            DocumentKind::Dni
        );
        assert_eq!(
            "12345678-z".parse::<DocumentNumber>().unwrap().as_str(),
            "12345678Z"
        );
        assert!("12345678A".parse::<DocumentNumber>().is_err());
        assert!("1234567Z".parse::<DocumentNumber>().is_err());
    }

    #[test]
    fn nie_check_letter() {
        assert_eq!(
            "X1234567L".parse::<DocumentNumber>().unwrap().kind(),
            DocumentKind::Nie
        );
        assert!("Y1234567X".parse::<DocumentNumber>().is_ok());
        assert!("X1234567A".parse::<DocumentNumber>().is_err());
    }

    #[test]
    fn legal_person_control() {
        let n: DocumentNumber = "B12345674".parse().unwrap();
        assert_eq!(n.kind(), DocumentKind::LegalPerson);
        assert!(!n.is_natural_person());
        assert!("B12345675".parse::<DocumentNumber>().is_err());
        assert!(
            "P2807900B".parse::<DocumentNumber>().is_ok(),
            "Ayuntamiento de Madrid"
        );
    }

    #[test]
    fn municipality_codes() {
        assert_eq!(
            "28079".parse::<MunicipalityCode>().unwrap().province(),
            "28"
        );
        for bad in ["2807", "280790", "2807a", "99001", "00001", ""] {
            assert!(bad.parse::<MunicipalityCode>().is_err(), "{bad}");
        }
    }

    #[test]
    fn case_numbers() {
        let t: MunicipalityCode = "28079".parse().unwrap();
        assert_eq!(
            CaseNumber::new(&t, 2026, 42).unwrap().as_str(),
            "28079/2026/000042"
        );
        for bad in [
            "28079/2026/000000",
            "28079-2026-000001",
            "99999/2026/000001",
            "28079/26/000001",
        ] {
            assert!(bad.parse::<CaseNumber>().is_err(), "{bad}");
        }
    }

    #[test]
    fn serde_round_trip_refuses_invalid() {
        let ok: DocumentNumber = serde_json::from_str("\"12345678Z\"").unwrap();
        assert_eq!(serde_json::to_string(&ok).unwrap(), "\"12345678Z\"");
        assert!(serde_json::from_str::<DocumentNumber>("\"12345678A\"").is_err());
    }
}

#[cfg(test)]
mod names {
    //! Names of enumerations are derived once (serde for JSON, strum for the `&'static str` the
    //! read models and metrics store): both must spell every variant the same way.

    use strum::IntoEnumIterator;

    fn same<T>()
    where
        T: IntoEnumIterator + serde::Serialize + Copy + Into<&'static str> + std::fmt::Debug,
    {
        for variant in T::iter() {
            let json = serde_json::to_value(variant).expect("serialises");
            let name: &'static str = variant.into();
            assert_eq!(json, serde_json::Value::from(name), "{variant:?}");
        }
    }

    #[test]
    fn serde_and_strum_spell_every_variant_alike() {
        same::<crate::user_account::Stage>();
        same::<crate::general_application::Stage>();
        same::<crate::padron::FileStage>();
        same::<crate::calendar::Unit>();
        same::<crate::user_account::Channel>();
        same::<crate::padron::ResidenceStatus>();
        same::<crate::padron::RemovalCause>();
        same::<crate::PartyRole>();
        same::<crate::NoticeRecipient>();
        same::<crate::NoticeChannel>();
    }
}

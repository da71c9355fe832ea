//! Resolutions (arts. 35, 40.2 and 88 LPAC): every resolution states its reasons and, since it is
//! notified, the appeals that may be brought against it, before which body and within what time.

use serde::{Deserialize, Serialize};

/// The reasons of a resolution (motivación, art. 35): never empty, at most 10,000 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Reasons(String);

impl Reasons {
    /// The longest reasons accepted.
    pub const MAX: usize = 10_000;

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Reasons {
    type Error = &'static str;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        let text = text.trim();
        if text.is_empty() {
            return Err("a resolution states its reasons (art. 35 LPAC)");
        }
        if text.chars().count() > Self::MAX {
            return Err("the reasons are longer than 10,000 characters");
        }
        Ok(Self(text.to_owned()))
    }
}

impl From<Reasons> for String {
    fn from(reasons: Reasons) -> Self {
        reasons.0
    }
}

/// An appeal.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum AppealKind {
    /// Recurso potestativo de reposición (arts. 123–124 LPAC), before the body that resolved.
    Reposicion,
    /// Recurso contencioso-administrativo (art. 46 Ley 29/1998), before the courts.
    ContenciosoAdministrativo,
}

impl AppealKind {
    /// Its name as a notification says it ("recurso de …").
    pub fn label(self) -> &'static str {
        match self {
            AppealKind::Reposicion => "reposición",
            AppealKind::ContenciosoAdministrativo => "contencioso-administrativo",
        }
    }
}

/// An appeal that may be brought against a resolution, as the notification must say (art. 40.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appeal {
    /// Which appeal.
    pub kind: AppealKind,
    /// Before which body or court.
    pub before: String,
    /// Within what time, counted from the day after the notification.
    pub within: String,
    /// The legal basis.
    pub basis: String,
}

impl Appeal {
    /// The appeals against a resolution of a council's body that ends the administrative route
    /// (art. 114.1 LPAC; art. 52.2 of Ley 7/1985 for councils' bodies): reposición before the
    /// same body within one month, or contencioso-administrativo within two months.
    pub fn ending_administrative_route(body: &str) -> Vec<Appeal> {
        vec![
            Appeal {
                kind: AppealKind::Reposicion,
                before: body.to_owned(),
                within: "un mes".to_owned(),
                basis: "arts. 123 y 124 de la Ley 39/2015".to_owned(),
            },
            Appeal {
                kind: AppealKind::ContenciosoAdministrativo,
                before: "el Juzgado de lo Contencioso-Administrativo".to_owned(),
                within: "dos meses".to_owned(),
                basis: "arts. 8 y 46 de la Ley 29/1998".to_owned(),
            },
        ]
    }
}

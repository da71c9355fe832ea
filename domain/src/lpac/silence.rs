//! The maximum time to resolve and what silence means (arts. 21–25 LPAC). A procedure declares
//! its maximum time, from when it counts and what silence means; its file keeps the last day, and
//! when the day passes without a resolution an event records the effect. The duty to resolve
//! remains (art. 24.3), with the limits the meaning sets.

use serde::{Deserialize, Serialize};

/// What the passing of the maximum time means.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum SilenceMeaning {
    /// The application is deemed granted (art. 24.1, the rule): a later express resolution may
    /// only confirm it (art. 24.3.a).
    Estimatory,
    /// The application is deemed refused (art. 24.1, the exceptions): a later express resolution
    /// may decide either way (art. 24.3.b).
    Desestimatory,
    /// An ex officio procedure with adverse effects lapses (caducidad, art. 25.1.b).
    Lapse,
}

impl SilenceMeaning {
    /// What it means, for people, as shown on the file.
    pub fn describe(self) -> &'static str {
        match self {
            SilenceMeaning::Estimatory => {
                "if not resolved in time, the application is deemed granted (silencio estimatorio, art. 24.1 LPAC)"
            }
            SilenceMeaning::Desestimatory => {
                "if not resolved in time, the application is deemed refused (silencio desestimatorio, art. 24.1 LPAC)"
            }
            SilenceMeaning::Lapse => {
                "if not resolved in time, the file lapses (caducidad, art. 25.1.b LPAC)"
            }
        }
    }
}

/// A procedure's maximum time, as it declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaximumTime {
    /// Months from the start (art. 21.3: three when the procedure's rule says nothing).
    pub months: u32,
    /// What silence means.
    pub silence: SilenceMeaning,
    /// The article that sets it, cited on the file.
    pub article: &'static str,
}

impl MaximumTime {
    /// What the file shows: the meaning and the article.
    pub fn describe(&self) -> String {
        format!(
            "{} months ({}): {}",
            self.months,
            self.article,
            self.silence.describe()
        )
    }
}

//! The ENCSARP renewal period and the timers that follow it: the warning letter three months
//! before the expiry and the lapse proposal the day after.

use chrono::{Months, NaiveDate};

use super::InscriptionEvent;
use crate::procedure::TimerEffect;

/// The renewal period of ENCSARP.
pub const RENEWAL_MONTHS: u32 = 24;
/// The warning letter is sent this many months before the expiry.
pub const WARNING_MONTHS: u32 = 3;
/// Timer kinds.
pub const RENEWAL_WARNING_TIMER: &str = "renewal_warning";
/// Timer kinds.
pub const RENEWAL_EXPIRY_TIMER: &str = "renewal_expiry";

/// Timer kinds of the periodic confirmation of residence (EU citizens, permanent residents).
pub const CONFIRMATION_WARNING_TIMER: &str = "confirmation_warning";
/// Timer kinds.
pub const CONFIRMATION_EXPIRY_TIMER: &str = "confirmation_expiry";

/// The follow-up of a removal file that lapsed by its timer: the person's inscription is
/// released (the file's lapse changes only the file's stream).
pub const REMOVAL_FILE_LAPSED: &str = "removal_file_lapsed";

/// The renewal expiry for a renewal basis: two years date to date.
pub fn renewal_due(basis: NaiveDate) -> NaiveDate {
    basis
        .checked_add_months(Months::new(RENEWAL_MONTHS))
        .unwrap_or(basis)
}

/// The renewal timers an inscription event sets or cancels: the warning letter three months before
/// the expiry, and the lapse proposal the day after it.
pub fn renewal_timers(event: &InscriptionEvent) -> Vec<TimerEffect> {
    use InscriptionEvent as E;
    let cancel = || {
        vec![
            TimerEffect::Cancel {
                kind: RENEWAL_WARNING_TIMER.into(),
            },
            TimerEffect::Cancel {
                kind: RENEWAL_EXPIRY_TIMER.into(),
            },
        ]
    };
    match event {
        E::Inscribed { renewal_due, .. }
        | E::Reinscribed { renewal_due, .. }
        | E::AddressChanged { renewal_due, .. }
        | E::PersonalDataModified { renewal_due, .. }
        | E::Renewed { renewal_due, .. }
        | E::RemovalCorrected { renewal_due, .. } => match renewal_due {
            Some(due) => renewal_set(*due),
            None => cancel(),
        },
        E::Removed { .. } => {
            let mut all = cancel();
            all.extend(cancel_confirmation());
            all
        }
        // The status decides which duty runs: the confirmation's timers are set again by the
        // `ConfirmationDue` appended with it when the new status confirms.
        E::ResidenceStatusChanged { renewal_due, .. } => {
            let mut effects = match renewal_due {
                Some(due) => renewal_set(*due),
                None => cancel(),
            };
            effects.extend(cancel_confirmation());
            effects
        }
        E::ConfirmationDue { due } => {
            warning_and_expiry(CONFIRMATION_WARNING_TIMER, CONFIRMATION_EXPIRY_TIMER, *due)
        }
        _ => Vec::new(),
    }
}

fn renewal_set(due: NaiveDate) -> Vec<TimerEffect> {
    warning_and_expiry(RENEWAL_WARNING_TIMER, RENEWAL_EXPIRY_TIMER, due)
}

/// A duty's two timers: the letter `WARNING_MONTHS` before its day, and the day after it.
fn warning_and_expiry(warning: &str, expiry: &str, due: NaiveDate) -> Vec<TimerEffect> {
    let warn_on = due
        .checked_sub_months(Months::new(WARNING_MONTHS))
        .unwrap_or(due);
    let data = serde_json::json!({ "due": due });
    vec![
        TimerEffect::Set {
            kind: warning.into(),
            fires_on: warn_on,
            data: data.clone(),
        },
        TimerEffect::Set {
            kind: expiry.into(),
            fires_on: due.succ_opt().unwrap_or(due),
            data,
        },
    ]
}

fn cancel_confirmation() -> Vec<TimerEffect> {
    vec![
        TimerEffect::Cancel {
            kind: CONFIRMATION_WARNING_TIMER.into(),
        },
        TimerEffect::Cancel {
            kind: CONFIRMATION_EXPIRY_TIMER.into(),
        },
    ]
}

//! A removal file's deadlines: the maximum time to resolve (suspended while the Consejo's report
//! is awaited), the deemed rejection of an electronic notification, and the end of the wait for
//! the report.

use chrono::{Months, NaiveDate};

use super::{FileEvent, NotificationChannel};
use crate::procedure::{deadline_data, DeadlineRule, TimerEffect};

/// The maximum-time timer of a removal file.
pub const FILE_LAPSE_TIMER: &str = "removal_file_lapse";
/// The electronic notification is deemed rejected after this many calendar days without access.
pub const ELECTRONIC_REJECTION_DAYS: u64 = 10;
/// The electronic-rejection timer.
pub const ELECTRONIC_REJECTION_TIMER: &str = "electronic_notification_rejection";
/// The longest the Consejo's report suspends the maximum time (art. 22: three months).
pub const REPORT_WAIT_MONTHS: u32 = 3;
/// The hearing of a removal file: 15 business days from the day after the notification of its
/// opening took effect (art. 72 RD 1690/1986, Reglamento de Población y Demarcación Territorial;
/// art. 82.2 LPAC gives ten to fifteen).
pub const HEARING_BUSINESS_DAYS: u32 = 15;
/// The timer that ends the hearing when the person neither alleged nor agreed.
pub const HEARING_TIMER: &str = "removal_file_hearing";
/// The timer that ends the wait for the report.
pub const REPORT_WAIT_TIMER: &str = "report_wait";

/// How the hearing is counted: fifteen business days from the day after the notification of the
/// opening took effect.
pub fn hearing_rule(notified_on: NaiveDate) -> DeadlineRule {
    DeadlineRule::new(
        notified_on,
        HEARING_BUSINESS_DAYS,
        crate::calendar::Unit::BusinessDays,
        None,
    )
}

/// The timers a removal-file event sets, suspends or cancels.
pub fn file_timers(event: &FileEvent) -> Vec<TimerEffect> {
    use FileEvent as E;
    let lapse = |due: NaiveDate| TimerEffect::Set {
        kind: FILE_LAPSE_TIMER.into(),
        fires_on: due.succ_opt().unwrap_or(due),
        data: serde_json::json!({ "due": due }),
    };
    let counted_as = |kind: &str, due: NaiveDate, rule: Option<DeadlineRule>| TimerEffect::Set {
        kind: kind.into(),
        fires_on: due.succ_opt().unwrap_or(due),
        data: deadline_data(due, rule),
    };
    let counted = |due, rule| counted_as(FILE_LAPSE_TIMER, due, rule);
    let cancel = |kind: &str| TimerEffect::Cancel { kind: kind.into() };
    match event {
        E::Opened {
            max_time_due,
            max_time_rule,
            ..
        } => vec![counted(*max_time_due, max_time_rule.clone())],
        E::DeadlineMoved {
            kind, due, rule, ..
        } => vec![counted_as(kind, *due, Some(rule.clone()))],
        E::NotificationSent {
            channel: NotificationChannel::Electronic,
            on,
            hearing_due_if_rejected,
        } => vec![TimerEffect::Set {
            kind: ELECTRONIC_REJECTION_TIMER.into(),
            fires_on: *on + chrono::Days::new(ELECTRONIC_REJECTION_DAYS + 1),
            data: serde_json::json!({ "sent_on": on, "hearing_due": hearing_due_if_rejected }),
        }],
        // The hearing runs fifteen business days from the day after the notification took effect
        // (counted again if the calendar changes).
        E::Notified {
            on, hearing_due, ..
        } => vec![
            cancel(ELECTRONIC_REJECTION_TIMER),
            counted_as(HEARING_TIMER, *hearing_due, Some(hearing_rule(*on))),
        ],
        E::Agreed { .. } | E::AllegationsFiled { .. } => vec![cancel(HEARING_TIMER)],
        // The hearing runs again as it was: its timer ends it at once if its last day passed.
        E::HearingFactCorrected { restored, .. } => match restored.hearing_due {
            Some(due) if restored.stage == super::FileStage::Hearing => {
                vec![counted_as(
                    HEARING_TIMER,
                    due,
                    restored.hearing_rule.clone(),
                )]
            }
            _ => Vec::new(),
        },
        // The maximum-time clock stops while the Consejo's report is awaited (art. 22).
        E::ReportRequested { on, .. } => vec![
            TimerEffect::Suspend {
                kind: FILE_LAPSE_TIMER.into(),
            },
            TimerEffect::Set {
                kind: REPORT_WAIT_TIMER.into(),
                fires_on: on
                    .checked_add_months(Months::new(REPORT_WAIT_MONTHS))
                    .and_then(|d| d.succ_opt())
                    .unwrap_or(*on),
                data: serde_json::json!({ "requested_on": on }),
            },
        ],
        E::ReportReceived {
            max_time_due,
            max_time_rule,
            ..
        }
        | E::ReportWaitEnded {
            max_time_due,
            max_time_rule,
            ..
        } => match max_time_rule {
            Some(rule) => vec![
                counted(*max_time_due, Some(rule.clone())),
                cancel(REPORT_WAIT_TIMER),
            ],
            None => vec![lapse(*max_time_due), cancel(REPORT_WAIT_TIMER)],
        },
        E::Resolved { .. } | E::Lapsed { .. } => {
            vec![
                cancel(FILE_LAPSE_TIMER),
                cancel(ELECTRONIC_REJECTION_TIMER),
                cancel(REPORT_WAIT_TIMER),
                cancel(HEARING_TIMER),
            ]
        }
        _ => Vec::new(),
    }
}

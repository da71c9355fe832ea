//! The vehicle crossing (paso de vehículos, vado): the authorisation to cross the pavement to
//! enter and leave a property, under Madrid's Ordenanza Reguladora de los Pasos de Vehículos
//! (Pleno 26 April 2006, BOCM 19 May 2006; seed 004) and the common procedure (Ley 39/2015).
//!
//! One stream per file. An authorisation file goes: application with its checklist of documents
//! (each brought through the shared documents part and checked by a caseworker; what is missing
//! is asked for under art. 68.1, ten business days) → complete documentation, from whose entry
//! the month to resolve counts (the ordinance; silence refuses, art. 24.1 LPAC, use of public
//! property) → resolution with reasons and appeals; a grant carries the liquidation of the fees
//! (the council's tariff of the year) → payment, and with works by the applicant the insurance
//! (300,000 euros per claim, no excess) and the deposit → the authorisation with the district's
//! plate number, notified → the sign within one month from the next day (or from the works'
//! acceptance). The crossing then lives on the same stream: changes of holder and modifications
//! communicated within ten days (late ones recorded as late), extensions of a provisional term
//! asked before it ends, protective islands authorised by a separate file, and its end (removal,
//! term, a modification that ends it, a new authorisation that replaces it).
//!
//! Deadlines, the tariff and the plate number are resolved by the caller and carried in the
//! commands, so this aggregate stays pure.

use chrono::{DateTime, NaiveDate, Utc};

use crate::calendar::Unit;
use crate::lpac::notification::ActKind;
use crate::lpac::{MaximumTime, RegistryEntry, SilenceMeaning};
use crate::procedure::{
    deadline_data, CaseEffect, CitizenAction, DeadlineRule, FollowUp, PartyRole, Procedure,
    TimerContext, TimerEffect,
};

mod commands;
mod events;
mod refusals;
mod state;
pub mod tariff;
#[cfg(test)]
mod tests;
pub mod values;

pub use commands::{Command, Decision, Verdict};
pub use events::Event;
pub use refusals::Refusal;
pub use state::{Stage, State};
use values::{
    euros, required_documents, ChecklistItem, EndReason, ItemStatus, Purpose, Requirement, Sign,
    Works, MINIMUM_INSURANCE_CENTS,
};

/// The aggregate.
#[derive(Debug)]
pub struct VehicleCrossing;

/// The maximum time to resolve: one month from the day after the complete documentation enters
/// the registry (the ordinance, seed 004 "Tramitación"); silence refuses, as it does for
/// applications whose grant would transfer powers over public property (art. 24.1 LPAC).
pub const MAXIMUM_TIME: MaximumTime = MaximumTime {
    months: 1,
    silence: SilenceMeaning::Desestimatory,
    article: "Ordenanza de Pasos de Vehículos de Madrid (2006) and art. 24.1 LPAC",
};

/// The period to bring what is missing: ten business days (art. 68.1 LPAC).
pub const RECTIFICATION_BUSINESS_DAYS: u32 = 10;
/// The period to communicate a change of holder or a modification: ten days (the ordinance),
/// business days (art. 30.2 LPAC), from the day after the act.
pub const COMMUNICATION_BUSINESS_DAYS: u32 = 10;
/// The period to put up the sign: one month from the day after the notification of the
/// authorisation, or the acceptance of the works (the ordinance).
pub const SIGNAGE_MONTHS: u32 = 1;

/// The timer of the period to bring documents.
pub const RECTIFICATION_TIMER: &str = "rectification_period";
/// The timer of the month to resolve.
pub const MAXIMUM_TIME_TIMER: &str = "maximum_time";
/// The timer of the sign.
pub const SIGNAGE_TIMER: &str = "signage";
/// The timer of a provisional crossing's term.
pub const TERM_TIMER: &str = "provisional_term";
/// The follow-up by which a new authorisation ends the crossing it replaces.
pub const REPLACED: &str = "replaced_by_new_authorisation";
/// The follow-up by which a protective islands file records its grant on the crossing.
pub const ISLAND_AUTHORISED: &str = "protective_island_authorised";

fn closed_refusal(stage: Stage) -> Refusal {
    Refusal::Closed(stage.code())
}

impl esrs::Aggregate for VehicleCrossing {
    const NAME: &'static str = "vehicle_crossing";
    type State = State;
    type Command = Command;
    type Event = Event;
    type Error = Refusal;

    fn handle_command(state: &State, command: Command) -> Result<Vec<Event>, Refusal> {
        use Stage as S;
        let stage = state.stage;
        match command {
            Command::Apply {
                case_number,
                sia_code,
                parties,
                standing,
                address,
                purpose,
                works,
                measures,
                provisional_until,
                need,
                at,
                today,
                entry,
                notify_by,
            } => {
                if stage != S::NotApplied {
                    return Err(Refusal::AlreadyApplied);
                }
                if !parties.iter().any(|p| p.role == PartyRole::Interested) {
                    return Err(Refusal::Incomplete("it names no applicant"));
                }
                let address = address.trim().to_owned();
                if address.is_empty() {
                    return Err(Refusal::Incomplete(
                        "give the address of the property the crossing serves",
                    ));
                }
                let need = need.trim().to_owned();
                if need.is_empty() {
                    return Err(Refusal::Incomplete(
                        "justify the need for the crossing (the standard form asks for it)",
                    ));
                }
                measures.check().map_err(Refusal::Incomplete)?;
                if let Some(until) = provisional_until {
                    if until <= today {
                        return Err(Refusal::Term(
                            "a provisional crossing's last day is after today",
                        ));
                    }
                }
                if standing == values::Standing::WorksOwner && provisional_until.is_none() {
                    return Err(Refusal::Term(
                        "the owner of works applies for a provisional crossing: give its last day",
                    ));
                }
                let required = required_documents(purpose, works);
                Ok(vec![Event::Applied {
                    case_number,
                    sia_code,
                    parties,
                    standing,
                    address,
                    purpose,
                    works,
                    measures,
                    provisional_until,
                    need,
                    required,
                    at,
                    entry,
                    notify_by,
                }])
            }
            _ if stage == S::NotApplied => Err(Refusal::NotApplied),
            Command::RecordResolutionNotified {
                notification,
                outcome,
                on,
                payment_due,
            } => {
                if state.resolution_notification != Some(notification) {
                    return Err(Refusal::UnknownNotification);
                }
                Ok(vec![Event::ResolutionNotified {
                    notification,
                    outcome,
                    on,
                    payment_due: payment_due.filter(|_| state.liquidation.is_some()),
                }])
            }
            Command::RecordProtectiveIsland { file, at } => {
                if stage != S::Authorised {
                    return Err(Refusal::NotAuthorised);
                }
                if state.islands.contains(&file) {
                    return Err(Refusal::AlreadyRecorded("these protective islands"));
                }
                Ok(vec![Event::ProtectiveIslandAuthorised { file, at }])
            }
            _ if stage.is_closed() => Err(closed_refusal(stage)),
            Command::ProvideDocument {
                requirement,
                document,
                entered_on,
                at,
            } => {
                if !matches!(
                    stage,
                    S::Applied | S::AwaitingRectification | S::DesistimientoProposed
                ) {
                    return Err(Refusal::DocumentationComplete);
                }
                match state.item(requirement) {
                    None => Err(Refusal::NotRequired(requirement)),
                    Some(item) if item.status == ItemStatus::Accepted => {
                        Err(Refusal::AlreadyAccepted(requirement))
                    }
                    Some(_) => Ok(vec![Event::DocumentProvided {
                        requirement,
                        document,
                        entered_on,
                        at,
                    }]),
                }
            }
            Command::ReviewDocument {
                requirement,
                verdict,
                at,
                resolution_due,
                max_time_rule,
            } => {
                if !matches!(
                    stage,
                    S::Applied | S::AwaitingRectification | S::DesistimientoProposed
                ) {
                    return Err(Refusal::DocumentationComplete);
                }
                match state.item(requirement) {
                    None => return Err(Refusal::NotRequired(requirement)),
                    Some(item) if item.status != ItemStatus::Provided => {
                        return Err(Refusal::NothingToReview(requirement))
                    }
                    Some(_) => {}
                }
                match verdict {
                    Verdict::Reject(reason) => {
                        let reason = reason.trim().to_owned();
                        if reason.is_empty() {
                            return Err(Refusal::Incomplete("say why the document is not valid"));
                        }
                        Ok(vec![Event::DocumentRejected {
                            requirement,
                            reason,
                            at,
                        }])
                    }
                    Verdict::Accept => {
                        let mut events = vec![Event::DocumentAccepted { requirement, at }];
                        if let Some(complete_on) = state.complete_on_accepting(requirement) {
                            events.push(Event::DocumentationCompleted {
                                complete_on,
                                resolution_due,
                                max_time_rule,
                                at,
                            });
                        }
                        Ok(events)
                    }
                }
            }
            Command::RequestRectification {
                note,
                at,
                notification,
            } => {
                match stage {
                    S::Applied => {}
                    S::AwaitingRectification => return Err(Refusal::RectificationRunning),
                    S::DesistimientoProposed => return Err(Refusal::DesistimientoPending),
                    _ => return Err(Refusal::DocumentationComplete),
                }
                let items = state.to_fix();
                if items.is_empty() {
                    return Err(Refusal::NothingToFix);
                }
                Ok(vec![Event::RectificationIssued {
                    items,
                    note: note.trim().to_owned(),
                    at,
                    notification,
                }])
            }
            Command::RecordRectificationNotified {
                notification,
                outcome,
                on,
                due,
                rule,
            } => {
                if stage != S::AwaitingRectification
                    || state.rectification_notification != Some(notification)
                {
                    return Err(Refusal::NotThisRequest);
                }
                Ok(vec![Event::RectificationNotified {
                    notification,
                    outcome,
                    on,
                    due,
                    rule,
                }])
            }
            Command::CloseRectificationPeriod { due, at, today } => {
                if stage != S::AwaitingRectification
                    || state.rectification_due != Some(due)
                    || today <= due
                {
                    return Err(Refusal::StalePeriod(due));
                }
                Ok(vec![Event::DesistimientoProposed { at }])
            }
            Command::ReachMaximumTime { due, at, today } => {
                if state.silence_reached.is_some() {
                    return Err(Refusal::SilenceAlreadyReached);
                }
                if stage != S::UnderReview || state.resolution_due != Some(due) || today <= due {
                    return Err(Refusal::StaleMaximumTime(due));
                }
                Ok(vec![Event::SilenceReached {
                    meaning: MAXIMUM_TIME.silence,
                    due,
                    at,
                }])
            }
            Command::Resolve {
                decision,
                reasons,
                appeals,
                liquidation,
                restoration_cost,
                notification,
                at,
            } => {
                match (stage, decision) {
                    (S::DesistimientoProposed, Decision::Desistimiento) => {}
                    (S::DesistimientoProposed, _) => return Err(Refusal::DesistimientoPending),
                    (_, Decision::Desistimiento) => return Err(Refusal::NoDesistimientoProposed),
                    (S::UnderReview, _) => {}
                    (S::Applied, _) => return Err(Refusal::DocumentationIncomplete),
                    (S::AwaitingRectification, _) => {
                        return Err(match state.rectification_due {
                            Some(due) => Refusal::AwaitingApplicant(due),
                            None => Refusal::RectificationBeingNotified,
                        })
                    }
                    _ => return Err(Refusal::AlreadyResolved),
                }
                let mut events = vec![Event::Resolved {
                    decision,
                    grounds: reasons.into(),
                    appeals,
                    notification,
                    at,
                }];
                if decision == Decision::Granted {
                    match state.purpose {
                        Some(Purpose::ProtectiveIsland { crossing }) => {
                            events.push(Event::ProtectiveIslandGranted { crossing, at });
                        }
                        _ => {
                            let liquidation = liquidation.ok_or(Refusal::NoLiquidation)?;
                            let restoration_cost = if state.needs_guarantees() {
                                Some(
                                    restoration_cost
                                        .filter(|c| *c > 0)
                                        .ok_or(Refusal::NoRestorationCost)?,
                                )
                            } else {
                                None
                            };
                            events.push(Event::FeesLiquidated {
                                liquidation,
                                restoration_cost,
                                at,
                            });
                        }
                    }
                }
                Ok(events)
            }
            Command::RecordPayment {
                amount,
                receipt,
                paid_on,
                at,
                today,
            } => {
                let Some(liquidation) = state.liquidation.as_ref().filter(|_| stage == S::Granted)
                else {
                    return Err(Refusal::NotAtThisStep(
                        "there is no liquidation waiting to be paid",
                    ));
                };
                if state.paid {
                    return Err(Refusal::AlreadyRecorded("the payment"));
                }
                if amount != liquidation.total {
                    return Err(Refusal::WrongAmount(euros(liquidation.total)));
                }
                let receipt = receipt.trim().to_owned();
                if receipt.is_empty() {
                    return Err(Refusal::Incomplete("give the payment's receipt"));
                }
                if paid_on > today {
                    return Err(Refusal::Date("the payment's day is not in the future"));
                }
                Ok(vec![Event::PaymentRecorded {
                    amount,
                    receipt,
                    paid_on,
                    at,
                }])
            }
            Command::RecordInsurance {
                insurance,
                at,
                today,
            } => {
                if stage != S::Granted || !state.needs_guarantees() {
                    return Err(Refusal::NotAtThisStep(
                        "insurance is recorded for a granted authorisation whose works the applicant does",
                    ));
                }
                if state.insurance.is_some() {
                    return Err(Refusal::AlreadyRecorded("the insurance"));
                }
                if insurance.cover_per_claim < MINIMUM_INSURANCE_CENTS {
                    return Err(Refusal::InsuranceInsufficient("the cover is lower"));
                }
                if insurance.excess != 0 {
                    return Err(Refusal::InsuranceInsufficient("the policy has an excess"));
                }
                if insurance.covers_until <= today {
                    return Err(Refusal::InsuranceInsufficient(
                        "the policy does not cover the works from today",
                    ));
                }
                if insurance.insurer.trim().is_empty() || insurance.policy.trim().is_empty() {
                    return Err(Refusal::Incomplete("name the insurer and the policy"));
                }
                Ok(vec![Event::InsuranceRecorded { insurance, at }])
            }
            Command::RecordDeposit { deposit, at } => {
                if stage != S::Granted || !state.needs_guarantees() {
                    return Err(Refusal::NotAtThisStep(
                        "a deposit is recorded for a granted authorisation whose works the applicant does",
                    ));
                }
                if state.deposit.is_some() {
                    return Err(Refusal::AlreadyRecorded("the deposit"));
                }
                let required = state.restoration_cost.unwrap_or_default();
                if deposit.amount < required {
                    return Err(Refusal::DepositInsufficient(euros(required)));
                }
                if deposit.receipt.trim().is_empty() {
                    return Err(Refusal::Incomplete("give the Treasury's receipt"));
                }
                Ok(vec![Event::DepositRecorded { deposit, at }])
            }
            Command::IssueAuthorisation {
                number,
                notification,
                at,
            } => {
                if stage != S::Granted {
                    return Err(Refusal::NotAtThisStep(
                        "the authorisation is issued once granted",
                    ));
                }
                if !state.paid {
                    return Err(Refusal::PrerequisiteMissing("the payment of the fees"));
                }
                if state.needs_guarantees() {
                    if state.insurance.is_none() {
                        return Err(Refusal::PrerequisiteMissing("the insurance"));
                    }
                    if state.deposit.is_none() {
                        return Err(Refusal::PrerequisiteMissing("the deposit"));
                    }
                }
                let replaces = match state.purpose {
                    Some(Purpose::Authorisation { replaces }) => replaces,
                    _ => None,
                };
                Ok(vec![Event::AuthorisationIssued {
                    number,
                    holder: state.holder(),
                    address: state.address.clone(),
                    measures: state
                        .measures
                        .clone()
                        .unwrap_or_else(|| unreachable!("an applied file has its measures")),
                    provisional_until: state.provisional_until,
                    replaces,
                    notification,
                    at,
                }])
            }
            Command::RecordAuthorisationNotified {
                notification,
                outcome,
                on,
                sign_due,
            } => {
                if state.authorisation_notification != Some(notification)
                    || state.authorisation_notified
                {
                    return Err(Refusal::UnknownNotification);
                }
                let counts_from_here = !state.works.is_some_and(Works::accepted_before_sign)
                    && state.sign == Sign::NotDue;
                Ok(vec![Event::AuthorisationNotified {
                    notification,
                    outcome,
                    on,
                    sign_due: counts_from_here.then_some(sign_due),
                }])
            }
            Command::AcceptWorks { on, sign_due, at } => {
                if stage != S::Authorised || !state.works.is_some_and(Works::accepted_before_sign) {
                    return Err(Refusal::NotAtThisStep(
                        "works are accepted on an authorised crossing that needed them",
                    ));
                }
                if state.works_accepted {
                    return Err(Refusal::AlreadyRecorded("the acceptance of the works"));
                }
                Ok(vec![Event::WorksAccepted { on, sign_due, at }])
            }
            Command::RecordSign { on, at } => {
                if stage != S::Authorised {
                    return Err(Refusal::NotAuthorised);
                }
                let late = match state.sign {
                    Sign::Installed { .. } => return Err(Refusal::AlreadyRecorded("the sign")),
                    Sign::NotDue => false,
                    Sign::Due { due } | Sign::Overdue { due } => on > due,
                };
                Ok(vec![Event::SignInstalled { on, late, at }])
            }
            Command::MarkSignOverdue { due, at, today } => match state.sign {
                Sign::Due { due: current } if current == due && today > due => {
                    Ok(vec![Event::SignOverdue { due, at }])
                }
                _ => Err(Refusal::StaleSign(due)),
            },
            Command::ChangeHolder {
                parties,
                standing,
                act_on,
                due,
                filed_on,
                proof,
                entry,
                at,
            } => {
                if stage != S::Authorised {
                    return Err(Refusal::NotAuthorised);
                }
                if !parties.iter().any(|p| p.role == PartyRole::Interested) {
                    return Err(Refusal::Incomplete("name the new holder"));
                }
                if act_on > filed_on {
                    return Err(Refusal::Date(
                        "the act that causes the change is not after the day it is communicated",
                    ));
                }
                Ok(vec![Event::HolderChanged {
                    parties,
                    standing,
                    act_on,
                    due,
                    filed_on,
                    late: filed_on > due,
                    proof,
                    entry,
                    at,
                }])
            }
            Command::CommunicateModification {
                description,
                occurred_on,
                due,
                filed_on,
                with_works,
                ends_crossing,
                entry,
                at,
            } => {
                if stage != S::Authorised {
                    return Err(Refusal::NotAuthorised);
                }
                if with_works {
                    return Err(Refusal::ModificationWithWorks);
                }
                let description = description.trim().to_owned();
                if description.is_empty() {
                    return Err(Refusal::Incomplete("say what changed"));
                }
                if occurred_on > filed_on {
                    return Err(Refusal::Date(
                        "the modification is communicated once it happened",
                    ));
                }
                let late = filed_on > due;
                let mut events = vec![Event::ModificationCommunicated {
                    description,
                    occurred_on,
                    due,
                    filed_on,
                    late,
                    ends_crossing,
                    entry,
                    at,
                }];
                if ends_crossing {
                    events.push(Event::Ended {
                        reason: EndReason::Modification,
                        grounds: None,
                        replaced_by: None,
                        on: occurred_on,
                        entry: None,
                        at,
                    });
                }
                Ok(events)
            }
            Command::RequestExtension {
                until,
                need,
                today,
                entry,
                at,
            } => {
                if stage != S::Authorised {
                    return Err(Refusal::NotAuthorised);
                }
                let Some(current) = state.provisional_until else {
                    return Err(Refusal::Extension(
                        "only a provisional crossing is extended",
                    ));
                };
                if today > current {
                    return Err(Refusal::Extension(
                        "an extension is asked before the provisional term ends",
                    ));
                }
                if state.extension_asked.is_some() {
                    return Err(Refusal::Extension("an extension is already being decided"));
                }
                if until <= current {
                    return Err(Refusal::Extension(
                        "the new last day is after the current one",
                    ));
                }
                let need = need.trim().to_owned();
                if need.is_empty() {
                    return Err(Refusal::Extension("justify the need for the extension"));
                }
                Ok(vec![Event::ExtensionRequested {
                    until,
                    need,
                    entry,
                    at,
                }])
            }
            Command::DecideExtension {
                granted,
                reasons,
                today,
                at,
            } => {
                let (Some(asked), Some(was)) = (state.extension_asked, state.provisional_until)
                else {
                    return Err(Refusal::Extension("no extension is being decided"));
                };
                if stage != S::Authorised {
                    return Err(Refusal::NotAuthorised);
                }
                if granted {
                    return Ok(vec![Event::TermExtended {
                        was,
                        until: asked,
                        grounds: reasons.into(),
                        at,
                    }]);
                }
                let mut events = vec![Event::ExtensionDenied {
                    grounds: reasons.into(),
                    at,
                }];
                // Asked in time, the crossing stood while it was decided: denied after the
                // term, it ends now.
                if today > was {
                    events.push(Event::Ended {
                        reason: EndReason::TermEnded,
                        grounds: None,
                        replaced_by: None,
                        on: today,
                        entry: None,
                        at,
                    });
                }
                Ok(events)
            }
            Command::EndTerm { until, at, today } => {
                if stage != S::Authorised
                    || state.provisional_until != Some(until)
                    || today <= until
                    || state.extension_asked.is_some()
                {
                    return Err(Refusal::TermNotEnding(until));
                }
                Ok(vec![Event::Ended {
                    reason: EndReason::TermEnded,
                    grounds: None,
                    replaced_by: None,
                    on: until.succ_opt().unwrap_or(until),
                    entry: None,
                    at,
                }])
            }
            Command::Remove {
                at_holder_request,
                reasons,
                on,
                entry,
                at,
            } => {
                if stage != S::Authorised {
                    return Err(Refusal::NotAuthorised);
                }
                Ok(vec![Event::Ended {
                    reason: if at_holder_request {
                        EndReason::RemovedAtHolderRequest
                    } else {
                        EndReason::RemovedByCouncil
                    },
                    grounds: Some(reasons.into()),
                    replaced_by: None,
                    on,
                    entry,
                    at,
                }])
            }
            Command::RecordReplacement { by, at, on } => {
                if stage != S::Authorised {
                    return Err(Refusal::NotAuthorised);
                }
                Ok(vec![Event::Ended {
                    reason: EndReason::Replaced,
                    grounds: None,
                    replaced_by: Some(by),
                    on,
                    entry: None,
                    at,
                }])
            }
            Command::Withdraw { at } => match stage {
                S::Applied
                | S::AwaitingRectification
                | S::DesistimientoProposed
                | S::UnderReview => Ok(vec![Event::Withdrawn { at }]),
                _ => Err(Refusal::AlreadyResolved),
            },
        }
    }

    fn apply_event(mut state: State, event: Event) -> State {
        use Stage as S;
        let set_item =
            |state: &mut State, requirement: Requirement, f: &dyn Fn(&mut ChecklistItem)| {
                if let Some(item) = state
                    .checklist
                    .iter_mut()
                    .find(|i| i.requirement == requirement)
                {
                    f(item);
                }
            };
        match event {
            Event::Applied {
                parties,
                standing,
                address,
                purpose,
                works,
                measures,
                provisional_until,
                required,
                notify_by,
                ..
            } => {
                state.stage = S::Applied;
                state.parties = parties;
                state.standing = Some(standing);
                state.address = address;
                state.purpose = Some(purpose);
                state.works = Some(works);
                state.measures = Some(measures);
                state.provisional_until = provisional_until;
                state.checklist = required
                    .into_iter()
                    .map(|requirement| ChecklistItem {
                        requirement,
                        status: ItemStatus::Missing,
                        document: None,
                        entered_on: None,
                        reason: None,
                    })
                    .collect();
                state.notify_by = Some(notify_by);
            }
            Event::DocumentProvided {
                requirement,
                document,
                entered_on,
                ..
            } => set_item(&mut state, requirement, &|item| {
                item.status = ItemStatus::Provided;
                item.document = Some(document);
                item.entered_on = Some(entered_on);
                item.reason = None;
            }),
            Event::DocumentAccepted { requirement, .. } => {
                set_item(&mut state, requirement, &|item| {
                    item.status = ItemStatus::Accepted;
                })
            }
            Event::DocumentRejected {
                requirement,
                reason,
                ..
            } => set_item(&mut state, requirement, &|item| {
                item.status = ItemStatus::Rejected;
                item.reason = Some(reason.clone());
            }),
            Event::DocumentationCompleted { resolution_due, .. } => {
                state.stage = S::UnderReview;
                state.resolution_due = Some(resolution_due);
                state.rectification_due = None;
                state.rectification_notification = None;
            }
            Event::RectificationIssued { notification, .. } => {
                state.stage = S::AwaitingRectification;
                state.rectification_notification = Some(notification);
                state.rectification_due = None;
            }
            Event::RectificationNotified { due, .. } => {
                state.rectification_due = Some(due);
            }
            Event::DesistimientoProposed { .. } => {
                state.stage = S::DesistimientoProposed;
                state.rectification_due = None;
            }
            Event::SilenceReached { meaning, .. } => state.silence_reached = Some(meaning),
            Event::Resolved {
                decision,
                notification,
                ..
            } => {
                state.resolution_notification = Some(notification);
                state.resolution_due = None;
                state.stage = match decision {
                    Decision::Granted => S::Granted,
                    Decision::Denied => S::Denied,
                    Decision::Desistimiento => S::DeemedWithdrawn,
                };
            }
            Event::FeesLiquidated {
                liquidation,
                restoration_cost,
                ..
            } => {
                state.liquidation = Some(liquidation);
                state.restoration_cost = restoration_cost;
            }
            Event::ProtectiveIslandGranted { .. } => state.stage = S::IslandGranted,
            Event::ResolutionNotified { payment_due, .. } => {
                if payment_due.is_some() {
                    state.payment_due = payment_due;
                }
            }
            Event::PaymentRecorded { .. } => state.paid = true,
            Event::InsuranceRecorded { insurance, .. } => state.insurance = Some(insurance),
            Event::DepositRecorded { deposit, .. } => state.deposit = Some(deposit),
            Event::AuthorisationIssued {
                number,
                notification,
                ..
            } => {
                state.stage = S::Authorised;
                state.number = Some(number);
                state.authorisation_notification = Some(notification);
            }
            Event::AuthorisationNotified { sign_due, .. } => {
                state.authorisation_notified = true;
                if let Some(due) = sign_due {
                    state.sign = Sign::Due { due };
                }
            }
            Event::WorksAccepted { sign_due, .. } => {
                state.works_accepted = true;
                if !matches!(state.sign, Sign::Installed { .. }) {
                    state.sign = Sign::Due { due: sign_due };
                }
            }
            Event::SignInstalled { on, .. } => state.sign = Sign::Installed { on },
            Event::SignOverdue { due, .. } => state.sign = Sign::Overdue { due },
            Event::HolderChanged {
                parties, standing, ..
            } => {
                state.parties = parties;
                state.standing = Some(standing);
            }
            Event::ModificationCommunicated { .. } => {}
            Event::ExtensionRequested { until, .. } => state.extension_asked = Some(until),
            Event::TermExtended { until, .. } => {
                state.provisional_until = Some(until);
                state.extension_asked = None;
            }
            Event::ExtensionDenied { .. } => state.extension_asked = None,
            Event::ProtectiveIslandAuthorised { file, .. } => state.islands.push(file),
            Event::Ended { reason, .. } => {
                state.stage = S::Ended;
                state.ended = Some(reason);
                state.extension_asked = None;
            }
            Event::Withdrawn { .. } => state.stage = S::Withdrawn,
        }
        state
    }
}

fn set_counted(kind: &str, due: NaiveDate, rule: Option<DeadlineRule>) -> TimerEffect {
    TimerEffect::Set {
        kind: kind.to_owned(),
        fires_on: due.succ_opt().unwrap_or(due),
        data: deadline_data(due, rule),
    }
}

fn cancel(kind: &str) -> TimerEffect {
    TimerEffect::Cancel {
        kind: kind.to_owned(),
    }
}

/// What to bring, for people.
fn list(items: &[Requirement]) -> String {
    items
        .iter()
        .map(|r| r.describe())
        .collect::<Vec<_>>()
        .join("; ")
}

impl Procedure for VehicleCrossing {
    const TITLE: &'static str = "Paso de vehículos (vado)";

    fn registry_entries(event: &Event) -> Vec<RegistryEntry> {
        match event {
            Event::Applied { entry, .. } => vec![entry.clone()],
            Event::HolderChanged {
                entry: Some(entry), ..
            }
            | Event::ModificationCommunicated {
                entry: Some(entry), ..
            }
            | Event::ExtensionRequested {
                entry: Some(entry), ..
            }
            | Event::Ended {
                entry: Some(entry), ..
            } => vec![entry.clone()],
            _ => Vec::new(),
        }
    }

    fn follow_ups(file: uuid::Uuid, event: &Event) -> Vec<FollowUp> {
        let name = <VehicleCrossing as esrs::Aggregate>::NAME.to_owned();
        match event {
            Event::AuthorisationIssued {
                replaces: Some(old),
                at,
                ..
            } => vec![FollowUp {
                stream_type: name,
                stream_id: *old,
                kind: REPLACED.to_owned(),
                data: serde_json::json!({ "by": file }),
                on: at.date_naive(),
            }],
            Event::ProtectiveIslandGranted { crossing, at } => vec![FollowUp {
                stream_type: name,
                stream_id: *crossing,
                kind: ISLAND_AUTHORISED.to_owned(),
                data: serde_json::json!({ "file": file }),
                on: at.date_naive(),
            }],
            _ => Vec::new(),
        }
    }

    fn timer_effects(event: &Event) -> Vec<TimerEffect> {
        match event {
            Event::RectificationNotified { due, rule, .. } => {
                vec![set_counted(RECTIFICATION_TIMER, *due, Some(rule.clone()))]
            }
            Event::DocumentationCompleted {
                resolution_due,
                max_time_rule,
                ..
            } => vec![
                cancel(RECTIFICATION_TIMER),
                set_counted(
                    MAXIMUM_TIME_TIMER,
                    *resolution_due,
                    Some(max_time_rule.clone()),
                ),
            ],
            Event::DesistimientoProposed { .. } => vec![cancel(RECTIFICATION_TIMER)],
            Event::Resolved { .. } | Event::Withdrawn { .. } => {
                vec![cancel(RECTIFICATION_TIMER), cancel(MAXIMUM_TIME_TIMER)]
            }
            Event::AuthorisationIssued {
                provisional_until: Some(until),
                ..
            } => vec![set_counted(TERM_TIMER, *until, None)],
            Event::TermExtended { until, .. } => vec![set_counted(TERM_TIMER, *until, None)],
            Event::AuthorisationNotified {
                sign_due: Some(due),
                ..
            }
            | Event::WorksAccepted { sign_due: due, .. } => {
                vec![set_counted(SIGNAGE_TIMER, *due, None)]
            }
            Event::SignInstalled { .. } => vec![cancel(SIGNAGE_TIMER)],
            Event::Ended { .. } => vec![cancel(SIGNAGE_TIMER), cancel(TERM_TIMER)],
            _ => Vec::new(),
        }
    }

    fn timer_command(
        kind: &str,
        data: &serde_json::Value,
        state: &State,
        context: &TimerContext<'_>,
    ) -> Option<Command> {
        if let Some(effect) = crate::lpac::notification::Effect::from_follow_up(kind, data) {
            let month_after = |on: NaiveDate| {
                DeadlineRule::new(on, SIGNAGE_MONTHS, Unit::Months, None)
                    .due(context.calendar, context.seat)
                    .ok()
            };
            return match effect.act {
                ActKind::RectificationRequest => {
                    let rule = DeadlineRule::new(
                        effect.on,
                        RECTIFICATION_BUSINESS_DAYS,
                        Unit::BusinessDays,
                        None,
                    );
                    let due = rule.due(context.calendar, context.seat).ok()?;
                    Some(Command::RecordRectificationNotified {
                        notification: effect.notification,
                        outcome: effect.outcome,
                        on: effect.on,
                        due,
                        rule,
                    })
                }
                _ if state.authorisation_notification == Some(effect.notification) => {
                    Some(Command::RecordAuthorisationNotified {
                        notification: effect.notification,
                        outcome: effect.outcome,
                        on: effect.on,
                        sign_due: month_after(effect.on)?,
                    })
                }
                _ => {
                    // Art. 62.2 LGT; a last day that is not a business day moves to the next.
                    let payment_due = state.liquidation.as_ref().and_then(|_| {
                        let day = values::voluntary_payment_day(effect.on);
                        context.business_days_after(day.pred_opt()?, 1)
                    });
                    Some(Command::RecordResolutionNotified {
                        notification: effect.notification,
                        outcome: effect.outcome,
                        on: effect.on,
                        payment_due,
                    })
                }
            };
        }
        match kind {
            REPLACED => Some(Command::RecordReplacement {
                by: serde_json::from_value(data.get("by")?.clone()).ok()?,
                at: context.now,
                on: context.today,
            }),
            ISLAND_AUTHORISED => Some(Command::RecordProtectiveIsland {
                file: serde_json::from_value(data.get("file")?.clone()).ok()?,
                at: context.now,
            }),
            _ => {
                let due: NaiveDate = serde_json::from_value(data.get("due")?.clone()).ok()?;
                match kind {
                    RECTIFICATION_TIMER => Some(Command::CloseRectificationPeriod {
                        due,
                        at: context.now,
                        today: context.today,
                    }),
                    MAXIMUM_TIME_TIMER => Some(Command::ReachMaximumTime {
                        due,
                        at: context.now,
                        today: context.today,
                    }),
                    SIGNAGE_TIMER => Some(Command::MarkSignOverdue {
                        due,
                        at: context.now,
                        today: context.today,
                    }),
                    TERM_TIMER => Some(Command::EndTerm {
                        until: due,
                        at: context.now,
                        today: context.today,
                    }),
                    _ => None,
                }
            }
        }
    }

    fn case_effects(event: &Event) -> Vec<CaseEffect> {
        let changed =
            |stage: Stage, description: String, at: DateTime<Utc>| CaseEffect::StateChanged {
                state: stage.code().to_owned(),
                description,
                at,
            };
        let closing = |stage: Stage, description: String, at: DateTime<Utc>| {
            vec![
                CaseEffect::CitizenMustAct(None),
                CaseEffect::ResolutionDue(None),
                CaseEffect::Closed {
                    state: stage.code().to_owned(),
                    description,
                    at,
                },
            ]
        };
        let noon = |on: &NaiveDate| on.and_hms_opt(12, 0, 0).expect("noon exists").and_utc();
        match event {
            Event::Applied {
                case_number,
                sia_code,
                parties,
                address,
                purpose,
                required,
                at,
                ..
            } => {
                let subject = match purpose {
                    Purpose::ProtectiveIsland { .. } => {
                        format!("Isletas de protección del paso de vehículos de {address}")
                    }
                    Purpose::Authorisation { replaces: Some(_) } => {
                        format!("Modificación con obras del paso de vehículos de {address}")
                    }
                    Purpose::Authorisation { replaces: None } => {
                        format!("Paso de vehículos en {address}")
                    }
                };
                vec![
                    CaseEffect::Opened {
                        case_number: case_number.clone(),
                        sia_code: sia_code.clone(),
                        subject,
                        parties: parties.clone(),
                        at: *at,
                    },
                    changed(
                        Stage::Applied,
                        format!(
                            "Filed; documents to bring: {}. The month to resolve counts from the day after the complete documentation enters the registry",
                            list(required)
                        ),
                        *at,
                    ),
                    CaseEffect::Silence {
                        meaning: MAXIMUM_TIME.silence,
                        basis: MAXIMUM_TIME.describe(),
                        reached_on: None,
                    },
                ]
            }
            Event::DocumentProvided { .. }
            | Event::DocumentAccepted { .. }
            | Event::DocumentRejected { .. } => Vec::new(),
            Event::DocumentationCompleted {
                resolution_due, at, ..
            } => vec![
                changed(
                    Stage::UnderReview,
                    "The documentation is complete; the council resolves within one month".into(),
                    *at,
                ),
                CaseEffect::CitizenMustAct(None),
                CaseEffect::ResolutionDue(Some(*resolution_due)),
            ],
            Event::RectificationIssued { items, at, .. } => vec![
                changed(
                    Stage::AwaitingRectification,
                    format!(
                        "The council asked for what is missing ({}): the request is being notified, and the ten business days count from the day after it takes effect (arts. 41 and 68.1 LPAC)",
                        list(items)
                    ),
                    *at,
                ),
                CaseEffect::CitizenMustAct(None),
            ],
            Event::RectificationNotified { due, on, .. } => vec![
                changed(
                    Stage::AwaitingRectification,
                    "The request for the missing documents was notified: bring them by the day shown, or the application will be declared withdrawn (art. 68.1 LPAC)".into(),
                    noon(on),
                ),
                CaseEffect::CitizenMustAct(Some(CitizenAction {
                    what: "Bring the documents the council asked for".into(),
                    due: *due,
                })),
            ],
            Event::DesistimientoProposed { at } => vec![
                changed(
                    Stage::DesistimientoProposed,
                    "The period to bring the documents ended without them: the council will declare the withdrawal by resolution (art. 68.1 LPAC)".into(),
                    *at,
                ),
                CaseEffect::CitizenMustAct(None),
            ],
            Event::SilenceReached { meaning, due, .. } => vec![CaseEffect::Silence {
                meaning: *meaning,
                basis: MAXIMUM_TIME.describe(),
                reached_on: due.succ_opt(),
            }],
            Event::Resolved { decision, at, .. } => match decision {
                Decision::Granted => vec![
                    changed(Stage::Granted, "Resolved: granted".into(), *at),
                    CaseEffect::ResolutionDue(None),
                ],
                Decision::Denied => closing(Stage::Denied, "Resolved: denied".into(), *at),
                Decision::Desistimiento => closing(
                    Stage::DeemedWithdrawn,
                    "Resolved: the applicant is declared to have withdrawn, the documents not having been brought in time (art. 68.1 LPAC)".into(),
                    *at,
                ),
            },
            Event::FeesLiquidated {
                liquidation,
                restoration_cost,
                at,
            } => {
                let mut text = format!(
                    "Granted: the authorisation is issued once the fees ({}) are paid",
                    euros(liquidation.total)
                );
                if let Some(cost) = restoration_cost {
                    text.push_str(&format!(
                        ", and the civil liability insurance (at least 300.000,00 € per claim, without excess) and the deposit of {} are recorded",
                        euros(*cost)
                    ));
                }
                vec![changed(Stage::Granted, text, *at)]
            }
            Event::ProtectiveIslandGranted { at, .. } => closing(
                Stage::IslandGranted,
                "Resolved: the protective islands are authorised".into(),
                *at,
            ),
            Event::ResolutionNotified {
                payment_due: Some(due),
                ..
            } => vec![CaseEffect::CitizenMustAct(Some(CitizenAction {
                what: "Pay the liquidation of the fees (voluntary period, art. 62.2 LGT)".into(),
                due: *due,
            }))],
            Event::ResolutionNotified { .. } => Vec::new(),
            Event::PaymentRecorded { at, .. } => vec![
                changed(Stage::Granted, "The fees are paid".into(), *at),
                CaseEffect::CitizenMustAct(None),
            ],
            Event::InsuranceRecorded { .. } | Event::DepositRecorded { .. } => Vec::new(),
            Event::AuthorisationIssued { number, at, .. } => vec![
                changed(
                    Stage::Authorised,
                    format!("Authorised: crossing number {}", number.as_str()),
                    *at,
                ),
                CaseEffect::CitizenMustAct(None),
            ],
            Event::AuthorisationNotified {
                sign_due: Some(due),
                ..
            }
            | Event::WorksAccepted { sign_due: due, .. } => {
                vec![CaseEffect::CitizenMustAct(Some(CitizenAction {
                    what: "Put up the standard sign with the crossing's number (collect the plate's distinctive at the district)".into(),
                    due: *due,
                }))]
            }
            Event::AuthorisationNotified { .. } => Vec::new(),
            Event::SignInstalled { at, .. } => vec![
                changed(Stage::Authorised, "Authorised; the sign is in place".into(), *at),
                CaseEffect::CitizenMustAct(None),
            ],
            Event::SignOverdue { at, .. } => vec![changed(
                Stage::Authorised,
                "Authorised; the month to put up the sign has passed without it".into(),
                *at,
            )],
            Event::HolderChanged {
                parties, late, at, ..
            } => {
                let mut effects: Vec<CaseEffect> = parties
                    .iter()
                    .cloned()
                    .map(CaseEffect::PartyAdded)
                    .collect();
                effects.push(changed(
                    Stage::Authorised,
                    if *late {
                        "The change of holder was communicated after its ten days".into()
                    } else {
                        "The holder changed".into()
                    },
                    *at,
                ));
                effects
            }
            Event::ModificationCommunicated {
                late,
                ends_crossing: false,
                at,
                ..
            } => vec![changed(
                Stage::Authorised,
                if *late {
                    "A modification was communicated after its ten days".into()
                } else {
                    "A modification was communicated".into()
                },
                *at,
            )],
            Event::ModificationCommunicated { .. } => Vec::new(),
            Event::ExtensionRequested { at, .. } => vec![changed(
                Stage::Authorised,
                "An extension of the provisional term was asked".into(),
                *at,
            )],
            Event::TermExtended { until, at, .. } => vec![changed(
                Stage::Authorised,
                format!("The provisional term was extended until {until}"),
                *at,
            )],
            Event::ExtensionDenied { at, .. } => vec![changed(
                Stage::Authorised,
                "The extension of the provisional term was denied".into(),
                *at,
            )],
            Event::ProtectiveIslandAuthorised { at, .. } => vec![changed(
                Stage::Authorised,
                "Protective islands were authorised for the crossing".into(),
                *at,
            )],
            Event::Ended { reason, at, .. } => {
                let text = match reason {
                    EndReason::RemovedAtHolderRequest => "Ended: removed at the holder's request; its fees end",
                    EndReason::RemovedByCouncil => "Ended: removed by the council; its fees end",
                    EndReason::Modification => "Ended by a communicated modification; its fees end",
                    EndReason::TermEnded => "Ended: the provisional term passed without extension",
                    EndReason::Replaced => "Ended: replaced by a new authorisation",
                };
                closing(Stage::Ended, text.into(), *at)
            }
            Event::Withdrawn { at } => {
                closing(Stage::Withdrawn, "Withdrawn by the applicant".into(), *at)
            }
        }
    }
}

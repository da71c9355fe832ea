//! A person's request that the council remove someone wrongly inscribed at an address (solicitud
//! de baja por inscripción indebida, seed 004): entered in the registry and examined by a
//! caseworker, who opens the removal file (`RemovalFile`, against the inscription the caseworker
//! finds) or resolves not to open one. The request names a person and an address as the requester
//! knows them; it is not linked to any inscription and blocks nothing, so submitting one neither
//! tells the requester whether that person is on the padrón nor lets anyone stop another person's
//! procedures (issue 10). The requester need show no link to the address, so the outcome is not
//! theirs to learn (it would tell them whether that person is inscribed there, padrón data that
//! art. 16.3 LBRL keeps from third parties): as with a denuncia (art. 62 LPAC, the person who
//! reports is not thereby an interested party, art. 62.5), they are given the registry receipt and
//! told when it has been examined (`Examined`, recorded with either outcome); what was decided
//! (`FileOpened`, `Declined` with its reasons) is the council's record, withheld from citizens.
//! The person concerned learns of a file by its notification.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::procedure::{CaseEffect, Procedure};
use crate::values::DocumentNumber;

mod commands;
mod events;
mod refusals;
mod state;
#[cfg(test)]
mod tests;

pub use commands::RequestCommand;
pub use events::RequestEvent;
pub use refusals::RequestRefusal;
pub use state::{RequestStage, RequestState};

/// Months within which the council examines the request, counted from its entry in the registry
/// (the general three months of art. 21.3.b LPAC, as the council's own target: shown to the
/// requester and in the caseworkers' queue; no silence follows from it, the request not being an
/// application whose grant the requester could obtain).
pub const ANSWER_MONTHS: u32 = 3;

/// The person a request says does not live at the address, as the requester names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedPerson {
    /// Their name.
    pub name: String,
    /// Their document number, when the requester knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<DocumentNumber>,
}

/// A request to remove someone wrongly inscribed.
#[derive(Debug)]
pub struct RemovalRequest;

impl esrs::Aggregate for RemovalRequest {
    const NAME: &'static str = "padron_removal_request";
    type State = RequestState;
    type Command = RequestCommand;
    type Event = RequestEvent;
    type Error = RequestRefusal;

    fn handle_command(
        state: &RequestState,
        command: RequestCommand,
    ) -> Result<Vec<RequestEvent>, RequestRefusal> {
        use RequestCommand as C;
        use RequestEvent as E;
        use RequestStage as S;
        match (state.stage, command) {
            (
                S::NotSubmitted,
                C::Submit {
                    entry,
                    case_number,
                    sia_code,
                    requester,
                    person,
                    address,
                    whereabouts,
                    declared_true,
                    on,
                    answer_due,
                },
            ) => {
                if whereabouts.trim().is_empty() {
                    return Err(RequestRefusal::WhereaboutsMissing);
                }
                if !declared_true {
                    return Err(RequestRefusal::NotDeclaredTrue);
                }
                Ok(vec![E::Submitted {
                    entry,
                    case_number,
                    sia_code,
                    requester,
                    person,
                    address,
                    whereabouts,
                    declared_true,
                    on,
                    answer_due,
                }])
            }
            (S::NotSubmitted, _) => Err(RequestRefusal::NotSubmitted),
            (_, C::Submit { .. }) => Err(RequestRefusal::AlreadySubmitted),
            (S::Examining, C::RecordFileOpened { file, on }) => {
                Ok(vec![E::Examined { on }, E::FileOpened { file, on }])
            }
            (S::Examining, C::Decline { grounds, on }) => {
                Ok(vec![E::Examined { on }, E::Declined { grounds, on }])
            }
            (stage, _) => Err(RequestRefusal::Examined(stage.into())),
        }
    }

    fn apply_event(mut state: RequestState, event: RequestEvent) -> RequestState {
        use RequestEvent as E;
        match event {
            E::Submitted {
                requester,
                person,
                address,
                whereabouts,
                on,
                ..
            } => {
                state.stage = RequestStage::Examining;
                state.requester = Some(requester.document.to_string());
                state.person = Some(person);
                state.address = address;
                state.whereabouts = whereabouts;
                state.submitted_on = Some(on);
            }
            E::FileOpened { file, .. } => {
                state.stage = RequestStage::FileOpened;
                state.file = Some(file);
            }
            E::Examined { .. } => {}
            E::Declined { .. } => state.stage = RequestStage::Declined,
        }
        state
    }
}

fn noon(on: &NaiveDate) -> chrono::DateTime<chrono::Utc> {
    on.and_hms_opt(12, 0, 0).expect("noon exists").and_utc()
}

impl Procedure for RemovalRequest {
    const TITLE: &'static str = "Solicitud de baja por inscripción indebida";

    fn registry_entries(event: &RequestEvent) -> Vec<crate::lpac::RegistryEntry> {
        match event {
            RequestEvent::Submitted { entry, .. } => vec![entry.clone()],
            _ => Vec::new(),
        }
    }

    fn case_effects(event: &RequestEvent) -> Vec<CaseEffect> {
        let closed = |state: &str, description: &str, on: &NaiveDate| {
            vec![
                CaseEffect::CitizenMustAct(None),
                CaseEffect::ResolutionDue(None),
                CaseEffect::Closed {
                    state: state.to_owned(),
                    description: description.to_owned(),
                    at: noon(on),
                },
            ]
        };
        match event {
            RequestEvent::Submitted {
                entry,
                case_number,
                sia_code,
                requester,
                answer_due,
                ..
            } => vec![
                CaseEffect::Opened {
                    case_number: case_number.clone(),
                    sia_code: sia_code.clone(),
                    subject: "Solicitud de baja por inscripción indebida en el padrón".into(),
                    parties: vec![requester.clone()],
                    at: entry.presented_at,
                },
                CaseEffect::StateChanged {
                    state: "examining".into(),
                    description: "Received: the council examines the request".into(),
                    at: entry.presented_at,
                },
                CaseEffect::ResolutionDue(Some(*answer_due)),
            ],
            RequestEvent::Examined { on } => closed(
                "examined",
                "Examined by the council, which acts ex officio where the law provides; the persons concerned are told by their own notifications",
                on,
            ),
            RequestEvent::FileOpened { on, .. } => closed(
                "file_opened",
                "A removal file for wrong inscription was opened from this request",
                on,
            ),
            RequestEvent::Declined { on, .. } => closed(
                "declined",
                "The council decided not to open a removal file (its reasons are on the request)",
                on,
            ),
        }
    }
}

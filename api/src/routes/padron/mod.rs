//! The padrón over HTTP: inscriptions and their procedures (`inscriptions`), removal files for
//! wrong inscription (`removal_files`), and what both share here: the register row, who may act,
//! and the actor of a request.

pub mod certificates;
pub mod inscriptions;
pub mod removal_files;
pub mod removal_requests;

use chrono::NaiveDate;
use expedientes_domain::padron::{
    Actor, Inscription, PadronCertificate, RemovalFile, RemovalRequest,
};
use expedientes_domain::MunicipalityCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Caller, Role};
use crate::notices::NoticeText;
use crate::problem::{ApiError, RefusalProblem};
use crate::procedures::Plugin;
use crate::state::AppState;

/// The padrón's registration: inscriptions, removal files, and the register read model.
pub const PLUGIN: Plugin = Plugin {
    name: "padrón",
    register: |registry| {
        registry
            .register::<Inscription>()
            .register::<RemovalFile>()
            .register::<RemovalRequest>()
            .register::<PadronCertificate>()
    },
    read_models: || {
        vec![
            std::sync::Arc::new(expedientes_projections::PadronRegister),
            std::sync::Arc::new(expedientes_projections::PadronCertificates),
        ]
    },
    routes: || {
        use certificates::*;
        use inscriptions::*;
        use removal_files::*;
        use removal_requests::*;
        OpenApiRouter::new()
            .routes(routes!(inscribe, find_inscriptions))
            .routes(routes!(get_inscription))
            .routes(routes!(inscription_history))
            .routes(routes!(renew))
            .routes(routes!(change_address))
            .routes(routes!(resolve_lapse))
            .routes(routes!(renewals))
            .routes(routes!(modify_personal_data))
            .routes(routes!(change_residence_status))
            .routes(routes!(confirm_residence))
            .routes(routes!(remove))
            .routes(routes!(correct_inscription))
            .routes(routes!(my_inscription))
            .routes(routes!(open_file))
            .routes(routes!(file_step))
            .routes(routes!(issue_certificate))
            .routes(routes!(get_certificate))
            .routes(routes!(submit_removal_request))
            .routes(routes!(get_removal_request))
            .routes(routes!(open_file_from_request))
            .routes(routes!(decline_removal_request))
    },
    notice: |stream_type, kind| match (stream_type, kind) {
        (INSCRIPTION, "renewal_warning") => Some(NoticeText {
            subject: "Su inscripción padronal debe renovarse",
            body: "Your padrón inscription expires in three months: renew it at a citizen office \
                   with your foreigner card (or passport).",
            secret: None,
        }),
        (INSCRIPTION, "confirmation_warning") => Some(NoticeText {
            subject: "Debe confirmar su residencia en el padrón",
            body: "Your residence in the padrón must be confirmed within three months: confirm it \
                   at a citizen office with your identity document. If it is not confirmed, the \
                   council may open a file to remove your inscription.",
            secret: None,
        }),
        _ => None,
    },
};

/// The inscription's machine name.
pub const INSCRIPTION: &str = <Inscription as esrs::Aggregate>::NAME;
/// The removal file's machine name.
pub const REMOVAL_FILE: &str = <RemovalFile as esrs::Aggregate>::NAME;

/// Every refusal of an inscription or a removal file answers 409 in its own words.
impl RefusalProblem for expedientes_domain::padron::InscriptionRefusal {}
impl RefusalProblem for expedientes_domain::padron::FileRefusal {}

/// A refusal by either padrón aggregate of a command that changes a removal file and
/// inscriptions together.
#[derive(Debug, thiserror::Error)]
pub enum PadronRefusal {
    /// The removal file refused.
    #[error(transparent)]
    File(#[from] expedientes_domain::padron::FileRefusal),
    /// An inscription refused.
    #[error(transparent)]
    Inscription(#[from] expedientes_domain::padron::InscriptionRefusal),
    /// The removal request refused.
    #[error(transparent)]
    Request(#[from] expedientes_domain::padron::RequestRefusal),
    /// The notification issued with the act refused.
    #[error(transparent)]
    Notification(#[from] expedientes_domain::lpac::notification::Refusal),
}

impl RefusalProblem for PadronRefusal {}

/// The stream of a person's padrón inscription in a council, by document: the register's, when
/// it holds the person under this document (so a person whose document changed — a passport
/// replaced by a NIE — keeps their inscription), else the one derived from it (a person new to
/// the council).
pub async fn inscription_id(
    state: &AppState,
    tenant: &MunicipalityCode,
    document: &str,
) -> Result<Uuid, ApiError> {
    let normalised = document.trim().to_ascii_uppercase();
    let held: Vec<Uuid> = sqlx::query_scalar(
        "SELECT inscription_id FROM padron_register WHERE tenant = $1 AND document = $2 LIMIT 2",
    )
    .bind(tenant.as_str())
    .bind(&normalised)
    .fetch_all(&state.pool)
    .await?;
    match held.as_slice() {
        [id] => Ok(*id),
        // Never a guess between two people.
        [_, _, ..] => Err(ApiError::Refused {
            detail: "two inscriptions hold this document number: a caseworker must check them \
                     before anything else is done with it"
                .into(),
            current_version: None,
        }),
        [] => crate::person_ids::inscription_id(state, tenant, &normalised).await,
    }
}

/// Where an inscription is read.
pub fn inscription_location(id: Uuid) -> String {
    format!("/v1/padron/inscriptions/{id}")
}

/// Who acted for the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// The person themselves (an adult).
    Themselves,
    /// A parent with custody (for a minor).
    Parent,
    /// A legal representative.
    LegalRepresentative,
    /// An accredited representative of an adult.
    Representative,
}

/// Who acted, in a request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "themselves"}))]
pub struct ActorInput {
    /// Who acted.
    pub kind: ActorKind,
    /// The acting person's document (all but `themselves`).
    pub document: Option<String>,
    /// A representative's written authorisation.
    pub authorisation: Option<String>,
}

impl ActorInput {
    fn parse(&self) -> Result<Actor, ApiError> {
        let document = || {
            self.document
                .clone()
                .filter(|d| !d.trim().is_empty())
                .ok_or_else(|| ApiError::invalid_field("actor.document", "required"))
        };
        Ok(match self.kind {
            ActorKind::Themselves => Actor::Themselves,
            ActorKind::Parent => Actor::Parent {
                document: document()?,
            },
            ActorKind::LegalRepresentative => Actor::LegalRepresentative {
                document: document()?,
            },
            ActorKind::Representative => Actor::Representative {
                document: document()?,
                authorisation: self.authorisation.clone().unwrap_or_default(),
            },
        })
    }
}

/// A register row.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct RegisterRow {
    /// The inscription.
    pub inscription_id: Uuid,
    /// Name.
    pub name: String,
    /// Document.
    pub document: String,
    /// Residence status.
    pub residence: String,
    /// Dwelling key.
    pub dwelling_key: String,
    /// Address.
    pub address: String,
    /// Inscribed on.
    pub inscribed_on: NaiveDate,
    /// The last change that counts as renewal.
    pub last_change_on: NaiveDate,
    /// When the inscription must be renewed (non-EU without permanent residence).
    pub renewal_due: Option<NaiveDate>,
    /// Proposed for lapse.
    pub lapse_proposed: bool,
    /// An open removal file.
    pub open_removal_file: Option<Uuid>,
    /// Removed on.
    pub removed_on: Option<NaiveDate>,
    /// Removal cause.
    pub removal_cause: Option<String>,
    /// The day an EU citizen or permanent resident must confirm their residence by.
    pub confirmation_due: Option<NaiveDate>,
    /// The residence went unconfirmed past that day (for a removal file).
    pub confirmation_overdue: bool,
    /// Version (also the `ETag`).
    pub version: i32,
}

pub(super) const REGISTER_COLUMNS: &str =
    "inscription_id, name, document, residence, dwelling_key, address, inscribed_on, \
    last_change_on, renewal_due, lapse_proposed, open_removal_file, removed_on, removal_cause, \
    confirmation_due, confirmation_overdue, version";

/// An inscription's register row in the caller's council, or 404.
pub async fn row(
    state: &AppState,
    tenant: &MunicipalityCode,
    id: Uuid,
) -> Result<RegisterRow, ApiError> {
    let row: Option<RegisterRow> = sqlx::query_as(&format!(
        "SELECT {REGISTER_COLUMNS} FROM padron_register WHERE inscription_id = $1 AND tenant = $2"
    ))
    .bind(id)
    .bind(tenant.as_str())
    .fetch_optional(&state.pool)
    .await?;
    row.ok_or_else(|| ApiError::NotFound("no such inscription".into()))
}

/// Caseworkers act on any inscription of their council; a citizen identified with a certificate
/// (assurance high) may renew or change the address of their own. Others get 404 or 403.
async fn own_or_caseworker(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
) -> Result<RegisterRow, ApiError> {
    let found = row(state, &caller.tenant, id).await?;
    match caller.role {
        Role::Caseworker => Ok(found),
        Role::Citizen if found.document == caller.subject => {
            if caller.assurance == crate::auth::Assurance::High {
                Ok(found)
            } else {
                Err(ApiError::Forbidden(
                    "identify with an electronic certificate (assurance high) to do this online"
                        .into(),
                ))
            }
        }
        Role::Citizen => Err(ApiError::NotFound("no such inscription".into())),
        _ => Err(ApiError::Forbidden(
            "this role may not change the padrón".into(),
        )),
    }
}

/// Records the confirmation day (with its warning and overdue timers) of every EU citizen and
/// non-EU permanent resident of `tenant` inscribed before confirmation days were recorded, so that
/// they are warned and listed like the others (issue 14's migration path: nothing rewritten, one
/// event appended per inscription). Each append's command id derives from the inscription, so a
/// second run appends nothing. Returns how many were recorded.
pub async fn record_confirmation_days(
    state: &AppState,
    tenant: &MunicipalityCode,
) -> Result<u64, String> {
    let pending: Vec<Uuid> = sqlx::query_scalar(
        "SELECT inscription_id FROM padron_register
          WHERE tenant = $1 AND removed_on IS NULL AND confirmation_due IS NULL
            AND residence IN ('eu_citizen', 'non_eu_permanent')
          ORDER BY inscription_id",
    )
    .bind(tenant.as_str())
    .fetch_all(&state.pool)
    .await
    .map_err(|e| format!("cannot read the register: {e}"))?;
    let mut recorded = 0;
    for inscription in pending {
        let request = expedientes_eventlog::CommandRequest {
            tenant: tenant.clone(),
            stream_id: inscription,
            expected_version: None,
            metadata: expedientes_eventlog::Metadata {
                actor_id: "operator".into(),
                actor_role: "admin".into(),
                channel: Some("maintenance".into()),
                correlation_id: Uuid::new_v4(),
                command_id: Some(Uuid::new_v5(&inscription, b"record_confirmation_day")),
                ..expedientes_eventlog::Metadata::default()
            },
            request_hash: None,
        };
        match state
            .log
            .execute::<Inscription>(request, |_, _| {
                expedientes_domain::padron::InscriptionCommand::RecordConfirmationDay
            })
            .await
        {
            Ok(_) => recorded += 1,
            // Recorded meanwhile (a change of the person's), or nothing to record.
            Err(expedientes_eventlog::CommandError::Refused(_)) => {}
            Err(e) => return Err(format!("inscription {inscription}: {e}")),
        }
    }
    Ok(recorded)
}

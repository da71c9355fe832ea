//! Corrections of material errors in a case file (art. 109.2 LPAC), for every procedure that
//! records facts a caseworker types in: a new event names the event it corrects (by its version
//! in the file) and why, and the file's procedure undoes what followed from it. Nothing is
//! rewritten; auditors read corrections beside what they correct (`/v1/audit/corrections`).
//!
//! What can be corrected here: a general application's fix recorded by a caseworker (a paper
//! fix entered on the wrong file: the period to fix runs again), a removal file's agreement or
//! allegations recorded by a caseworker (the hearing stands again). A padrón inscription's
//! removal is corrected at `/v1/padron/inscriptions/{id}/corrections`.

use axum::extract::{Path, State};
use axum::response::Response;
use expedientes_domain::general_application::{Command, GeneralApplication};
use expedientes_domain::lpac::{Correction, Reasons};
use expedientes_domain::padron::{FileCommand, RemovalFile};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Role;
use crate::extract::resource_id;
use crate::pipeline::{CommandContext, CommandResponse, Incoming};
use crate::problem::ApiError;
use crate::routes::cases::visible_case;
use crate::state::AppState;

/// A correction of a material error (art. 109.2 LPAC) in a file.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"corrects_version": 4, "reason": "La subsanación en papel de otra solicitud se registró en este expediente por error"}))]
pub struct CaseCorrectionInput {
    /// The version (in the file's history) of the event recorded by mistake: the file's last
    /// step, recorded by a caseworker.
    pub corrects_version: i32,
    /// The error and how it was found (art. 35: corrections are reasoned).
    #[schema(max_length = 10000)]
    pub reason: String,
}

/// A caseworker corrects the file's last step, recorded by a material error: a general
/// application's fix (the period to fix runs again, the maximum time stands still again) or a
/// removal file's agreement or allegations (the hearing stands again). What a person filed
/// themselves stays as filed; a resolution is reviewed by appeal or revision, not corrected.
#[utoipa::path(post, path = "/v1/cases/{id}/corrections", params(("id" = Uuid, Path, description = "The file")),
    request_body = CaseCorrectionInput,
    responses((status = 200, description = "Corrected", body = CommandResponse)),
    security(("bearer" = [])), tag = "cases")]
pub async fn correct_case(
    State(state): State<AppState>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let id = resource_id(&id, "file")?;
    let caller = incoming.caller()?;
    let row = visible_case(&state, caller, id).await?;
    caller.require(&[Role::Caseworker])?;
    let input: CaseCorrectionInput = incoming.json()?;
    let reason =
        Reasons::try_from(input.reason).map_err(|e| ApiError::invalid_field("reason", e))?;
    let procedure = match row.procedure.as_str() {
        GENERAL_APPLICATION => GENERAL_APPLICATION,
        REMOVAL_FILE => REMOVAL_FILE,
        other => {
            return Err(ApiError::Refused {
                current_version: None,
                detail: format!(
                    "nothing a caseworker records in a {other} file is corrected here{}",
                    if other == "padron_inscription" {
                        ": a removal recorded by mistake is corrected at /v1/padron/inscriptions/{id}/corrections"
                    } else {
                        ""
                    }
                ),
            })
        }
    };
    let tenant = caller.tenant.clone();
    let location = format!("/v1/cases/{id}");
    let mut ctx = CommandContext::open(&state, &incoming, &tenant, procedure, "correct").await?;
    // A retry is answered from its first outcome, before the file (which it changed) is checked.
    if let Some(earlier) = ctx.earlier(&state, id).await? {
        return Ok(earlier.reply(location));
    }
    let named: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT event_type, metadata ->> 'actor_role' FROM events
          WHERE tenant = $1 AND stream_id = $2 AND version = $3",
    )
    .bind(caller.tenant.as_str())
    .bind(id)
    .bind(input.corrects_version)
    .fetch_optional(&state.pool)
    .await?;
    let Some((corrects_type, recorded_by)) = named else {
        return Err(ApiError::invalid_field(
            "corrects_version",
            "the file has no event with that version",
        ));
    };
    // What the file holds decides what may be corrected: a conflict with it, 409.
    let refused = |detail: &str| ApiError::Refused {
        detail: detail.to_owned(),
        current_version: None,
    };
    if recorded_by.as_deref() != Some(Role::Caseworker.as_str()) {
        return Err(refused(
            "only a fact a caseworker recorded is corrected as a material error (art. 109.2 LPAC); what a person filed stays as filed",
        ));
    }
    // The file's last step, by the log (the case view may not have caught up).
    let last: Option<i32> =
        sqlx::query_scalar("SELECT max(version) FROM events WHERE tenant = $1 AND stream_id = $2")
            .bind(caller.tenant.as_str())
            .bind(id)
            .fetch_one(&state.pool)
            .await?;
    if Some(input.corrects_version) != last {
        return Err(refused(
            "only the file's last step can be corrected as a material error: what followed it is reviewed by its own means",
        ));
    }
    // Decided against the file at that version: a step appended meanwhile fails the command
    // (412) instead of being undone with the one named.
    ctx.pin_version(input.corrects_version);
    let correction = Correction {
        corrects_version: input.corrects_version,
        corrects_type,
        reason,
        by: caller.subject.clone(),
    };
    let now = state.clock.now();
    let executed = if procedure == GENERAL_APPLICATION {
        ctx.execute::<GeneralApplication>(&state, id, |_, _| Command::CorrectRectification {
            correction: correction.clone(),
            at: now,
        })
        .await?
    } else {
        let today = crate::deadlines::local_date(&state, now);
        ctx.execute::<RemovalFile>(&state, id, |_, _| FileCommand::CorrectHearingFact {
            correction: correction.clone(),
            on: today,
        })
        .await?
    };
    Ok(executed.reply(location))
}

const GENERAL_APPLICATION: &str = <GeneralApplication as esrs::Aggregate>::NAME;
const REMOVAL_FILE: &str = <RemovalFile as esrs::Aggregate>::NAME;

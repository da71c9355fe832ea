//! Every procedure of the service, declared once.
//!
//! A procedure plugs in with one line in [`PROCEDURES`]: its aggregates (for the case view, the
//! deadline timers, the scheduler and the outbox, through [`Registry`]), the read models of its
//! own (a register, a queue) and its routes. See docs/PROCEDURES.md for the recipe.

use std::sync::Arc;

use expedientes_projections::{ReadModel, Registry};
use utoipa_axum::router::OpenApiRouter;

use crate::notices::NoticeText;
use crate::state::AppState;

/// What a procedure module contributes.
#[derive(Debug, Clone, Copy)]
pub struct Plugin {
    /// Its name, for people reading the code and the logs.
    pub name: &'static str,
    /// Declares its aggregates.
    pub register: fn(Registry) -> Registry,
    /// Its own read models (besides the generic case view, timers and outbox).
    pub read_models: fn() -> Vec<Arc<dyn ReadModel>>,
    /// Its routes, each with its OpenAPI entry.
    pub routes: fn() -> OpenApiRouter<AppState>,
    /// How each kind of notice of its streams reads (see `Procedure::notices`), by stream type
    /// and kind; `None` for a kind it does not send.
    pub notice: fn(stream_type: &str, kind: &str) -> Option<NoticeText>,
}

/// A procedure that sends no notices.
pub fn no_notices(_stream_type: &str, _kind: &str) -> Option<NoticeText> {
    None
}

/// How a notice of a stream type reads, from the procedure that declares it.
pub fn notice_text(stream_type: &str, kind: &str) -> Option<NoticeText> {
    PROCEDURES
        .iter()
        .find_map(|plugin| (plugin.notice)(stream_type, kind))
}

/// Every procedure: one line each.
pub const PROCEDURES: &[Plugin] = &[
    crate::routes::general_application::PLUGIN,
    crate::routes::accounts::PLUGIN,
    crate::routes::padron::PLUGIN,
    crate::routes::representations::PLUGIN,
    crate::routes::notifications::PLUGIN,
    crate::routes::documents::PLUGIN,
];

/// The registry of every procedure's aggregates.
pub fn registry() -> Registry {
    PROCEDURES.iter().fold(Registry::new(), |registry, plugin| {
        (plugin.register)(registry)
    })
}

/// The read models of every procedure.
pub fn read_models() -> Vec<Arc<dyn ReadModel>> {
    PROCEDURES
        .iter()
        .flat_map(|plugin| (plugin.read_models)())
        .collect()
}

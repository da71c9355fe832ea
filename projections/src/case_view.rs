//! The generic case view: one row per case file, whatever its procedure. It answers the
//! caseworkers' lists, a file's detail, Mi Carpeta and the Carpeta Ciudadana.
//!
//! It reads every procedure of the [`Registry`]: the view decodes their events and applies the
//! [`CaseEffect`]s each procedure declares in the domain (a procedure whose streams are not case
//! files, such as the padrón inscription, declares none).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use expedientes_domain::{CaseEffect, CaseParty};
use expedientes_eventlog::StoredEvent;
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::registry::Registry;
use crate::runner::{ProjectionError, ReadModel, Tables};

/// The case view read model, over every registered procedure.
pub struct CaseView {
    registry: Registry,
}

impl std::fmt::Debug for CaseView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaseView")
            .field("procedures", &self.registry.names())
            .finish()
    }
}

impl CaseView {
    /// The name of the model and of its table.
    pub const NAME: &'static str = "case_view";

    /// The view of the registry's procedures.
    pub fn new(registry: Registry) -> Self {
        Self { registry }
    }
}

/// One case file as the view holds it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct CaseRow {
    /// The file's id (its stream id).
    pub case_id: Uuid,
    /// The council (INE code).
    pub tenant: String,
    /// The procedure's machine name.
    pub procedure: String,
    /// The procedure's name for people.
    pub procedure_title: String,
    /// The procedure's SIA code.
    pub sia_code: String,
    /// The human-readable number.
    pub case_number: String,
    /// One-line subject.
    pub subject: String,
    /// Interested parties and representatives.
    pub parties: sqlx::types::Json<Vec<CaseParty>>,
    /// Their document numbers (for the citizen's own-files lookup).
    pub party_documents: Vec<String>,
    /// The state's code.
    pub state: String,
    /// The state for people.
    pub state_description: String,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// What the citizen must do, if anything.
    pub citizen_action: Option<String>,
    /// By when.
    pub citizen_action_due: Option<NaiveDate>,
    /// The council's maximum time to resolve, while running.
    pub resolution_due: Option<NaiveDate>,
    /// The nearest of the deadlines above.
    pub next_deadline: Option<NaiveDate>,
    /// What the council's silence means on this file (`estimatory`, `desestimatory`, `lapse`).
    pub silence: Option<String>,
    /// The maximum time and its articles, for people.
    pub silence_basis: Option<String>,
    /// The day the silence took effect, once the maximum time passed unresolved.
    pub silence_reached_on: Option<NaiveDate>,
    /// Whether the citizen must act.
    pub citizen_must_act: bool,
    /// The stream's version this row reflects (the ETag of the file).
    pub version: i32,
    /// The position of the last event applied.
    pub last_position: i64,
}

/// The case view's columns, in [`CaseRow`]'s order (for queries that read rows).
pub const COLUMNS: &str =
    "case_id, tenant, procedure, procedure_title, sia_code, case_number, subject, parties, \
    party_documents, state, state_description, opened_at, updated_at, closed_at, citizen_action, \
    citizen_action_due, resolution_due, next_deadline, citizen_must_act, version, last_position, \
    silence, silence_basis, silence_reached_on";

impl CaseRow {
    fn apply(&mut self, effect: CaseEffect) {
        match effect {
            CaseEffect::Opened { .. } => {}
            CaseEffect::PartyAdded(party) => {
                if !self.party_documents.contains(&party.document.to_string()) {
                    self.party_documents.push(party.document.to_string());
                }
                self.parties.0.push(party);
            }
            CaseEffect::StateChanged {
                state, description, ..
            } => {
                self.state = state;
                self.state_description = description;
            }
            CaseEffect::CitizenMustAct(action) => {
                self.citizen_must_act = action.is_some();
                self.citizen_action_due = action.as_ref().map(|a| a.due);
                self.citizen_action = action.map(|a| a.what);
            }
            CaseEffect::ResolutionDue(due) => self.resolution_due = due,
            CaseEffect::CitizenActionDue(due) => {
                if self.citizen_must_act {
                    self.citizen_action_due = Some(due);
                }
            }
            CaseEffect::Silence {
                meaning,
                basis,
                reached_on,
            } => {
                self.silence = Some(<&'static str>::from(meaning).to_owned());
                self.silence_basis = Some(basis);
                self.silence_reached_on = reached_on;
            }
            CaseEffect::Closed {
                state,
                description,
                at,
                ..
            } => {
                self.state = state;
                self.state_description = description;
                self.closed_at = Some(at);
            }
        }
        self.next_deadline = [self.citizen_action_due, self.resolution_due]
            .into_iter()
            .flatten()
            .min();
    }
}

impl CaseView {
    /// Rebuilds one file's row, in memory, from its events (the file as it was after the last of
    /// them): how auditors see a file at any past moment. `None` if the events do not open it.
    pub fn replay(&self, events: &[StoredEvent]) -> Result<Option<CaseRow>, ProjectionError> {
        let mut rows = HashMap::new();
        for event in events {
            let effects = self.effects(event)?;
            self.fold(&mut rows, event, effects)?;
        }
        Ok(events.first().and_then(|e| rows.remove(&e.stream_id)))
    }

    /// What an event means for its file (nothing for streams of no registered procedure).
    fn effects(&self, event: &StoredEvent) -> Result<Vec<CaseEffect>, ProjectionError> {
        let Some(procedure) = self.registry.get(&event.stream_type) else {
            return Ok(Vec::new());
        };
        (procedure.case_effects)(&event.payload).map_err(|reason| ProjectionError::Undecodable {
            model: Self::NAME,
            position: event.position,
            reason,
        })
    }

    /// Applies one event's effects to the rows in memory; true when it created the row.
    fn fold(
        &self,
        rows: &mut HashMap<Uuid, CaseRow>,
        event: &StoredEvent,
        effects: Vec<CaseEffect>,
    ) -> Result<bool, ProjectionError> {
        let title = self
            .registry
            .get(&event.stream_type)
            .map_or("", |p| p.title);
        let mut created = false;
        for effect in effects {
            if let CaseEffect::Opened {
                case_number,
                sia_code,
                subject,
                parties,
                at,
            } = &effect
            {
                let mut documents: Vec<String> =
                    parties.iter().map(|p| p.document.to_string()).collect();
                documents.sort();
                documents.dedup();
                created |= rows
                    .insert(
                        event.stream_id,
                        CaseRow {
                            case_id: event.stream_id,
                            tenant: event.tenant.clone(),
                            procedure: event.stream_type.clone(),
                            procedure_title: title.to_owned(),
                            sia_code: sia_code.to_string(),
                            case_number: case_number.to_string(),
                            subject: subject.clone(),
                            parties: sqlx::types::Json(parties.clone()),
                            party_documents: documents,
                            state: "opened".into(),
                            state_description: "Opened".into(),
                            opened_at: *at,
                            updated_at: event.recorded_at,
                            closed_at: None,
                            citizen_action: None,
                            citizen_action_due: None,
                            resolution_due: None,
                            next_deadline: None,
                            silence: None,
                            silence_basis: None,
                            silence_reached_on: None,
                            citizen_must_act: false,
                            version: event.version,
                            last_position: event.position,
                        },
                    )
                    .is_none();
                continue;
            }
            let Some(row) = rows.get_mut(&event.stream_id) else {
                return Err(ProjectionError::Undecodable {
                    model: Self::NAME,
                    position: event.position,
                    reason: "an event of a file that was never opened".into(),
                });
            };
            row.apply(effect);
        }
        if let Some(row) = rows.get_mut(&event.stream_id) {
            row.version = event.version;
            row.last_position = event.position;
            row.updated_at = event.recorded_at;
        }
        Ok(created)
    }

    async fn load(
        conn: &mut PgConnection,
        table: &str,
        case_id: Uuid,
    ) -> Result<Option<CaseRow>, sqlx::Error> {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM {table} WHERE case_id = $1"))
            .bind(case_id)
            .fetch_optional(conn)
            .await
    }

    async fn save(conn: &mut PgConnection, table: &str, row: &CaseRow) -> Result<(), sqlx::Error> {
        sqlx::query(&format!(
            "INSERT INTO {table} ({COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24)
             ON CONFLICT (case_id) DO UPDATE SET
               parties = EXCLUDED.parties, party_documents = EXCLUDED.party_documents,
               state = EXCLUDED.state, state_description = EXCLUDED.state_description,
               updated_at = EXCLUDED.updated_at, closed_at = EXCLUDED.closed_at,
               citizen_action = EXCLUDED.citizen_action, citizen_action_due = EXCLUDED.citizen_action_due,
               resolution_due = EXCLUDED.resolution_due, next_deadline = EXCLUDED.next_deadline,
               citizen_must_act = EXCLUDED.citizen_must_act, version = EXCLUDED.version,
               last_position = EXCLUDED.last_position, silence = EXCLUDED.silence,
               silence_basis = EXCLUDED.silence_basis, silence_reached_on = EXCLUDED.silence_reached_on"
        ))
        .bind(row.case_id)
        .bind(&row.tenant)
        .bind(&row.procedure)
        .bind(&row.procedure_title)
        .bind(&row.sia_code)
        .bind(&row.case_number)
        .bind(&row.subject)
        .bind(&row.parties)
        .bind(&row.party_documents)
        .bind(&row.state)
        .bind(&row.state_description)
        .bind(row.opened_at)
        .bind(row.updated_at)
        .bind(row.closed_at)
        .bind(&row.citizen_action)
        .bind(row.citizen_action_due)
        .bind(row.resolution_due)
        .bind(row.next_deadline)
        .bind(row.citizen_must_act)
        .bind(row.version)
        .bind(row.last_position)
        .bind(&row.silence)
        .bind(&row.silence_basis)
        .bind(row.silence_reached_on)
        .execute(conn)
        .await?;
        Ok(())
    }
}

#[async_trait]
impl ReadModel for CaseView {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn stream_types(&self) -> Vec<String> {
        self.registry.names()
    }

    fn tables(&self) -> &'static [&'static str] {
        &["case_view"]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let table = tables.get("case_view");
        // Rows touched by this batch are kept in memory and written once at the end.
        let mut rows: HashMap<Uuid, CaseRow> = HashMap::new();
        let mut order: Vec<Uuid> = Vec::new();
        // Streams known to have no row (e.g. padrón inscriptions, which are not case files), so
        // that their events cost no lookup each.
        let mut absent: std::collections::HashSet<Uuid> = std::collections::HashSet::new();
        for event in events {
            if self.registry.get(&event.stream_type).is_none() {
                continue;
            }
            let effects = self.effects(event)?;
            if effects.is_empty() && absent.contains(&event.stream_id) {
                continue;
            }
            if let std::collections::hash_map::Entry::Vacant(slot) = rows.entry(event.stream_id) {
                match Self::load(conn, table, event.stream_id).await? {
                    Some(row) => {
                        slot.insert(row);
                        order.push(event.stream_id);
                    }
                    None if effects.is_empty() => {
                        absent.insert(event.stream_id);
                        continue;
                    }
                    None => {}
                }
            }
            if self.fold(&mut rows, event, effects)? {
                order.push(event.stream_id);
            }
        }
        for id in order {
            Self::save(conn, table, &rows[&id]).await?;
        }
        Ok(())
    }
}

//! The HTTP surface: JSON endpoints for the commands and the queries, the event stream, and
//! the monitoring page.
//!
//! A command endpoint builds a [`Command`] from its JSON body (the command's fields, as serde
//! names them) and, for routes with an id in the path, that id; it hands the command to the
//! writer and answers once the command is durable. `POST /commands` takes any command in its
//! tagged form (`{"type": "VisitorArrives", ...}`). A refused command gets a 4xx answer with
//! the engine's error message, and nothing is journaled for it.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, get, on, post};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use switchboard::{
    AgentId, AgentView, Command, ConversationId, ConversationView, Counters, Error, GroupId,
    GroupView, ItemResult, ReceptionMode, SkillLevel, VisitorId,
};
use tokio::sync::watch;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::{Stream, StreamExt};

use crate::desk::{Accepted, Desk, Refusal};
use crate::guard::{self, Policy};
use crate::metrics::Metrics;
use crate::read::{Reader, View};
use crate::store::{Gap, Journal};
use crate::wallboard::Board;

/// The monitoring page: one static file, filled in from `/state` and `/events`.
const MONITOR: &str = include_str!("monitor.html");

/// What every handler shares.
#[derive(Clone)]
pub struct App {
    /// The writer.
    pub desk: Desk,
    /// The read model, which answers every query.
    pub reader: Reader,
    /// The journal, read-only: the event stream resends missed entries from it.
    pub journal: Arc<Journal>,
    /// Becomes true when the service begins to shut down: event streams end then.
    pub stopping: watch::Receiver<bool>,
    /// The metrics.
    pub metrics: Arc<Metrics>,
    /// The wallboard's settings.
    pub board: Board,
}

/// A route that sends one kind of command: its method, path, the command's `type`, and the
/// path segment that fills one of its fields.
pub struct CommandRoute {
    pub method: &'static str,
    pub path: &'static str,
    pub kind: &'static str,
    pub field: Option<&'static str>,
}

const fn route(
    method: &'static str,
    path: &'static str,
    kind: &'static str,
    field: Option<&'static str>,
) -> CommandRoute {
    CommandRoute {
        method,
        path,
        kind,
        field,
    }
}

/// The command routes, in the engine's words. `POST /commands` takes any command besides.
pub const COMMAND_ROUTES: &[CommandRoute] = &[
    route("POST", "/agents", "RegisterAgent", None),
    route("POST", "/groups", "RegisterGroup", None),
    route(
        "PUT",
        "/agents/{agent}/status",
        "AgentStatusChanged",
        Some("agent"),
    ),
    route("POST", "/visitors", "VisitorArrives", None),
    route(
        "POST",
        "/conversations/{conversation}/leave",
        "VisitorLeaves",
        Some("conversation"),
    ),
    route(
        "POST",
        "/conversations/{conversation}/leave-message",
        "LeaveMessage",
        Some("conversation"),
    ),
    route(
        "POST",
        "/conversations/{conversation}/messages",
        "Message",
        Some("conversation"),
    ),
    route(
        "POST",
        "/conversations/{conversation}/transfer",
        "Transfer",
        Some("conversation"),
    ),
    route(
        "POST",
        "/conversations/{conversation}/accept",
        "AcceptOffer",
        Some("conversation"),
    ),
    route(
        "POST",
        "/conversations/{conversation}/decline",
        "DeclineOffer",
        Some("conversation"),
    ),
    route("POST", "/assign", "AssignManually", None),
    route("POST", "/end", "EndConversations", None),
    route("POST", "/snooze", "Snooze", None),
    route("POST", "/claim", "Claim", None),
    route("PUT", "/mode", "SetReceptionMode", None),
    route("PUT", "/config", "UpdateConfig", None),
];

/// Every route, behind the checks of `guard.rs` and the body limit. A `{name}` path segment
/// becomes the command's field `name`.
pub fn router(app: App, policy: Arc<Policy>, max_body: usize) -> Router {
    let mut router = Router::new()
        .route("/", get(monitor))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/events", get(events))
        // Queries, answered by the read model.
        .route("/state", get(state))
        .route("/wallboard", get(wallboard))
        .route("/snapshot", get(snapshot))
        .route("/pool", get(pool))
        .route("/snoozed", get(snoozed))
        .route("/agents", get(agents))
        .route("/agents/{agent}", get(agent))
        .route("/groups", get(groups))
        .route("/groups/{group}/queue", get(queue))
        .route("/conversations/{conversation}", get(conversation))
        .route("/commands", post(any_command));
    for r in COMMAND_ROUTES {
        let method = if r.method == "PUT" {
            MethodFilter::PUT
        } else {
            MethodFilter::POST
        };
        router = router.route(r.path, command(method, r.kind, r.field));
    }
    router
        .with_state(app)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn_with_state(policy, guard::check))
}

/// The OpenAPI document of every route (`openapi.rs`).
async fn openapi() -> Response {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let text = DOCUMENT.get_or_init(crate::openapi::document);
    ([(header::CONTENT_TYPE, "application/json")], text.clone()).into_response()
}

/// A route that sends the command `kind`; `field` names the path segment that fills that field.
fn command(
    method: MethodFilter,
    kind: &'static str,
    field: Option<&'static str>,
) -> MethodRouter<App> {
    match field {
        None => on(
            method,
            move |State(App { desk, .. }): State<App>, body: Bytes| async move {
                submit(&desk, Some(kind), None, &body).await
            },
        ),
        Some(field) => on(
            method,
            move |State(App { desk, .. }): State<App>, Path(id): Path<String>, body: Bytes| async move {
                submit(&desk, Some(kind), Some((field, id)), &body).await
            },
        ),
    }
}

async fn any_command(State(App { desk, .. }): State<App>, body: Bytes) -> Response {
    submit(&desk, None, None, &body).await
}

async fn submit(
    desk: &Desk,
    kind: Option<&'static str>,
    field: Option<(&'static str, String)>,
    body: &[u8],
) -> Response {
    match parse(kind, field, body) {
        Ok(command) => answer(desk.command(command).await),
        Err((status, message)) => problem(status, message, json!({})),
    }
}

/// The command a request names, or the 4xx status and message that say why it names none.
pub fn parse(
    kind: Option<&'static str>,
    field: Option<(&'static str, String)>,
    body: &[u8],
) -> Result<Command, (StatusCode, String)> {
    let value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(body)
            .map_err(|e| (StatusCode::BAD_REQUEST, format!("malformed JSON: {e}")))?
    };
    let Value::Object(mut fields) = value else {
        return Err((
            StatusCode::BAD_REQUEST,
            "the body must be a JSON object".into(),
        ));
    };
    for (name, given) in kind
        .map(|k| ("type", k.to_owned()))
        .into_iter()
        .chain(field)
    {
        match fields.get(name) {
            Some(Value::String(s)) if *s == given => {}
            None => {}
            Some(other) => {
                return Err((
                    StatusCode::BAD_REQUEST,
                    format!("this route sets `{name}` to {given:?}, the body says {other}"),
                ));
            }
        }
        fields.insert(name.into(), Value::String(given));
    }
    serde_json::from_value(Value::Object(fields)).map_err(|e| {
        let what = kind.map_or("command".to_owned(), |k| format!("{k} command"));
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("not a valid {what}: {e}"),
        )
    })
}

/// The answer to a command: 200 with what the engine said once durable, or why not.
/// The answer to an accepted command.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Answer {
    /// Its journal entry.
    pub seq: u64,
    /// The time it was handled at.
    pub at: DateTime<Utc>,
    /// The engine's events, in causal order (`switchboard::Event`).
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<switchboard::Event>,
    /// A batch command's per-item results (R-C8); empty otherwise.
    pub results: Vec<ItemAnswer>,
    /// When the engine next needs a `Tick` (the service sends it).
    pub next_deadline: Option<DateTime<Utc>>,
}

/// One item of a batch command.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ItemAnswer {
    /// The conversation.
    #[schema(value_type = String)]
    pub conversation: ConversationId,
    /// Whether it was done.
    pub ok: bool,
    /// Why not, in the engine's words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A refusal: 4xx or 503, with the reason.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// What went wrong: the engine's own message for a refused command.
    pub error: String,
    /// The engine's error as data (`switchboard::Error`), when it refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub detail: Option<Value>,
    /// A batch whose every item was refused: each item's reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<ItemAnswer>>,
}

/// `GET /readyz`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Ready {
    /// `ready` or `not ready`.
    pub status: String,
    /// Why not ready.
    pub problem: Option<String>,
    /// The last journal entry committed.
    pub journal_seq: u64,
    /// The last one the read model applied.
    pub read_model_seq: u64,
}

pub fn answer(result: Result<Accepted, Refusal>) -> Response {
    match result {
        Ok(Accepted { seq, at, outcome }) => Json(Answer {
            seq,
            at,
            results: items(&outcome.results),
            next_deadline: outcome.next_deadline,
            events: outcome.events,
        })
        .into_response(),
        Err(Refusal::Engine(error)) => refused(&error),
        Err(Refusal::Items(results)) => {
            let errors: Vec<&Error> = results
                .iter()
                .filter_map(|r| r.result.as_ref().err())
                .collect();
            let status = errors
                .first()
                .map_or(StatusCode::CONFLICT, |e| status_of(e));
            let message = errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ");
            problem(status, message, json!({ "results": items(&results) }))
        }
        Err(Refusal::Unavailable(message)) => {
            problem(StatusCode::SERVICE_UNAVAILABLE, message, json!({}))
        }
    }
}

/// A batch command's per-item results (R-C8), one object each.
fn items(results: &[ItemResult]) -> Vec<ItemAnswer> {
    results
        .iter()
        .map(|r| ItemAnswer {
            conversation: r.conversation.clone(),
            ok: r.result.is_ok(),
            error: r.result.as_ref().err().map(ToString::to_string),
        })
        .collect()
}

fn refused(error: &Error) -> Response {
    problem(
        status_of(error),
        error.to_string(),
        json!({ "detail": error }),
    )
}

/// `{"error": message, ...extra}` with a status.
pub fn problem(status: StatusCode, message: String, extra: Value) -> Response {
    let mut body = json!({ "error": message });
    if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
        body.extend(extra);
    }
    (status, Json(body)).into_response()
}

/// 404 for an unknown id, 409 for a state or mode that does not allow the operation, 422 for
/// a command that is invalid in itself.
fn status_of(error: &Error) -> StatusCode {
    match error {
        Error::UnknownAgent { .. }
        | Error::UnknownGroup { .. }
        | Error::UnknownConversation { .. }
        | Error::UnknownVisitor { .. }
        | Error::UnknownSchedule { .. } => StatusCode::NOT_FOUND,
        Error::DuplicateConversation { .. }
        | Error::DuplicateAgent { .. }
        | Error::DuplicateGroup { .. }
        | Error::InvalidState { .. }
        | Error::AlreadyAssigned { .. }
        | Error::AgentUnavailable { .. }
        | Error::EmptyGroup { .. }
        | Error::GroupInUse { .. }
        | Error::StillOpen { .. }
        | Error::WrongMode { .. }
        | Error::PoolEmpty { .. }
        | Error::ScheduleInUse { .. }
        | Error::NotOfferedTo { .. }
        | Error::OfferExpired { .. }
        | Error::OverflowTarget { .. }
        | Error::LeaveMessageOff => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// Answers a query from the read model; `Err` is a 4xx from the engine's own error.
async fn read(
    reader: &Reader,
    query: impl FnOnce(&View) -> Result<Value, Error> + Send + 'static,
) -> Response {
    match reader.read(query).await {
        Ok(Ok(value)) => Json(value).into_response(),
        Ok(Err(error)) => refused(&error),
        Err(problem) => problem_response(StatusCode::SERVICE_UNAVAILABLE, problem),
    }
}

fn problem_response(status: StatusCode, message: String) -> Response {
    problem(status, message, json!({}))
}

/// A waiting conversation in a queue listing. `position` is its place in this queue, counted
/// in the one pass that lists it; `estimated_wait_ms` follows the engine's estimator (R-B2),
/// for the group's own conversations.
#[derive(Serialize, utoipa::ToSchema)]
pub struct QueueEntry {
    /// The conversation.
    #[schema(value_type = String)]
    pub id: ConversationId,
    /// Its visitor.
    #[schema(value_type = Option<String>)]
    pub visitor: Option<VisitorId>,
    /// Its own group (another for a conversation that overflowed or was designated here).
    #[schema(value_type = Option<String>)]
    pub group: Option<GroupId>,
    /// Its priority.
    pub priority: Option<u8>,
    /// Its place in this queue, 1 first.
    pub position: u32,
    /// When it arrived.
    pub arrived_at: Option<DateTime<Utc>>,
    /// How long it has waited, as of the engine's clock.
    pub waited_ms: Option<u64>,
    /// The engine's estimate of its remaining wait (R-B2), once the group has served two.
    pub estimated_wait_ms: Option<u64>,
    /// Its stage of requirements in force (R-SK2), for a conversation with stages, in a
    /// listing limited to the head of the queue (`GET /state?limit=N`, as the page asks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<u32>,
    /// What that stage requires: skills with minimum levels (`switchboard::SkillLevel`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub requires: Vec<SkillLevel>,
}

/// A group's queue, best first, in one pass: O(queue), with the projection's record of each
/// conversation (the engine's per-conversation view would count each position again).
pub fn queue_entries(view: &View, group: &GroupId) -> Option<Vec<QueueEntry>> {
    let engine = &view.engine;
    let now = engine.now();
    let ids: Vec<&ConversationId> = engine.queue(group)?.collect();
    // The group's service rate per position: the engine's estimate for its first own
    // conversation, divided by that one's position.
    let unit = ids
        .iter()
        .enumerate()
        .find(|(_, id)| view.projection.known(id).is_some_and(|k| k.group == *group))
        .and_then(|(i, id)| {
            let wait = engine.estimated_wait(*id)?;
            Some(wait / u32::try_from(i + 1).ok()?)
        });
    Some(
        ids.into_iter()
            .enumerate()
            .map(|(i, id)| {
                let position = u32::try_from(i + 1).unwrap_or(u32::MAX);
                let known = view.projection.known(id);
                let own = known.is_some_and(|k| k.group == *group);
                QueueEntry {
                    id: id.clone(),
                    visitor: known.map(|k| k.visitor.clone()),
                    group: known.map(|k| k.group.clone()),
                    priority: known.map(|k| k.priority),
                    position,
                    arrived_at: known.map(|k| k.arrived_at),
                    waited_ms: known
                        .zip(now)
                        .map(|(k, now)| millis_between(k.arrived_at, now)),
                    estimated_wait_ms: unit
                        .filter(|_| own)
                        .map(|unit| duration_ms(unit * position)),
                    stage: None,
                    requires: Vec::new(),
                }
            })
            .collect(),
    )
}

fn millis_between(from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    u64::try_from((to - from).num_milliseconds()).unwrap_or(0)
}

fn duration_ms(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// One group and its queue in `GET /state`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct GroupState {
    /// The group (`switchboard::GroupView`).
    #[schema(value_type = Object)]
    pub group: GroupView,
    /// Its queue, best first.
    pub queue: Vec<QueueEntry>,
}

/// Everything the page shows, as of journal entry `seq`. Linear in its own size.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DeskState {
    /// The journal entry it is as of.
    pub seq: u64,
    /// The engine's clock.
    pub now: Option<DateTime<Utc>>,
    /// When the engine next needs a `Tick`.
    pub next_deadline: Option<DateTime<Utc>>,
    /// The reception mode (`switchboard::ReceptionMode`).
    #[schema(value_type = String)]
    pub mode: ReceptionMode,
    /// The engine's counters (`switchboard::Counters`).
    #[schema(value_type = Object)]
    pub counters: Counters,
    /// Every group with its queue, in registration order.
    pub groups: Vec<GroupState>,
    /// The unassigned pool (`switchboard::ConversationView` each).
    #[schema(value_type = Vec<Object>)]
    pub pool: Vec<ConversationView>,
    /// Snoozed conversations (`switchboard::ConversationView` each).
    #[schema(value_type = Vec<Object>)]
    pub snoozed: Vec<ConversationView>,
    /// Every agent (`switchboard::AgentView` each).
    #[schema(value_type = Vec<Object>)]
    pub agents: Vec<AgentView>,
}

/// `limit`: at most this many entries of each queue (the page asks for the head only). Only
/// then do the entries carry their stage and requirements: the engine's view of a queued
/// conversation counts its position, O(min(ahead, behind)), so a head of `limit` costs
/// O(limit²) per queue, where a whole queue would cost its square.
fn desk_state(view: &View, limit: Option<usize>) -> DeskState {
    let engine = &view.engine;
    let staged = |mut entry: QueueEntry| {
        if let Some(conversation) = engine.conversation(&entry.id) {
            entry.stage = conversation.stage;
            entry.requires = conversation.requires;
        }
        entry
    };
    DeskState {
        seq: view.seq,
        now: engine.now(),
        next_deadline: engine.next_deadline(),
        mode: engine.config().mode,
        counters: engine.counters().clone(),
        groups: engine
            .groups()
            .filter_map(|id| {
                let mut queue = queue_entries(view, id)?;
                if let Some(limit) = limit {
                    queue.truncate(limit);
                    queue = queue.into_iter().map(staged).collect();
                }
                Some(GroupState {
                    group: engine.group(id)?,
                    queue,
                })
            })
            .collect(),
        // Neither pooled nor snoozed conversations have a queue position to count.
        pool: engine
            .pool()
            .filter_map(|id| engine.conversation(id))
            .collect(),
        snoozed: engine
            .snoozed()
            .filter_map(|(id, _)| engine.conversation(id))
            .collect(),
        agents: engine.agents().filter_map(|id| engine.agent(id)).collect(),
    }
}

async fn state(State(App { reader, .. }): State<App>, RawQuery(query): RawQuery) -> Response {
    let limit = query.as_deref().and_then(|q| {
        q.split('&')
            .find_map(|pair| pair.strip_prefix("limit="))
            .and_then(|n| n.parse().ok())
    });
    match reader
        .read(move |view| serde_json::to_vec(&desk_state(view, limit)))
        .await
    {
        Ok(Ok(bytes)) => json_bytes(bytes),
        Ok(Err(e)) => problem_response(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(problem) => problem_response(StatusCode::SERVICE_UNAVAILABLE, problem),
    }
}

fn json_bytes(bytes: Vec<u8>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        Bytes::from(bytes),
    )
        .into_response()
}

/// The wallboard's figures (`wallboard.rs`).
async fn wallboard(State(App { reader, board, .. }): State<App>) -> Response {
    let now = crate::desk::wall_clock();
    match reader
        .read(move |view| serde_json::to_vec(&crate::wallboard::wallboard(view, &board, now)))
        .await
    {
        Ok(Ok(bytes)) => json_bytes(bytes),
        Ok(Err(e)) => problem_response(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(problem) => problem_response(StatusCode::SERVICE_UNAVAILABLE, problem),
    }
}

async fn snapshot(State(App { reader, .. }): State<App>) -> Response {
    read(&reader, |view| {
        Ok(json!({ "seq": view.seq, "snapshot": view.engine.snapshot() }))
    })
    .await
}

async fn pool(State(App { reader, .. }): State<App>) -> Response {
    read(&reader, |view| {
        let engine = &view.engine;
        Ok(json!(
            engine
                .pool()
                .filter_map(|id| engine.conversation(id))
                .collect::<Vec<_>>()
        ))
    })
    .await
}

async fn snoozed(State(App { reader, .. }): State<App>) -> Response {
    read(&reader, |view| {
        let engine = &view.engine;
        Ok(json!(
            engine
                .snoozed()
                .filter_map(|(id, _)| engine.conversation(id))
                .collect::<Vec<_>>()
        ))
    })
    .await
}

async fn agents(State(App { reader, .. }): State<App>) -> Response {
    read(&reader, |view| {
        let engine = &view.engine;
        Ok(json!(
            engine
                .agents()
                .filter_map(|id| engine.agent(id))
                .collect::<Vec<_>>()
        ))
    })
    .await
}

async fn agent(State(App { reader, .. }): State<App>, Path(id): Path<String>) -> Response {
    let id = AgentId::from(id);
    read(&reader, move |view| {
        view.engine
            .agent(&id)
            .map(|view| json!(view))
            .ok_or(Error::UnknownAgent { agent: id })
    })
    .await
}

async fn groups(State(App { reader, .. }): State<App>) -> Response {
    read(&reader, |view| {
        let engine = &view.engine;
        Ok(json!(
            engine
                .groups()
                .filter_map(|id| engine.group(id))
                .collect::<Vec<_>>()
        ))
    })
    .await
}

async fn queue(State(App { reader, .. }): State<App>, Path(id): Path<String>) -> Response {
    let id = GroupId::from(id);
    read(&reader, move |view| match queue_entries(view, &id) {
        Some(queue) => Ok(json!(queue)),
        None => Err(Error::UnknownGroup { group: id }),
    })
    .await
}

async fn conversation(State(App { reader, .. }): State<App>, Path(id): Path<String>) -> Response {
    let id = ConversationId::from(id);
    read(&reader, move |view| {
        view.engine
            .conversation(&id)
            .map(|view| json!(view))
            .ok_or(Error::UnknownConversation { conversation: id })
    })
    .await
}

async fn monitor() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        MONITOR,
    )
        .into_response()
}

/// Liveness: the process answers HTTP.
pub async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// How far the read model may trail the writer and still be ready.
const READY_LAG: u64 = 10_000;

/// Readiness: the writer takes commands, the read model keeps up, and the service is not
/// shutting down; 503 with the reason otherwise (a load balancer then sends traffic
/// elsewhere).
async fn readyz(
    State(App {
        desk,
        reader,
        stopping,
        ..
    }): State<App>,
) -> Response {
    let committed = *desk.committed().borrow();
    let applied = reader.applied();
    let problem = if *stopping.borrow() {
        Some("shutting down".to_owned())
    } else if !desk.is_alive() {
        Some("the writer has stopped".to_owned())
    } else if committed.saturating_sub(applied) > READY_LAG {
        Some(format!(
            "the read model trails the journal by {} entries",
            committed - applied
        ))
    } else {
        None
    };
    let status = if problem.is_none() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Ready {
        status: if problem.is_none() {
            "ready"
        } else {
            "not ready"
        }
        .into(),
        problem,
        journal_seq: committed,
        read_model_seq: applied,
    };
    (status, Json(body)).into_response()
}

/// Prometheus metrics (`metrics.rs`).
async fn metrics(
    State(App {
        desk,
        reader,
        metrics,
        ..
    }): State<App>,
) -> Response {
    let committed = *desk.committed().borrow();
    let backlog = desk.backlog();
    let now = crate::desk::wall_clock();
    match reader
        .read(move |view| {
            metrics.observe(view, now, committed, backlog);
            metrics.encode()
        })
        .await
    {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(problem) => problem_response(StatusCode::SERVICE_UNAVAILABLE, problem),
    }
}

/// Most journal entries a reconnecting stream is sent; further behind, it gets `reset`.
const RESEND_AT_MOST: u64 = 50_000;

/// Server-sent events: one message per committed journal entry, `id` its `seq`, data
/// `{"seq", "at", "events"}`.
///
/// A client that reconnects with `Last-Event-ID: N` (browsers do so by themselves) first gets
/// every entry after `N` from the journal, then the live ones, each exactly once (R-HS3). When
/// those entries are no longer in the journal (compacted) or too many, it gets a `reset` event
/// instead and should read `/state` again; a client too slow for the live stream gets
/// `lagged`, likewise.
async fn events(
    State(App {
        desk,
        journal,
        stopping,
        ..
    }): State<App>,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let last: Option<u64> = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    // Subscribed first, then the committed mark read: every entry up to the mark is in the
    // journal, every later one comes through the subscription.
    let live = desk.subscribe();
    let upto = *desk.committed().borrow();
    let mut first: Vec<SseEvent> = vec![SseEvent::default().retry(Duration::from_secs(1))];
    if let Some(after) = last {
        let missed = if after > upto {
            Err(Gap::TooFar)
        } else {
            tokio::task::spawn_blocking(move || journal.since(after, upto, RESEND_AT_MOST))
                .await
                .unwrap_or_else(|e| Err(Gap::Failed(e.to_string())))
        };
        match missed {
            Ok(entries) => first.extend(
                entries
                    .into_iter()
                    .map(|(seq, data)| SseEvent::default().id(seq.to_string()).data(data)),
            ),
            Err(gap) => {
                if let Gap::Failed(problem) = &gap {
                    tracing::warn!(%problem, "the event stream could not read the journal");
                }
                first.push(SseEvent::default().event("reset").data(upto.to_string()));
            }
        }
    }
    let stream = BroadcastStream::new(live).filter_map(move |item| match item {
        Ok(committed) if committed.entry.seq <= upto => None,
        Ok(committed) => Some(
            SseEvent::default()
                .id(committed.entry.seq.to_string())
                .data(committed.data.as_str()),
        ),
        Err(BroadcastStreamRecvError::Lagged(missed)) => {
            Some(SseEvent::default().event("lagged").data(missed.to_string()))
        }
    });
    let stream = tokio_stream::iter(first).chain(stream).map(Ok);
    let stream = futures_util::StreamExt::take_until(stream, stopped(stopping));
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Resolves when the service begins to shut down.
async fn stopped(mut stopping: watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

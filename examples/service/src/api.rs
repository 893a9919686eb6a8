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
use axum::extract::{Path, State};
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
    GroupView, ItemResult, ReceptionMode, VisitorId,
};
use tokio::sync::watch;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::{Stream, StreamExt};

use crate::desk::{Accepted, Desk, Refusal};
use crate::guard::{self, Policy};
use crate::read::{Reader, View};
use crate::store::{Gap, Journal};

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
}

/// Every route, behind the checks of `guard.rs` and the body limit. A `{name}` path segment
/// becomes the command's field `name`.
pub fn router(app: App, policy: Arc<Policy>, max_body: usize) -> Router {
    let post_ = MethodFilter::POST;
    let put = MethodFilter::PUT;
    Router::new()
        .route("/", get(monitor))
        .route("/events", get(events))
        // Queries, answered by the read model.
        .route("/state", get(state))
        .route("/snapshot", get(snapshot))
        .route("/pool", get(pool))
        .route("/snoozed", get(snoozed))
        .route("/agents/{agent}", get(agent))
        .route("/groups/{group}/queue", get(queue))
        .route("/conversations/{conversation}", get(conversation))
        // Commands, in the engine's words.
        .route("/commands", post(any_command))
        .route(
            "/agents",
            get(agents).merge(command(post_, "RegisterAgent", None)),
        )
        .route(
            "/groups",
            get(groups).merge(command(post_, "RegisterGroup", None)),
        )
        .route(
            "/agents/{agent}/status",
            command(put, "AgentStatusChanged", Some("agent")),
        )
        .route("/visitors", command(post_, "VisitorArrives", None))
        .route(
            "/conversations/{conversation}/leave",
            command(post_, "VisitorLeaves", Some("conversation")),
        )
        .route(
            "/conversations/{conversation}/leave-message",
            command(post_, "LeaveMessage", Some("conversation")),
        )
        .route(
            "/conversations/{conversation}/messages",
            command(post_, "Message", Some("conversation")),
        )
        .route(
            "/conversations/{conversation}/transfer",
            command(post_, "Transfer", Some("conversation")),
        )
        .route(
            "/conversations/{conversation}/accept",
            command(post_, "AcceptOffer", Some("conversation")),
        )
        .route(
            "/conversations/{conversation}/decline",
            command(post_, "DeclineOffer", Some("conversation")),
        )
        .route("/assign", command(post_, "AssignManually", None))
        .route("/end", command(post_, "EndConversations", None))
        .route("/snooze", command(post_, "Snooze", None))
        .route("/claim", command(post_, "Claim", None))
        .route("/mode", command(put, "SetReceptionMode", None))
        .route("/config", command(put, "UpdateConfig", None))
        .with_state(app)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn_with_state(policy, guard::check))
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
fn parse(
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
fn answer(result: Result<Accepted, Refusal>) -> Response {
    match result {
        Ok(Accepted { seq, at, outcome }) => Json(json!({
            "seq": seq,
            "at": at,
            "events": outcome.events,
            "results": items(&outcome.results),
            "next_deadline": outcome.next_deadline,
        }))
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
fn items(results: &[ItemResult]) -> Vec<Value> {
    results
        .iter()
        .map(|r| match &r.result {
            Ok(()) => json!({ "conversation": r.conversation, "ok": true }),
            Err(e) => {
                json!({ "conversation": r.conversation, "ok": false, "error": e.to_string() })
            }
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
fn problem(status: StatusCode, message: String, extra: Value) -> Response {
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
#[derive(Serialize)]
pub struct QueueEntry {
    pub id: ConversationId,
    pub visitor: Option<VisitorId>,
    pub group: Option<GroupId>,
    pub priority: Option<u8>,
    pub position: u32,
    pub arrived_at: Option<DateTime<Utc>>,
    pub waited_ms: Option<u64>,
    pub estimated_wait_ms: Option<u64>,
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
            let wait = engine.estimated_wait(id)?;
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
#[derive(Serialize)]
pub struct GroupState {
    pub group: GroupView,
    pub queue: Vec<QueueEntry>,
}

/// Everything the page shows, as of journal entry `seq`. Linear in its own size.
#[derive(Serialize)]
pub struct DeskState {
    pub seq: u64,
    pub now: Option<DateTime<Utc>>,
    pub next_deadline: Option<DateTime<Utc>>,
    pub mode: ReceptionMode,
    pub counters: Counters,
    pub groups: Vec<GroupState>,
    pub pool: Vec<ConversationView>,
    pub snoozed: Vec<ConversationView>,
    pub agents: Vec<AgentView>,
}

fn desk_state(view: &View) -> DeskState {
    let engine = &view.engine;
    DeskState {
        seq: view.seq,
        now: engine.now(),
        next_deadline: engine.next_deadline(),
        mode: engine.config().mode,
        counters: engine.counters().clone(),
        groups: engine
            .groups()
            .filter_map(|id| {
                Some(GroupState {
                    group: engine.group(id)?,
                    queue: queue_entries(view, id)?,
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

async fn state(State(App { reader, .. }): State<App>) -> Response {
    match reader
        .read(|view| serde_json::to_vec(&desk_state(view)))
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

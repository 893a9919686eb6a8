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
use axum::http::{StatusCode, header};
use axum::middleware;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, get, on, post};
use serde_json::{Map, Value, json};
use switchboard::{AgentId, Command, ConversationId, Engine, Error, GroupId, ItemResult};
use tokio::sync::watch;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::{Stream, StreamExt};

use crate::desk::{Accepted, Desk, Refusal};
use crate::guard::{self, Policy};

/// The monitoring page: one static file, filled in from `/state` and `/events`.
const MONITOR: &str = include_str!("monitor.html");

/// What every handler shares.
#[derive(Clone)]
pub struct App {
    /// The writer.
    pub desk: Desk,
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
        // Queries, answered from committed state.
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

/// Answers a query from the engine as of the last commit; `Err` is a 4xx from the engine's
/// own error.
async fn read(
    desk: &Desk,
    query: impl FnOnce(&Engine, u64) -> Result<Value, Error> + Send + 'static,
) -> Response {
    match desk.query(query).await {
        Ok(Ok(value)) => Json(value).into_response(),
        Ok(Err(error)) => refused(&error),
        Err(refusal) => answer(Err(refusal)),
    }
}

async fn state(State(App { desk, .. }): State<App>) -> Response {
    read(&desk, |engine, seq| Ok(desk_state(engine, seq))).await
}

/// Everything the monitoring page shows, as of journal entry `seq`.
fn desk_state(engine: &Engine, seq: u64) -> Value {
    let groups: Vec<Value> = engine
        .groups()
        .filter_map(|id| {
            let group = engine.group(id)?;
            let queue = views(engine, engine.queue(id)?);
            Some(json!({ "group": group, "queue": queue }))
        })
        .collect();
    json!({
        "seq": seq,
        "now": engine.now(),
        "next_deadline": engine.next_deadline(),
        "mode": engine.config().mode,
        "counters": engine.counters(),
        "groups": groups,
        "pool": views(engine, engine.pool()),
        "snoozed": views(engine, engine.snoozed().map(|(id, _)| id)),
        "agents": agent_views(engine),
    })
}

/// Every agent, in registration order.
fn agent_views(engine: &Engine) -> Value {
    json!(
        engine
            .agents()
            .filter_map(|id| engine.agent(id))
            .collect::<Vec<_>>()
    )
}

fn views<'a>(engine: &Engine, ids: impl Iterator<Item = &'a ConversationId>) -> Value {
    json!(
        ids.filter_map(|id| engine.conversation(id))
            .collect::<Vec<_>>()
    )
}

async fn snapshot(State(App { desk, .. }): State<App>) -> Response {
    read(&desk, |engine, seq| {
        Ok(json!({ "seq": seq, "snapshot": engine.snapshot() }))
    })
    .await
}

async fn pool(State(App { desk, .. }): State<App>) -> Response {
    read(&desk, |engine, _| Ok(views(engine, engine.pool()))).await
}

async fn snoozed(State(App { desk, .. }): State<App>) -> Response {
    read(&desk, |engine, _| {
        Ok(views(engine, engine.snoozed().map(|(id, _)| id)))
    })
    .await
}

async fn agents(State(App { desk, .. }): State<App>) -> Response {
    read(&desk, |engine, _| Ok(agent_views(engine))).await
}

async fn agent(State(App { desk, .. }): State<App>, Path(id): Path<String>) -> Response {
    let id = AgentId::from(id);
    read(&desk, move |engine, _| {
        engine
            .agent(&id)
            .map(|view| json!(view))
            .ok_or(Error::UnknownAgent { agent: id })
    })
    .await
}

async fn groups(State(App { desk, .. }): State<App>) -> Response {
    read(&desk, |engine, _| {
        Ok(json!(
            engine
                .groups()
                .filter_map(|id| engine.group(id))
                .collect::<Vec<_>>()
        ))
    })
    .await
}

async fn queue(State(App { desk, .. }): State<App>, Path(id): Path<String>) -> Response {
    let id = GroupId::from(id);
    read(&desk, move |engine, _| match engine.queue(&id) {
        Some(queue) => Ok(views(engine, queue)),
        None => Err(Error::UnknownGroup { group: id }),
    })
    .await
}

async fn conversation(State(App { desk, .. }): State<App>, Path(id): Path<String>) -> Response {
    let id = ConversationId::from(id);
    read(&desk, move |engine, _| {
        engine
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

/// Server-sent events: one message per journal entry committed from now on, `id` its `seq`,
/// data `{"seq", "at", "events"}`. A client that falls too far behind gets a `lagged` event
/// and should read `/state` again.
async fn events(
    State(App { desk, stopping }): State<App>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let hello = SseEvent::default().retry(Duration::from_secs(1));
    let stream = BroadcastStream::new(desk.subscribe()).map(|item| match item {
        Ok(published) => SseEvent::default()
            .id(published.seq.to_string())
            .data(serde_json::to_string(&*published).expect("events serialize to JSON")),
        Err(BroadcastStreamRecvError::Lagged(missed)) => {
            SseEvent::default().event("lagged").data(missed.to_string())
        }
    });
    let stream = tokio_stream::once(hello).chain(stream).map(Ok);
    let stream = futures_util::StreamExt::take_until(stream, stopped(stopping));
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Resolves when the service begins to shut down.
async fn stopped(mut stopping: watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

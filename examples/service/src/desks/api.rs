//! The routes of a many-desk host: every command route of the single-desk service under
//! `/desks/{desk}`, a few queries, and the desks themselves.
//!
//! | Route | What |
//! |---|---|
//! | `GET /desks` | every desk, its owner's address, and whether this host writes for it |
//! | `PUT /desks/{desk}` | creates the desk; the body is its engine config (`{}`: the default); 201, or 200 if it exists (its config is kept) |
//! | `POST /desks/{desk}/commands`, `POST /desks/{desk}/visitors`, ... | a command for the desk, as the single-desk routes |
//! | `GET /desks/{desk}/state` | where the desk stands: `seq`, `epoch`, the engine's clock, counters |
//! | `GET /desks/{desk}/agents/{agent}`, `GET /desks/{desk}/conversations/{conversation}` | one agent, one conversation |
//!
//! A desk written by another host is answered `307 Temporary Redirect` to the same path on
//! that host (`Location`, and `owner` in the body); a known desk without a writer (a fail-over
//! in progress) `503`, to retry; an unknown desk `404`.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, get, on, post, put};
use serde_json::{Value, json};
use switchboard::{AgentId, Config, ConversationId, Error};

use super::{Desks, Route, Served};
use crate::api::{COMMAND_ROUTES, answer, healthz, parse, problem};
use crate::guard::{self, Policy};
use crate::journal::Journal;

/// What the handlers share.
pub struct App<J> {
    pub desks: Desks,
    pub journal: Arc<J>,
}

impl<J> Clone for App<J> {
    fn clone(&self) -> Self {
        App {
            desks: self.desks.clone(),
            journal: self.journal.clone(),
        }
    }
}

/// Every route, behind the checks of `guard.rs` and the body limit.
pub fn router<J: Journal>(app: App<J>, policy: Arc<Policy>, max_body: usize) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(ready::<J>))
        .route("/desks", get(list::<J>))
        .route("/desks/{desk}", put(create::<J>))
        .route("/desks/{desk}/commands", post(any_command::<J>))
        .route("/desks/{desk}/state", get(state::<J>))
        .route("/desks/{desk}/agents/{agent}", get(agent::<J>))
        .route(
            "/desks/{desk}/conversations/{conversation}",
            get(conversation::<J>),
        );
    for r in COMMAND_ROUTES {
        let method = if r.method == "PUT" {
            MethodFilter::PUT
        } else {
            MethodFilter::POST
        };
        let path = format!("/desks/{{desk}}{}", r.path);
        router = router.route(&path, command::<J>(method, r.kind, r.field));
    }
    router
        .with_state(app)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn_with_state(policy, guard::check))
}

/// The desk's writer here, or the answer that sends the client elsewhere.
fn here(desks: &Desks, desk: &str, uri: &Uri) -> Result<Served, Box<Response>> {
    match desks.route(desk) {
        Route::Here(served) => Ok(served),
        Route::Elsewhere(address) => Err(Box::new({
            let location = format!(
                "http://{address}{}",
                uri.path_and_query().map_or("", |p| p.as_str())
            );
            (
                StatusCode::TEMPORARY_REDIRECT,
                [(header::LOCATION, location)],
                Json(json!({
                    "error": format!("desk {desk} is written by another host"),
                    "owner": address,
                })),
            )
                .into_response()
        })),
        Route::Unowned => Err(Box::new(problem(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("desk {desk} has no writer right now (a fail-over); retry"),
            json!({}),
        ))),
        Route::Unknown => Err(Box::new(problem(
            StatusCode::NOT_FOUND,
            format!("unknown desk {desk}"),
            json!({}),
        ))),
    }
}

fn command<J: Journal>(
    method: MethodFilter,
    kind: &'static str,
    field: Option<&'static str>,
) -> MethodRouter<App<J>> {
    match field {
        None => on(
            method,
            move |State(app): State<App<J>>, Path(desk): Path<String>, uri: Uri, body: Bytes| async move {
                submit(&app.desks, &desk, &uri, Some(kind), None, &body).await
            },
        ),
        Some(field) => on(
            method,
            move |State(app): State<App<J>>,
                  Path((desk, id)): Path<(String, String)>,
                  uri: Uri,
                  body: Bytes| async move {
                submit(
                    &app.desks,
                    &desk,
                    &uri,
                    Some(kind),
                    Some((field, id)),
                    &body,
                )
                .await
            },
        ),
    }
}

async fn any_command<J: Journal>(
    State(app): State<App<J>>,
    Path(desk): Path<String>,
    uri: Uri,
    body: Bytes,
) -> Response {
    submit(&app.desks, &desk, &uri, None, None, &body).await
}

async fn submit(
    desks: &Desks,
    desk: &str,
    uri: &Uri,
    kind: Option<&'static str>,
    field: Option<(&'static str, String)>,
    body: &[u8],
) -> Response {
    let served = match here(desks, desk, uri) {
        Ok(served) => served,
        Err(response) => return *response,
    };
    match parse(kind, field, body) {
        Ok(command) => answer(served.command(command).await),
        Err((status, message)) => problem(status, message, json!({})),
    }
}

/// Ready once the desks have been read from the database.
async fn ready<J: Journal>(State(app): State<App<J>>) -> Response {
    if app.desks.is_loaded() {
        Json(json!({ "status": "ready", "desks_here": app.desks.served_count() })).into_response()
    } else {
        problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "starting: the desks are not read yet".into(),
            json!({}),
        )
    }
}

async fn list<J: Journal>(State(app): State<App<J>>) -> Response {
    let desks: Vec<Value> = app
        .desks
        .list()
        .into_iter()
        .map(|(desk, owner, here)| json!({ "desk": desk, "owner": owner, "here": here }))
        .collect();
    Json(desks).into_response()
}

async fn create<J: Journal>(
    State(app): State<App<J>>,
    Path(desk): Path<String>,
    body: Bytes,
) -> Response {
    if desk.is_empty() || desk.len() > 200 || desk.chars().any(char::is_control) {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "a desk id is 1 to 200 characters, none a control character".into(),
            json!({}),
        );
    }
    let config: Config = if body.iter().all(u8::is_ascii_whitespace) {
        Config::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(config) => config,
            Err(e) => {
                return problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("not a valid config: {e}"),
                    json!({}),
                );
            }
        }
    };
    if let Err(e) = switchboard::Engine::new(config.clone()) {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the config: {e}"),
            json!({}),
        );
    }
    match app.journal.create_desk(&desk, &config).await {
        Ok(created) => {
            app.desks.know(&desk);
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (status, Json(json!({ "desk": desk, "created": created }))).into_response()
        }
        Err(message) => problem(StatusCode::SERVICE_UNAVAILABLE, message, json!({})),
    }
}

/// Answers a query from the desk's engine here, as of its last commit.
async fn query(
    desks: &Desks,
    desk: &str,
    uri: &Uri,
    read: impl FnOnce(&Served, &switchboard::Engine) -> Result<Value, Error>,
) -> Response {
    let served = match here(desks, desk, uri) {
        Ok(served) => served,
        Err(response) => return *response,
    };
    if !served.is_valid() {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("desk {desk}: this host's lease is not confirmed; retry"),
            json!({}),
        );
    }
    let result = {
        let engine = served.engine.read().await;
        read(&served, &engine)
    };
    match result {
        Ok(value) => Json(value).into_response(),
        Err(error) => problem(
            StatusCode::NOT_FOUND,
            error.to_string(),
            json!({ "detail": error }),
        ),
    }
}

async fn state<J: Journal>(
    State(app): State<App<J>>,
    Path(desk): Path<String>,
    uri: Uri,
) -> Response {
    query(&app.desks, &desk, &uri, |served, engine| {
        Ok(json!({
            "desk": desk,
            "epoch": served.epoch,
            "seq": *served.committed.borrow(),
            "now": engine.now(),
            "next_deadline": engine.next_deadline(),
            "counters": engine.counters(),
        }))
    })
    .await
}

async fn agent<J: Journal>(
    State(app): State<App<J>>,
    Path((desk, id)): Path<(String, String)>,
    uri: Uri,
) -> Response {
    let id = AgentId::from(id);
    query(&app.desks, &desk, &uri, move |_, engine| {
        engine
            .agent(&id)
            .map(|view| json!(view))
            .ok_or(Error::UnknownAgent { agent: id })
    })
    .await
}

async fn conversation<J: Journal>(
    State(app): State<App<J>>,
    Path((desk, id)): Path<(String, String)>,
    uri: Uri,
) -> Response {
    let id = ConversationId::from(id);
    query(&app.desks, &desk, &uri, move |_, engine| {
        engine
            .conversation(&id)
            .map(|view| json!(view))
            .ok_or(Error::UnknownConversation { conversation: id })
    })
    .await
}

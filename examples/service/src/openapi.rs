//! The OpenAPI 3.1 document of every route (R-HS4), served at `GET /openapi.json`.
//!
//! Built from the types: the host's own answers (`Answer`, `Problem`, `DeskState`, ...) derive
//! their schemas with utoipa; the command routes come from the same table the router is built
//! from (`api::COMMAND_ROUTES`), so no route goes undocumented; each command's example body
//! is a real `switchboard::Command` serialized with serde, so the examples follow the engine's
//! wire format whenever it changes. The engine's own types (commands, events, views) carry
//! no schema derive, so their bodies are described as objects with those examples and a
//! pointer to the crate docs.

use serde_json::{Value, json};
use switchboard::{
    AgentSpec, AgentStatus, Arrival, Command, Config, EndReason, GroupSpec, ReceptionMode, Sender,
    Target,
};
use utoipa::OpenApi as _;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, PathItem, PathsBuilder, Ref, RefOr, ResponseBuilder};

use crate::api::{
    Answer, COMMAND_ROUTES, DeskState, GroupState, ItemAnswer, Problem, QueueEntry, Ready,
};
use crate::wallboard::{AgentBoard, GroupBoard, Level, Wallboard};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "switchboard-service",
        description = "A host for the switchboard routing engine: commands are journaled before \
                       they are acknowledged; queries are answered by a read model. Every route \
                       but /healthz and /readyz needs `Authorization: Bearer <token>` when the \
                       service is given a token. Bodies are JSON. The engine's types (commands, \
                       events, views) are documented in the switchboard crate."
    ),
    components(schemas(
        Answer, ItemAnswer, Problem, DeskState, GroupState, QueueEntry, Ready, Wallboard, Level,
        GroupBoard, AgentBoard
    ))
)]
struct Components;

/// A read-only route: path, summary, the schema of its answer (`None`: any JSON).
struct Query {
    path: &'static str,
    summary: &'static str,
    answer: Option<&'static str>,
    content_type: &'static str,
}

const fn query(path: &'static str, summary: &'static str, answer: Option<&'static str>) -> Query {
    Query {
        path,
        summary,
        answer,
        content_type: "application/json",
    }
}

const QUERIES: &[Query] = &[
    Query {
        path: "/",
        summary: "The wallboard page (HTML). With a token, open /?token=<token> once: it sets a cookie.",
        answer: None,
        content_type: "text/html",
    },
    query(
        "/healthz",
        "Liveness: the process answers. No token needed.",
        None,
    ),
    query(
        "/readyz",
        "Readiness: the writer takes commands and the read model keeps up (503 otherwise). No token needed.",
        Some("Ready"),
    ),
    Query {
        path: "/metrics",
        summary: "Prometheus metrics in the text format.",
        answer: None,
        content_type: "text/plain",
    },
    query("/openapi.json", "This document.", None),
    Query {
        path: "/events",
        summary: "Server-sent events: one message per journal entry (id = seq, data = {seq, at, events}). \
                  Send Last-Event-ID to resume; `reset` means read /state again, `lagged` likewise.",
        answer: None,
        content_type: "text/event-stream",
    },
    query(
        "/state",
        "Everything the page shows: queues in order, pool, snoozed, agents, counters. \
         `?limit=N`: at most N entries of each queue.",
        Some("DeskState"),
    ),
    query(
        "/wallboard",
        "The wallboard's figures: service level today and over 30 minutes against the target, \
         longest wait per group with thresholds, agents' time in status.",
        Some("Wallboard"),
    ),
    query(
        "/snapshot",
        "The engine's whole state as a versioned snapshot, with its journal entry.",
        None,
    ),
    query(
        "/pool",
        "The unassigned pool, in pool order (ConversationView each).",
        None,
    ),
    query(
        "/snoozed",
        "Snoozed conversations, soonest to wake first (ConversationView each).",
        None,
    ),
    query("/agents", "Every agent (AgentView each).", None),
    query("/agents/{agent}", "One agent (AgentView).", None),
    query("/groups", "Every group (GroupView each).", None),
    query(
        "/groups/{group}/queue",
        "A group's queue, best first, with positions and estimates.",
        None,
    ),
    query(
        "/conversations/{conversation}",
        "One conversation (ConversationView).",
        None,
    ),
];

/// An example body for a command route: a real command, serialized, without the fields the
/// route itself sets.
fn example(kind: &str, field: Option<&str>) -> Value {
    let command = match kind {
        "RegisterAgent" => Command::RegisterAgent(
            AgentSpec::new("ana")
                .status(AgentStatus::Online)
                .limit(2)
                .group("support"),
        ),
        "RegisterGroup" => Command::RegisterGroup(GroupSpec::new("support")),
        "AgentStatusChanged" => Command::AgentStatusChanged {
            agent: "ana".into(),
            status: AgentStatus::Online,
        },
        "VisitorArrives" => Command::VisitorArrives(Arrival::new("c1", "v1", "support")),
        "VisitorLeaves" => Command::VisitorLeaves {
            conversation: "c1".into(),
        },
        "LeaveMessage" => Command::LeaveMessage {
            conversation: "c1".into(),
        },
        "Message" => Command::Message {
            conversation: "c1".into(),
            from: Sender::Visitor,
        },
        "Transfer" => Command::Transfer {
            conversation: "c1".into(),
            to: Target::Group("sales".into()),
        },
        "AcceptOffer" => Command::AcceptOffer {
            conversation: "c1".into(),
            agent: "ana".into(),
        },
        "DeclineOffer" => Command::DeclineOffer {
            conversation: "c1".into(),
            agent: "ana".into(),
        },
        "AssignManually" => Command::AssignManually {
            conversations: vec!["c1".into()],
            target: Target::Agent("ana".into()),
        },
        "EndConversations" => Command::EndConversations {
            conversations: vec!["c1".into()],
            reason: EndReason::Agent,
        },
        "Snooze" => Command::Snooze {
            conversations: vec!["c1".into()],
            until: "2026-03-02T10:00:00Z".parse().expect("a time"),
        },
        "Claim" => Command::Claim {
            agent: "ana".into(),
            conversation: None,
        },
        "SetReceptionMode" => Command::SetReceptionMode {
            mode: ReceptionMode::Asynchronous,
        },
        "UpdateConfig" => Command::UpdateConfig(Config::default()),
        _ => Command::Tick,
    };
    let mut value = serde_json::to_value(&command).expect("commands serialize");
    if let Value::Object(fields) = &mut value {
        fields.remove("type");
        if let Some(field) = field {
            fields.remove(field);
        }
    }
    value
}

fn answer_ref(name: &str) -> RefOr<utoipa::openapi::schema::Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

fn json_content(schema: RefOr<utoipa::openapi::schema::Schema>) -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

fn any_object() -> RefOr<utoipa::openapi::schema::Schema> {
    RefOr::T(ObjectBuilder::new().schema_type(Type::Object).into())
}

fn path_parameters(path: &str) -> Vec<utoipa::openapi::path::Parameter> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(utoipa::openapi::Required::True)
                .schema(Some(RefOr::T(
                    ObjectBuilder::new().schema_type(Type::String).into(),
                )))
                .build()
        })
        .collect()
}

fn refusals(operation: OperationBuilder) -> OperationBuilder {
    let problem =
        || ResponseBuilder::new().content("application/json", json_content(answer_ref("Problem")));
    operation
        .response(
            "400",
            problem().description("Malformed JSON, or a field the route sets given otherwise."),
        )
        .response("401", problem().description("No token, or a wrong one."))
        .response(
            "403",
            problem().description("A page of another origin (or `null`)."),
        )
        .response(
            "404",
            problem().description("An unknown agent, group, conversation, visitor or schedule."),
        )
        .response(
            "409",
            problem().description("The state or mode does not allow it (the engine's message)."),
        )
        .response("413", problem().description("The body is over the limit."))
        .response(
            "415",
            problem().description("The body is not `application/json`."),
        )
        .response(
            "421",
            problem().description("A host name the service does not answer for."),
        )
        .response(
            "422",
            problem().description("Not a valid command of this kind (the engine's message)."),
        )
        .response(
            "503",
            problem()
                .description("Not stored (the journal failed or the service is stopping); retry."),
        )
}

/// The whole document, as JSON.
pub fn document() -> String {
    let mut api = Components::openapi();
    let mut paths = PathsBuilder::new();
    for q in QUERIES {
        let content = match q.answer {
            Some(name) => json_content(answer_ref(name)),
            None if q.content_type == "application/json" => json_content(any_object()),
            None => ContentBuilder::new().build(),
        };
        let mut operation = OperationBuilder::new()
            .summary(Some(q.summary))
            .tag("queries")
            .response(
                "200",
                ResponseBuilder::new()
                    .description("The answer.")
                    .content(q.content_type, content),
            );
        for parameter in path_parameters(q.path) {
            operation = operation.parameter(parameter);
        }
        paths = paths.path(q.path, PathItem::new(HttpMethod::Get, operation));
    }
    let mut commands: Vec<(&str, &str, String, Value, Option<&str>)> = COMMAND_ROUTES
        .iter()
        .map(|r| {
            (
                r.method,
                r.path,
                format!(
                    "Sends `{}`{}; answers once it is journaled.",
                    r.kind,
                    r.field
                        .map_or(String::new(), |f| format!(" (`{f}` from the path)"))
                ),
                example(r.kind, r.field),
                r.field,
            )
        })
        .collect();
    let mut any = example("VisitorArrives", None);
    if let Value::Object(fields) = &mut any {
        fields.insert("type".into(), json!("VisitorArrives"));
    }
    commands.push((
        "POST",
        "/commands",
        "Sends any command in its tagged form (`{\"type\": \"...\", ...}`); answers once it is \
         journaled."
            .into(),
        any,
        None,
    ));
    for (method, path, summary, example, _) in commands {
        let body = RequestBodyBuilder::new()
            .required(Some(utoipa::openapi::Required::True))
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(any_object()))
                    .example(Some(example))
                    .build(),
            )
            .build();
        let mut operation = OperationBuilder::new()
            .summary(Some(summary))
            .tag("commands")
            .request_body(Some(body))
            .response(
                "200",
                ResponseBuilder::new()
                    .description(
                        "Accepted and journaled: the engine's events and per-item results.",
                    )
                    .content("application/json", json_content(answer_ref("Answer"))),
            );
        operation = refusals(operation);
        for parameter in path_parameters(path) {
            operation = operation.parameter(parameter);
        }
        let method = if method == "PUT" {
            HttpMethod::Put
        } else {
            HttpMethod::Post
        };
        paths = paths.path(path, PathItem::new(method, operation));
    }
    api.paths = paths.build();
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    api.security = Some(vec![SecurityRequirement::new(
        "bearer",
        Vec::<String>::new(),
    )]);
    api.to_pretty_json().expect("the document serializes")
}

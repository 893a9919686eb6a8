//! Skills over HTTP (R-SK1, R-SK2, R-SK5, R-B1): the service passes the engine's skill
//! vocabulary through its routes as the engine writes it. A desk declares skills with
//! `PUT /config`; agents register with skills and levels (`POST /agents`); visitors arrive with
//! stages of requirements (`POST /visitors`); `UpdateAgent` changes an agent's skills
//! (`POST /commands`) and the agent at once takes the waiting work it now qualifies for; a
//! first stage that ends relaxes on the service's own timer. Views show skills, stages and
//! requirements; assignments say which stage and skills qualified the agent. Refused input
//! (an unknown skill, a level outside 1..=10, malformed stages, dropping a skill in use) is a
//! 422 with the engine's message and leaves nothing in the journal.

mod host;

use std::time::Duration;

use host::{Service, scratch, wait_for};
use serde_json::{Value, json};
use switchboard::{AgentSpec, AgentStatus, Arrival, Command, GroupSpec, Stage};

fn body<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("serializes")
}

/// The answer's events of one type.
fn events<'a>(answer: &'a Value, kind: &str) -> Vec<&'a Value> {
    answer["events"]
        .as_array()
        .expect("an answer lists its events")
        .iter()
        .filter(|e| e["type"] == kind)
        .collect()
}

/// Sends a command that must be refused with 422, and checks that nothing was journaled.
fn refused(service: &Service, method: &str, path: &str, text: &str, says: &str) {
    let seq = service.get("/state").json()["seq"].clone();
    let reply = service.send(method, path, Some(text));
    assert_eq!(reply.status, 422, "{path} {text}: {}", reply.body);
    assert!(reply.error().contains(says), "{}: {says}", reply.error());
    assert_eq!(service.get("/state").json()["seq"], seq, "{text} journaled");
}

#[test]
fn r_sk1_r_sk2_r_sk5_skills_stages_and_skill_updates_over_http() {
    let dir = scratch("skills");
    let service = Service::start(&dir.join("desk.db"), &[]);
    service.ok(
        "PUT",
        "/config",
        r#"{"skills": ["english", "german", "billing"]}"#,
    );
    service.ok("POST", "/groups", &body(&GroupSpec::new("support")));

    // R-SK1: an agent registers with skills and levels, on the engine's wire format.
    let ana = AgentSpec::new("ana")
        .status(AgentStatus::Online)
        .limit(1)
        .group("support")
        .skill("english", 8)
        .skill("billing", 5);
    service.ok("POST", "/agents", &body(&ana));
    service.ok(
        "POST",
        "/agents",
        r#"{"agent": "bo", "status": "Online", "limit": {"type": "Fixed", "limit": 1},
            "groups": [{"group": "support"}], "skills": [{"skill": "billing", "level": 2}]}"#,
    );
    assert_eq!(
        service.get("/agents/ana").json()["skills"],
        json!([{"skill": "english", "level": 8}, {"skill": "billing", "level": 5}])
    );
    refused(
        &service,
        "POST",
        "/agents",
        r#"{"agent": "cy", "groups": [{"group": "support"}], "skills": [{"skill": "french", "level": 3}]}"#,
        "unknown skill `french`",
    );
    refused(
        &service,
        "POST",
        "/agents",
        r#"{"agent": "cy", "groups": [{"group": "support"}], "skills": [{"skill": "german", "level": 11}]}"#,
        "level 11",
    );

    // R-SK2: German at level 5 for a minute, then billing at any level. Nobody speaks German:
    // it waits in stage 0, and its view says what it requires.
    let c1 = Arrival::new("c1", "v1", "support")
        .stage(
            Stage::new()
                .require("german", 5)
                .require("billing", 1)
                .for_ms(60_000),
        )
        .stage(Stage::new().require("billing", 1));
    let answer = service.ok("POST", "/visitors", &body(&Command::VisitorArrives(c1)));
    assert_eq!(events(&answer, "ConversationQueued").len(), 1, "{answer}");
    assert!(
        events(&answer, "ConversationAssigned").is_empty(),
        "{answer}"
    );
    let view = service.get("/conversations/c1").json();
    assert_eq!(view["stage"], 0, "{view}");
    assert_eq!(
        view["requires"],
        json!([{"skill": "german", "level": 5}, {"skill": "billing", "level": 1}])
    );
    refused(
        &service,
        "POST",
        "/visitors",
        r#"{"conversation": "c9", "visitor": "v9", "group": "support", "stages": []}"#,
        "stage",
    );
    refused(
        &service,
        "POST",
        "/visitors",
        r#"{"conversation": "c9", "visitor": "v9", "group": "support",
            "stages": [{"require": [{"skill": "dutch", "level": 1}]}]}"#,
        "unknown skill `dutch`",
    );
    // R-SK1: a skill an open conversation's stages name cannot be dropped.
    refused(
        &service,
        "PUT",
        "/config",
        r#"{"skills": ["english", "billing"]}"#,
        "german",
    );

    // R-SK5, R-B1: ana learns German; she takes c1 at once, and the assignment says under
    // which stage and with which of her levels.
    let update = json!({
        "type": "UpdateAgent",
        "agent": "ana",
        "skills": [
            {"skill": "english", "level": 8},
            {"skill": "german", "level": 6},
            {"skill": "billing", "level": 5},
        ],
    });
    let answer = service.ok("POST", "/commands", &update.to_string());
    let assigned = events(&answer, "ConversationAssigned");
    assert_eq!(assigned.len(), 1, "{answer}");
    assert_eq!(assigned[0]["conversation"], "c1");
    assert_eq!(assigned[0]["agent"], "ana");
    assert_eq!(
        assigned[0]["skills"],
        json!({"stage": 0, "required": [{"skill": "german", "level": 6}, {"skill": "billing", "level": 5}], "preferred": []})
    );
    assert_eq!(
        service.get("/agents/ana").json()["skills"][1],
        json!({"skill": "german", "level": 6})
    );

    // R-SK2: a first stage of 50 ms that nobody meets (ana is full, bo speaks no German);
    // the service's timer relaxes it, and bo, who knows billing, takes it.
    let c2 = Arrival::new("c2", "v2", "support")
        .stage(Stage::new().require("german", 5).for_ms(50))
        .stage(Stage::new().require("billing", 1));
    let answer = service.ok("POST", "/visitors", &body(&Command::VisitorArrives(c2)));
    assert!(
        events(&answer, "ConversationAssigned").is_empty(),
        "{answer}"
    );
    let view = wait_for(Duration::from_secs(20), "c2 relaxed and assigned", || {
        let view = service.get("/conversations/c2").json();
        (view["state"] == json!({"type": "Active", "agent": "bo"})).then_some(view)
    });
    assert_eq!(view["stage"], 1, "{view}");
    assert_eq!(view["requires"], json!([{"skill": "billing", "level": 1}]));
    // A conversation without stages says none.
    service.ok(
        "POST",
        "/visitors",
        r#"{"conversation": "c3", "visitor": "v3", "group": "support"}"#,
    );
    let view = service.get("/conversations/c3").json();
    assert!(view["stage"].is_null(), "{view}");

    service.kill();
    let _ = std::fs::remove_dir_all(&dir);
}

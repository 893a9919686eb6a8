//! Many desks on three host processes sharing a throw-away PostgreSQL cluster, under load, with
//! writers killed (`kill -9`) and paused past their lease (`SIGSTOP`) at random moments.
//!
//! After every fault the desks the victim wrote for are served again by the others; at the
//! end every acknowledged command is in the journal under the `seq` it was acknowledged with
//! (no sequence number of any desk written twice, none skipped), every desk's engine counts
//! exactly the arrivals its journal holds, every acknowledged arrival of a desk that moved is
//! in its new owner's engine, and no command sent to a paused writer was acknowledged or
//! journaled after it woke up.
//!
//! The faults, in turn: kill -9, SIGSTOP past the lease then SIGCONT, every database
//! connection of the host cut (mid-commit for some desks), kill -9 again.
//!
//! CI size: 100 desks, 4 faults. `SWITCHBOARD_FAILOVER_FULL=1`: 300 desks,
//! 8 faults, 20 s of load measured first (`SWITCHBOARD_FAILOVER_CLIENTS` sets the number of
//! client threads, 8 and 16 by default). It prints the figures (acknowledged commands per
//! second per process, fail-over time median and max) and asserts none of them.
//!
//! SPEC: R-DS1 (many desks per process, spread over processes), R-DS2 (the PostgreSQL journal,
//! fenced: a second writer can never commit), R-DS3 (three processes, kill -9 under load, no
//! acknowledged command lost, no sequence number written twice).

mod host;
mod pg;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use host::{Service, request_on, scratch, wait_for};
use pg::Postgres;
use serde_json::{Value, json};

const LEASE_MS: u64 = 2000;

struct Size {
    desks: usize,
    faults: usize,
    clients: usize,
    warm_up: Duration,
}

fn size() -> Size {
    let mut size = full_or_ci();
    if let Some(clients) = std::env::var("SWITCHBOARD_FAILOVER_CLIENTS")
        .ok()
        .and_then(|c| c.parse().ok())
    {
        size.clients = clients;
    }
    size
}

fn full_or_ci() -> Size {
    if std::env::var("SWITCHBOARD_FAILOVER_FULL").as_deref() == Ok("1") {
        Size {
            desks: 300,
            faults: 8,
            clients: 16,
            warm_up: Duration::from_secs(20),
        }
    } else {
        Size {
            desks: 100,
            faults: 4,
            clients: 8,
            warm_up: Duration::from_secs(3),
        }
    }
}

/// A small xorshift generator: the test's random moments and choices, from a printed seed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A client with a short timeout: a request to a paused host gives up and tries another.
fn client(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// An acknowledged command: the desk, the `seq` it was acknowledged with, its type and
/// conversation, and when.
#[derive(Clone, Debug)]
struct Ack {
    desk: String,
    seq: u64,
    kind: &'static str,
    conversation: String,
    at: Instant,
}

/// What every client thread shares: where the hosts are and where each desk is written.
struct Shared {
    addrs: RwLock<Vec<String>>,
    owners: Mutex<HashMap<String, String>>,
    acks: Mutex<Vec<Ack>>,
    /// Acknowledgments per host address (the load's throughput per process).
    by_host: Mutex<HashMap<String, u64>>,
    next: AtomicU64,
}

enum Sent {
    Acked(Ack),
    /// Not acknowledged, and perhaps in the journal (a connection lost mid-command, or a
    /// retry refused as a duplicate after one).
    Unsure,
    Refused(u16, String),
}

impl Shared {
    fn any_addr(&self) -> String {
        let addrs = self.addrs.read().unwrap();
        let i = self.next.fetch_add(1, Ordering::Relaxed) as usize % addrs.len();
        addrs[i].clone()
    }

    /// Sends a command to the desk's writer, following redirects, retrying through a
    /// fail-over for up to `patience`.
    fn send(
        &self,
        http: &ureq::Agent,
        desk: &str,
        (path, kind): (&str, &'static str),
        conversation: &str,
        body: &Value,
        patience: Duration,
    ) -> Sent {
        let started = Instant::now();
        let body = body.to_string();
        let mut unsure = false;
        loop {
            if started.elapsed() > patience {
                return Sent::Unsure;
            }
            let addr = self.owners.lock().unwrap().get(desk).cloned();
            let addr = addr.unwrap_or_else(|| self.any_addr());
            let path = format!("/desks/{desk}{path}");
            match request_on(http, &addr, "POST", &path, Some(&body)) {
                Ok(reply) if reply.status == 200 => {
                    let seq = reply.json()["seq"].as_u64().expect("an ack has a seq");
                    *self.by_host.lock().unwrap().entry(addr).or_default() += 1;
                    return Sent::Acked(Ack {
                        desk: desk.to_owned(),
                        seq,
                        kind,
                        conversation: conversation.to_owned(),
                        at: Instant::now(),
                    });
                }
                Ok(reply) if reply.status == 307 => {
                    // Sent to an owner the client knows to be down (not answering its health
                    // checks), it waits for the desk to move instead.
                    let owner = reply.json()["owner"].as_str().map(String::from);
                    let up = owner
                        .as_ref()
                        .is_some_and(|o| *o != addr && self.addrs.read().unwrap().contains(o));
                    let mut owners = self.owners.lock().unwrap();
                    match owner {
                        Some(owner) if up => owners.insert(desk.to_owned(), owner),
                        _ => {
                            owners.remove(desk);
                            drop(owners);
                            thread::sleep(Duration::from_millis(50));
                            None
                        }
                    };
                }
                Ok(reply) if reply.status == 503 => {
                    unsure |= reply.body.contains("not acknowledged");
                    thread::sleep(Duration::from_millis(50));
                }
                Ok(reply) if reply.status == 409 && unsure => return Sent::Unsure,
                Ok(reply) => return Sent::Refused(reply.status, reply.body),
                Err(_) => {
                    unsure = true;
                    self.owners.lock().unwrap().remove(desk);
                    thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }

    fn arrive(&self, http: &ureq::Agent, desk: &str, id: &str, patience: Duration) -> Sent {
        let body = json!({ "conversation": id, "visitor": format!("v-{id}"), "group": "support" });
        self.send(
            http,
            desk,
            ("/visitors", "VisitorArrives"),
            id,
            &body,
            patience,
        )
    }

    fn record(&self, sent: Sent) -> Option<Ack> {
        match sent {
            Sent::Acked(ack) => {
                self.acks.lock().unwrap().push(ack.clone());
                Some(ack)
            }
            Sent::Unsure => None,
            Sent::Refused(status, body) => panic!("refused: {status} {body}"),
        }
    }
}

fn desk(i: usize) -> String {
    format!("desk-{i:04}")
}

fn start_host(dir: &std::path::Path, n: usize, url: &str) -> Service {
    let lease = LEASE_MS.to_string();
    Service::start(
        &dir.join(format!("host-{n}.db")),
        &["--postgres", url, "--lease-ms", &lease],
    )
}

/// The desks a host writes for now.
fn served_by(service: &Service) -> Vec<String> {
    let reply = service.get("/desks");
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply
        .json()
        .as_array()
        .expect("a list")
        .iter()
        .filter(|d| d["here"] == json!(true))
        .map(|d| d["desk"].as_str().expect("an id").to_owned())
        .collect()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[test]
fn r_ds3_three_hosts_lose_no_acknowledged_command_through_kills_and_pauses() {
    let Some(postgres) = Postgres::start("failover") else {
        return;
    };
    let size = size();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    eprintln!("seed {seed}; {} desks, {} faults", size.desks, size.faults);
    let mut random = Random(seed);
    let dir = scratch("failover");
    let url = postgres.url();
    let started = Instant::now();

    let mut hosts: Vec<Option<Service>> = (0..3).map(|n| Some(start_host(&dir, n, &url))).collect();
    let mut spawned = 3;
    let shared = Arc::new(Shared {
        addrs: RwLock::new(hosts.iter().flatten().map(|s| s.addr.clone()).collect()),
        owners: Mutex::new(HashMap::new()),
        acks: Mutex::new(Vec::new()),
        by_host: Mutex::new(HashMap::new()),
        next: AtomicU64::new(0),
    });
    let first = hosts[0].as_ref().expect("started");

    // Desks created on one host are claimed by all three, about a third each (R-DS1).
    for i in 0..size.desks {
        let reply = first.put(&format!("/desks/{}", desk(i)), "{}");
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    assert_eq!(first.put(&format!("/desks/{}", desk(0)), "{}").status, 200);
    let counts = wait_for(Duration::from_secs(60), "every desk to be claimed", || {
        let counts: Vec<usize> = hosts.iter().flatten().map(|h| served_by(h).len()).collect();
        (counts.iter().sum::<usize>() == size.desks).then_some(counts)
    });
    eprintln!("desks per host after the claims: {counts:?}");
    assert!(
        counts.iter().all(|&c| c > 0),
        "every host writes for some desks: {counts:?}"
    );
    // An unknown desk is refused by every host, and nothing is journaled for it.
    let unknown = first.post(
        "/desks/nope/visitors",
        r#"{"conversation": "x", "visitor": "x", "group": "support"}"#,
    );
    assert_eq!(unknown.status, 404, "{}", unknown.body);

    let setup = client(Duration::from_secs(30));
    for i in 0..size.desks {
        let d = desk(i);
        let group = json!({ "group": "support" });
        let sent = shared.send(
            &setup,
            &d,
            ("/groups", "RegisterGroup"),
            "",
            &group,
            Duration::from_secs(30),
        );
        shared.record(sent).expect("the group is registered");
        for a in 0..2 {
            let agent = json!({
                "agent": format!("a{a}"), "status": "Online",
                "limit": {"type": "Fixed", "limit": 100_000}, "groups": [{"group": "support"}]
            });
            let sent = shared.send(
                &setup,
                &d,
                ("/agents", "RegisterAgent"),
                "",
                &agent,
                Duration::from_secs(30),
            );
            shared.record(sent).expect("the agent is registered");
        }
    }

    // The load: each client sends arrivals to random desks and ends every other one.
    let stop = Arc::new(AtomicBool::new(false));
    shared.by_host.lock().unwrap().clear();
    let load: Vec<_> = (0..size.clients)
        .map(|c| {
            let shared = shared.clone();
            let stop = stop.clone();
            let desks = size.desks;
            let mut random = Random(seed.wrapping_mul(c as u64 + 3) | 1);
            thread::spawn(move || {
                let http = client(Duration::from_secs(3));
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let d = desk(random.below(desks));
                    let id = format!("c{c}-{i}");
                    i += 1;
                    let acked =
                        shared.record(shared.arrive(&http, &d, &id, Duration::from_secs(30)));
                    if acked.is_some() && i.is_multiple_of(2) {
                        let end = json!({ "conversations": [id], "reason": "Visitor" });
                        let sent = shared.send(
                            &http,
                            &d,
                            ("/end", "EndConversations"),
                            &id,
                            &end,
                            Duration::from_secs(30),
                        );
                        shared.record(sent);
                    }
                }
            })
        })
        .collect();

    thread::sleep(size.warm_up);
    let rates: Vec<(String, f64)> = {
        let by_host = shared.by_host.lock().unwrap();
        let mut rates: Vec<(String, f64)> = by_host
            .iter()
            .map(|(addr, n)| (addr.clone(), *n as f64 / size.warm_up.as_secs_f64()))
            .collect();
        rates.sort_by(|a, b| a.0.cmp(&b.0));
        rates
    };
    eprintln!(
        "acknowledged commands/s per process over {:?}: {rates:?}",
        size.warm_up
    );

    let mut failovers: Vec<f64> = Vec::new();
    let mut stale_ids: Vec<String> = Vec::new();
    let mut moved: HashSet<String> = HashSet::new();
    for fault in 0..size.faults {
        // A random moment, a random victim among the hosts that write for some desks.
        thread::sleep(Duration::from_millis(500 + random.below(1500) as u64));
        let candidates: Vec<(usize, Vec<String>)> = hosts
            .iter()
            .enumerate()
            .filter_map(|(n, h)| h.as_ref().map(|h| (n, served_by(h))))
            .filter(|(_, served)| !served.is_empty())
            .collect();
        let (victim, affected) = candidates[random.below(candidates.len())].clone();
        // The faults in turn: kill -9, SIGSTOP past the lease, the database connections cut
        // mid-commit (the host keeps its desks and reloads them from the journal), kill -9.
        let pause = fault % 4 == 1;
        let cut = fault % 4 == 2;
        let service = hosts[victim].take().expect("a live host");
        let victim_addr = service.addr.clone();
        let pid = service.pid();
        let t0 = Instant::now();
        let mut stale = Vec::new();
        // A client stops sending to a host that does not answer (a load balancer's health
        // check would do the same); a host whose connections were cut still answers.
        if !cut {
            shared.addrs.write().unwrap().retain(|a| *a != victim_addr);
            shared
                .owners
                .lock()
                .unwrap()
                .retain(|_, a| *a != victim_addr);
        }
        if pause {
            // SAFETY: kill only sends a signal to a process this test started.
            unsafe { libc::kill(pid, libc::SIGSTOP) };
            // Commands sent to the paused writer: they wait in its socket until it wakes.
            for (k, d) in affected.iter().take(10).enumerate() {
                let id = format!("stale-{fault}-{k}");
                stale_ids.push(id.clone());
                let addr = victim_addr.clone();
                let path = format!("/desks/{d}/visitors");
                let body = json!({ "conversation": id, "visitor": "late", "group": "support" })
                    .to_string();
                stale.push(thread::spawn(move || {
                    request_on(
                        &client(Duration::from_secs(120)),
                        &addr,
                        "POST",
                        &path,
                        Some(&body),
                    )
                }));
            }
            hosts[victim] = Some(service);
        } else if cut {
            let cut = postgres.sql(&format!(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE application_name LIKE 'host-{pid}-%'"
            ));
            eprintln!("  connections cut: {}", cut.trim());
            hosts[victim] = Some(service);
        } else {
            service.kill();
        }
        // Each affected desk is served again: the time to its first acknowledgment.
        let probes: Vec<_> = affected
            .iter()
            .map(|d| {
                let shared = shared.clone();
                let d = d.clone();
                let id = format!("probe-{fault}-{d}");
                thread::spawn(move || {
                    let http = client(Duration::from_millis(1000));
                    for attempt in 0.. {
                        let id = format!("{id}-{attempt}");
                        if let Some(ack) =
                            shared.record(shared.arrive(&http, &d, &id, Duration::from_secs(10)))
                        {
                            return Some(ack.at.duration_since(t0));
                        }
                        if t0.elapsed() > Duration::from_secs(60) {
                            break;
                        }
                    }
                    None
                })
            })
            .collect();
        let times: Vec<f64> = probes
            .into_iter()
            .map(|p| {
                p.join()
                    .expect("a probe does not panic")
                    .expect("the desk is served again within a minute")
                    .as_secs_f64()
            })
            .collect();
        let worst = times.iter().copied().fold(0.0, f64::max);
        eprintln!(
            "fault {fault}: {} host {victim} ({} desks): served again within {worst:.2} s",
            if pause {
                "SIGSTOP"
            } else if cut {
                "connections cut on"
            } else {
                "kill -9"
            },
            affected.len()
        );
        failovers.extend(&times);
        moved.extend(affected.iter().cloned());
        if pause {
            // SAFETY: as above.
            unsafe { libc::kill(pid, libc::SIGCONT) };
            shared.addrs.write().unwrap().push(victim_addr.clone());
            for (k, answer) in stale.into_iter().enumerate() {
                let answer = answer.join().expect("no panic");
                if let Ok(reply) = answer {
                    assert_ne!(
                        reply.status, 200,
                        "stale-{fault}-{k}: a writer resumed after its lease committed: {}",
                        reply.body
                    );
                    eprintln!(
                        "  to the paused writer, once resumed: {} {}",
                        reply.status,
                        reply.body.chars().take(120).collect::<String>()
                    );
                }
            }
        } else if !cut {
            let n = spawned;
            spawned += 1;
            let service = start_host(&dir, n, &url);
            shared.addrs.write().unwrap().push(service.addr.clone());
            hosts[victim] = Some(service);
        }
    }
    stop.store(true, Ordering::Relaxed);
    for client in load {
        client.join().expect("a client does not panic");
    }

    // The journal: each desk's entries are 1..=n, each once (the key is (desk, seq)).
    let rows = postgres.sql("SELECT desk, count(*), min(seq), max(seq) FROM journal GROUP BY desk");
    let mut entries = 0u64;
    for line in rows.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!((f[1], f[2]), (f[3], "1"), "desk {}: entries {line}", f[0]);
        entries += f[1].parse::<u64>().expect("a count");
    }
    assert_eq!(rows.lines().count(), size.desks);
    // Every acknowledged command is there under its seq.
    let logged: HashMap<(String, u64), (String, String)> = postgres
        .sql(
            "SELECT desk, seq, command::json->>'type',
                    coalesce(command::json->>'conversation', command::json->'conversations'->>0, '')
             FROM journal",
        )
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            let seq = f[1].parse().expect("a seq");
            ((f[0].to_owned(), seq), (f[2].to_owned(), f[3].to_owned()))
        })
        .collect();
    let acks = shared.acks.lock().unwrap().clone();
    for ack in &acks {
        let found = logged.get(&(ack.desk.clone(), ack.seq));
        assert_eq!(
            found.map(|(t, c)| (t.as_str(), c.as_str())),
            Some((
                ack.kind,
                if ack.kind == "VisitorArrives" || ack.kind == "EndConversations" {
                    ack.conversation.as_str()
                } else {
                    ""
                }
            )),
            "acknowledged {ack:?}"
        );
    }
    // Nothing sent to a paused writer is in the journal.
    for id in &stale_ids {
        assert!(
            !logged.values().any(|(_, c)| c == id),
            "{id}, sent to a paused writer, was journaled"
        );
    }
    // The engines: each desk's owner counts exactly the arrivals its journal holds, and holds
    // every acknowledged arrival of the desks that moved.
    let http = client(Duration::from_secs(30));
    let mut arrivals: HashMap<&str, u64> = HashMap::new();
    for ((d, _), (kind, _)) in &logged {
        if kind == "VisitorArrives" {
            *arrivals.entry(d.as_str()).or_default() += 1;
        }
    }
    let get = |path: &str| -> Value {
        let desk = path.split('/').nth(2).expect("a desk path").to_owned();
        wait_for(Duration::from_secs(30), "the desk to answer", || {
            let addr = shared.owners.lock().unwrap().get(&desk).cloned();
            let addr = addr.unwrap_or_else(|| shared.any_addr());
            let reply = request_on(&http, &addr, "GET", path, None).ok()?;
            match reply.status {
                200 => Some(reply.json()),
                307 => {
                    let owner = reply.json()["owner"].as_str()?.to_owned();
                    shared.owners.lock().unwrap().insert(desk.clone(), owner);
                    None
                }
                _ => None,
            }
        })
    };
    for i in 0..size.desks {
        let d = desk(i);
        let state = get(&format!("/desks/{d}/state"));
        assert_eq!(
            state["counters"]["arrived"].as_u64(),
            Some(arrivals.get(d.as_str()).copied().unwrap_or(0)),
            "desk {d}: {state}"
        );
    }
    for ack in acks
        .iter()
        .filter(|a| a.kind == "VisitorArrives" && moved.contains(&a.desk))
        .take(1500)
    {
        let view = get(&format!(
            "/desks/{}/conversations/{}",
            ack.desk, ack.conversation
        ));
        assert_eq!(
            view["id"].as_str(),
            Some(ack.conversation.as_str()),
            "{view}"
        );
    }

    let max = failovers.iter().copied().fold(0.0, f64::max);
    let median = median(&mut failovers);
    eprintln!(
        "{} acknowledged, {entries} journal entries; fail-over over {} desks: median {median:.2} s, max {max:.2} s; {:.0} s in all",
        acks.len(),
        failovers.len(),
        started.elapsed().as_secs_f64()
    );
    drop(hosts);
}

//! The connection loop: accepts TCP connections and serves HTTP/1.1 on them with the router,
//! within limits that keep a flood of idle or slow connections from shutting real clients out
//! (R-HS2).
//!
//! - **Header-read timeout.** A connection must send a complete request head within
//!   `header_timeout` of opening, and of its previous answer when it is kept alive; hyper
//!   closes it otherwise. That bounds both slow headers (slowloris) and idle keep-alive
//!   connections.
//! - **Connection cap.** At most `max_connections` are open at once, kept below the process's
//!   file-descriptor limit. When a new connection would pass the cap, the connection that has
//!   been idle longest (no request in flight: it has not finished sending a request head, or it
//!   waits between requests) is closed to make room. Only when every open connection has a
//!   request in flight does the loop stop accepting until one finishes; the kernel's backlog
//!   holds the newcomers meanwhile. So idle connections cannot keep a real request out.
//! - **Graceful shutdown.** When `shutdown` resolves, the loop stops accepting, asks every
//!   connection to finish the request it is serving and close, and waits up to `grace` for
//!   them.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tower_service::Service as _;

use crate::metrics::Metrics;

/// The limits the loop enforces.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Most connections open at once.
    pub max_connections: usize,
    /// How long a connection may take to send a request head (also the keep-alive idle time).
    pub header_timeout: Duration,
    /// How long shutdown waits for requests in flight.
    pub grace: Duration,
}

/// One open connection, as the loop sees it.
struct Conn {
    /// Requests in flight, counting a response until its body is sent (an event stream stays in
    /// flight while it is open).
    active: AtomicUsize,
    /// When it last became idle (milliseconds since the loop started).
    idle_since: AtomicU64,
    /// Asks the connection to close once idle.
    close: Notify,
    /// Asked to close already.
    closing: AtomicBool,
}

/// Every open connection, by number.
#[derive(Default)]
struct Registry {
    open: Mutex<HashMap<u64, Arc<Conn>>>,
    /// Signalled when a connection closes or becomes idle: the loop may accept again.
    freed: Notify,
}

impl Registry {
    fn len(&self) -> usize {
        self.open
            .lock()
            .expect("the registry lock is never poisoned")
            .len()
    }

    /// Asks the connection idle longest to close; false if none is idle.
    fn evict_idle(&self) -> bool {
        let open = self
            .open
            .lock()
            .expect("the registry lock is never poisoned");
        let oldest = open
            .values()
            .filter(|c| c.active.load(Ordering::Acquire) == 0 && !c.closing.load(Ordering::Acquire))
            .min_by_key(|c| c.idle_since.load(Ordering::Acquire));
        match oldest {
            Some(conn) => {
                conn.closing.store(true, Ordering::Release);
                conn.close.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
) {
    let registry = Arc::new(Registry::default());
    let epoch = Instant::now();
    let (stop_tx, stop) = watch::channel(false);
    let mut next_id = 0u64;
    let mut shutdown = std::pin::pin!(shutdown);
    // Connections asked to close but not yet gone still hold their descriptors; count them.
    let evicting = Arc::new(AtomicUsize::new(0));
    loop {
        // Make room first: over the cap, close the idlest connection, or wait for one to free.
        while registry.len() >= limits.max_connections {
            let pending = evicting.load(Ordering::Acquire);
            if registry.len().saturating_sub(pending) >= limits.max_connections
                && registry.evict_idle()
            {
                evicting.fetch_add(1, Ordering::AcqRel);
            }
            tokio::select! {
                () = registry.freed.notified() => {}
                () = tokio::time::sleep(Duration::from_millis(50)) => {}
                () = &mut shutdown => return drain(registry, stop_tx, limits.grace).await,
            }
        }
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors or a connection reset before accept: back off briefly.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return drain(registry, stop_tx, limits.grace).await,
        };
        let _ = stream.set_nodelay(true);
        next_id += 1;
        let id = next_id;
        let conn = Arc::new(Conn {
            active: AtomicUsize::new(0),
            idle_since: AtomicU64::new(millis(epoch)),
            close: Notify::new(),
            closing: AtomicBool::new(false),
        });
        registry
            .open
            .lock()
            .expect("the registry lock is never poisoned")
            .insert(id, conn.clone());
        metrics.open_connections.inc();
        let metrics = metrics.clone();
        let registry = registry.clone();
        let router = router.clone();
        let mut stop = stop.clone();
        let header_timeout = limits.header_timeout;
        let evicting = evicting.clone();
        tokio::spawn(async move {
            let tracked = conn.clone();
            let counted = metrics.clone();
            let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let guard = Active::start(tracked.clone(), epoch, counted.clone());
                let mut router = router.clone();
                async move {
                    let response = router.call(request).await?;
                    Ok::<_, std::convert::Infallible>(response.map(|body| {
                        Body::new(Tracked {
                            body,
                            _guard: guard,
                        })
                    }))
                }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(true);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            let mut closing = false;
            let mut evicted = false;
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(error) = result {
                            tracing::debug!(%peer, %error, "connection ended");
                        }
                        break;
                    }
                    () = conn.close.notified(), if !closing => {
                        evicted = true;
                        if conn.active.load(Ordering::Acquire) == 0 {
                            // Idle, or part-way through a request head: hyper's graceful
                            // shutdown would wait for that head; close it now.
                            break;
                        }
                        closing = true;
                        connection.as_mut().graceful_shutdown();
                    }
                    _ = stop.changed(), if !closing => {
                        closing = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            registry
                .open
                .lock()
                .expect("the registry lock is never poisoned")
                .remove(&id);
            metrics.open_connections.dec();
            if evicted {
                evicting.fetch_sub(1, Ordering::AcqRel);
            }
            registry.freed.notify_one();
        });
    }
}

/// Asks every connection to finish and close; waits for them up to `grace`.
async fn drain(registry: Arc<Registry>, stop: watch::Sender<bool>, grace: Duration) {
    let _ = stop.send(true);
    let deadline = Instant::now() + grace;
    while registry.len() > 0 && Instant::now() < deadline {
        tokio::select! {
            () = registry.freed.notified() => {}
            () = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
    let left = registry.len();
    if left > 0 {
        tracing::warn!(
            connections = left,
            "closing connections still busy after the grace period"
        );
    }
}

fn millis(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// A request in flight on a connection, until its response body is dropped.
struct Active {
    conn: Arc<Conn>,
    epoch: Instant,
    metrics: Arc<Metrics>,
}

impl Active {
    fn start(conn: Arc<Conn>, epoch: Instant, metrics: Arc<Metrics>) -> Active {
        conn.active.fetch_add(1, Ordering::AcqRel);
        metrics.requests_in_flight.inc();
        Active {
            conn,
            epoch,
            metrics,
        }
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.conn
            .idle_since
            .store(millis(self.epoch), Ordering::Release);
        self.conn.active.fetch_sub(1, Ordering::AcqRel);
        self.metrics.requests_in_flight.dec();
    }
}

/// A response body that keeps its request counted as in flight until it is sent.
struct Tracked {
    body: Body,
    _guard: Active,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The most connections this process can hold: its file-descriptor limit, raised to the hard
/// limit first, less a margin for the database, the log and the runtime.
pub fn descriptor_budget() -> usize {
    const MARGIN: u64 = 64;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed by reference.
    let soft = unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024 - MARGIN as usize;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = limit.rlim_max;
            }
        }
        limit.rlim_cur
    };
    usize::try_from(soft.saturating_sub(MARGIN).max(16)).unwrap_or(usize::MAX)
}

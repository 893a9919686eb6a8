//! Who may do what (R-HS2): every request passes these checks before a handler sees it.
//!
//! 1. **Host.** The `Host` header must name one of the allowed hosts (by default the loopback
//!    names and the address the service is bound to). A DNS-rebinding page, whose requests
//!    carry its own host name, is refused (421). The probes `GET /healthz` and `GET /readyz`
//!    skip every check: an orchestrator calls them by address, and they tell nothing else.
//! 2. **Origin.** A browser says which page sent a request. When the header is present it must
//!    be the service's own origin (the scheme and the `Host` the request came to) or one of the
//!    allowed origins; `null` (a `file://` page, a sandboxed frame) and every other site are
//!    refused (403). Requests without `Origin` (curl, scripts, servers) pass this check.
//! 3. **Token.** When a token is configured, every route but `/healthz` and `/readyz` needs
//!    `Authorization: Bearer <token>` (401 otherwise). A browser cannot add that header to a
//!    page it navigates to, so `GET /?token=<token>` sets it as an `HttpOnly`, `SameSite=Strict`
//!    cookie and redirects to `/`; the cookie then admits the page, its queries and its event
//!    stream: `GET` requests only, never a command.
//! 4. **JSON bodies.** A request with a body must say `Content-Type: application/json` (415
//!    otherwise), so that no HTML form can post to it. The body limit (413) is axum's
//!    `DefaultBodyLimit`, set in the router.
//! 5. **Time.** Every request but the event stream must be answered within the request timeout
//!    (408 otherwise). A command that times out may still be committed: as with a dropped
//!    connection, the client reads `/state` or the event stream to know.
//!
//! A refused request never reaches the writer: nothing is journaled for it.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The name of the cookie that carries the token for the page.
const COOKIE: &str = "switchboard_token";

/// What the checks compare against.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Host names (without port, lower case) that may appear in `Host`.
    pub hosts: Vec<String>,
    /// Origins (`scheme://host[:port]`, lower case) allowed besides the service's own.
    pub origins: Vec<String>,
    /// The bearer token, when one is required.
    pub token: Option<String>,
    /// The longest a request but the event stream may take.
    pub request_timeout: Duration,
}

impl Policy {
    /// The host name of a `Host` header or of an origin's authority: `[::1]:8080` → `[::1]`,
    /// `localhost:8080` → `localhost`.
    fn host_name(authority: &str) -> &str {
        if authority.starts_with('[') {
            return authority
                .find(']')
                .map_or(authority, |end| &authority[..=end]);
        }
        authority.split(':').next().unwrap_or(authority)
    }

    fn host_allowed(&self, host: &str) -> bool {
        let name = Self::host_name(host).to_ascii_lowercase();
        self.hosts.contains(&name)
    }

    /// Whether a request to `host` may come from a page at `origin`.
    fn origin_allowed(&self, origin: &str, host: &str) -> bool {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        if self.origins.contains(&origin) {
            return true;
        }
        // The page the service itself serves: same host and port, over http or https.
        let host = host.to_ascii_lowercase();
        ["http://", "https://"]
            .iter()
            .any(|scheme| origin.strip_prefix(scheme) == Some(host.as_str()))
    }

    /// Whether the request carries the token: in `Authorization`, or (for `GET`) the cookie.
    fn authorized(&self, method: &Method, headers: &HeaderMap) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if bearer.is_some_and(|given| same(given.trim(), token)) {
            return true;
        }
        if method == Method::GET || method == Method::HEAD {
            return cookie(headers).is_some_and(|given| same(&given, token));
        }
        false
    }
}

/// The middleware: the checks above, in that order, then the handler within the timeout.
pub async fn check(State(policy): State<Arc<Policy>>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .unwrap_or("")
        .to_owned();
    // The probes answer whoever asks (an orchestrator uses the pod's address as `Host`) and
    // reveal nothing but whether the service is up.
    let open = matches!(path.as_str(), "/healthz" | "/readyz");
    if open && method == Method::GET {
        return next.run(request).await;
    }
    if !policy.host_allowed(&host) {
        return refuse(
            StatusCode::MISDIRECTED_REQUEST,
            format!("this service does not answer for the host `{host}` (see --allowed-host)"),
        );
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("null");
        if !policy.origin_allowed(origin, &host) {
            return refuse(
                StatusCode::FORBIDDEN,
                format!(
                    "requests from the origin `{origin}` are not allowed (see --allowed-origin)"
                ),
            );
        }
    }
    if !policy.authorized(&method, headers) {
        // The page's own way in: `/?token=...` sets the cookie.
        if method == Method::GET
            && path == "/"
            && let Some(given) = query_token(request.uri().query())
            && policy.token.as_deref().is_some_and(|t| same(&given, t))
        {
            return (
                StatusCode::SEE_OTHER,
                [
                    (header::LOCATION, "/".to_owned()),
                    (
                        header::SET_COOKIE,
                        format!("{COOKIE}={given}; HttpOnly; SameSite=Strict; Path=/"),
                    ),
                ],
            )
                .into_response();
        }
        let mut response = refuse(
            StatusCode::UNAUTHORIZED,
            "a bearer token is required: `Authorization: Bearer <token>` (the page: open /?token=<token>)"
                .into(),
        );
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        return response;
    }
    if has_body(headers) && !is_json(headers) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "a request body must be JSON, sent with `Content-Type: application/json`".into(),
        );
    }
    if path == "/events" {
        return next.run(request).await;
    }
    match tokio::time::timeout(policy.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => refuse(
            StatusCode::REQUEST_TIMEOUT,
            "not answered within the request timeout; a command may still have been committed"
                .into(),
        ),
    }
}

fn refuse(status: StatusCode, message: String) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

fn has_body(headers: &HeaderMap) -> bool {
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match length {
        Some(length) => length > 0,
        None => headers.contains_key(header::TRANSFER_ENCODING),
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE).then(|| value.to_owned())
        })
}

fn query_token(query: Option<&str>) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name == "token").then(|| value.to_owned())
    })
}

/// Compares in time that depends on the lengths only, not on where they first differ.
fn same(given: &str, token: &str) -> bool {
    let (a, b) = (given.as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            hosts: vec!["localhost".into(), "127.0.0.1".into(), "[::1]".into()],
            origins: vec!["https://desk.example.com".into()],
            token: Some("s3cret".into()),
            request_timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn hosts_are_compared_by_name_without_port() {
        let p = policy();
        assert!(p.host_allowed("127.0.0.1:8080"));
        assert!(p.host_allowed("LOCALHOST:1"));
        assert!(p.host_allowed("[::1]:8080"));
        assert!(!p.host_allowed("evil.example:8080"));
        assert!(!p.host_allowed("127.0.0.1.evil.example"));
        assert!(!p.host_allowed(""));
    }

    #[test]
    fn origins_are_the_page_itself_or_listed() {
        let p = policy();
        assert!(p.origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(p.origin_allowed("https://desk.example.com", "127.0.0.1:8080"));
        assert!(!p.origin_allowed("null", "127.0.0.1:8080"));
        assert!(!p.origin_allowed("http://127.0.0.1:9999", "127.0.0.1:8080"));
        assert!(!p.origin_allowed("http://evil.example", "127.0.0.1:8080"));
    }

    #[test]
    fn the_token_is_compared_whole() {
        assert!(same("s3cret", "s3cret"));
        assert!(!same("s3cre", "s3cret"));
        assert!(!same("s3creT", "s3cret"));
        assert_eq!(query_token(Some("a=1&token=xyz")), Some("xyz".into()));
    }
}

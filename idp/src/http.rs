//! HTTP plumbing shared by pages and endpoints: cookies, security headers, client IP.

use axum::http::{header, HeaderMap, HeaderValue};

/// The value of cookie `name`, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, `Secure` when `secure`.
pub fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age: i64,
    secure: bool,
) -> Option<HeaderValue> {
    let mut s = format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax");
    if secure {
        s.push_str("; Secure");
    }
    HeaderValue::from_str(&s).ok()
}

/// Lets every request that is ready compute its answer before any answer is written.
///
/// Under load one runtime thread answers the requests of many connections, each in turn,
/// and writing an answer into a socket wakes the peer that waits on it: on loopback and in
/// a virtual machine that wake-up (an interrupt to the peer's core) is paid by the writer,
/// about a tenth of a token grant's CPU. Yielding once before the answer goes back to hyper
/// puts it behind the requests already queued, so the answers of one batch leave together
/// and a peer that is being woken is not woken again. The idea is Netty's
/// `FlushConsolidationHandler`. A request that finds nothing else queued loses one trip
/// through the scheduler; the delay under load is bounded by the batch (the runtime polls
/// for I/O at least every 61 tasks).
pub async fn after_queued<F: std::future::Future>(answer: F) -> F::Output {
    let r = answer.await;
    tokio::task::yield_now().await;
    r
}

/// Adds the security headers every response carries (a handler may set its own CSP first).
/// One plain function over the response, run by a single `MapResponseLayer` in the router's
/// layer stack: a tower layer per header cost a boxed service clone and a future per header
/// on every request, which showed on the token endpoint's profile.
pub fn security_headers(mut r: axum::response::Response, secure: bool) -> axum::response::Response {
    let h = r.headers_mut();
    // Room for the headers below at once: the map would otherwise grow, and rehash, up to
    // twice per response.
    h.reserve(7);
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
            ),
        );
    }
    // A handler may relax it to SAMEORIGIN (document previews framed by our own pages).
    if !h.contains_key(header::X_FRAME_OPTIONS) {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        axum::http::HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if secure {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    r
}

/// A JSON answer that must not be cached (token-bearing or personal data).
pub fn json_no_store(v: &impl serde::Serialize) -> axum::response::Response {
    use axum::response::IntoResponse;
    // Sized for a token response: growing from serde_json's default 128 bytes reallocates
    // three times for one.
    let mut body = Vec::with_capacity(1024);
    if serde_json::to_writer(&mut body, v).is_err() {
        body.clear();
    }
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The client's address: the peer, or — when the peer is a trusted proxy — the last address
/// that proxy appended to `X-Forwarded-For` (RFC 7239 §5.2 reasoning: only the entry our
/// own proxy wrote can be believed).
pub fn client_ip(
    peer: std::net::SocketAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[std::net::IpAddr],
) -> std::net::IpAddr {
    if !trusted.contains(&peer.ip()) {
        return peer.ip();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<std::net::IpAddr>().ok())
        .next_back()
        .unwrap_or(peer.ip())
}

/// The signer's per-client limits counted in the shared cache (fixed windows, so every node
/// counts together), keyed by the client address as [`client_ip`] finds it.
pub struct CacheLimiter {
    cache: std::sync::Arc<dyn crate::cache::Cache>,
    trusted: Vec<std::net::IpAddr>,
}

impl CacheLimiter {
    /// Counts in `cache`; `trusted` are the proxies whose `X-Forwarded-For` is believed.
    pub fn new(
        cache: std::sync::Arc<dyn crate::cache::Cache>,
        trusted: Vec<std::net::IpAddr>,
    ) -> Self {
        CacheLimiter { cache, trusted }
    }
}

#[async_trait::async_trait]
impl signer::RateLimiter for CacheLimiter {
    async fn allow(
        &self,
        bucket: &str,
        limit: u64,
        window: std::time::Duration,
        peer: std::net::SocketAddr,
        headers: &axum::http::HeaderMap,
    ) -> Result<bool, String> {
        let ip = client_ip(peer, headers, &self.trusted);
        self.cache
            .incr(&format!("rl:{bucket}:{ip}"), window)
            .await
            .map(|n| n <= limit)
            .map_err(|e| e.to_string())
    }

    async fn first_use(&self, key: &str, ttl: std::time::Duration) -> Result<bool, String> {
        self.cache
            .put_if_absent(&format!("signer:{key}"), b"1", ttl)
            .await
            .map_err(|e| e.to_string())
    }
}

/// What a flow's form handler takes, as one extractor: the state, the peer's address (which
/// [`client_ip`] reads the client's from), the flow id (the path's one parameter), the
/// headers and the form body (within the route's body limit). Each such handler listed these
/// five extractors before.
pub struct FormPost(
    pub crate::app::AppState,
    pub std::net::SocketAddr,
    pub String,
    pub HeaderMap,
    pub axum::body::Bytes,
);

impl axum::extract::FromRequest<crate::app::AppState> for FormPost {
    type Rejection = axum::response::Response;
    async fn from_request(
        req: axum::extract::Request,
        app: &crate::app::AppState,
    ) -> Result<Self, Self::Rejection> {
        use axum::extract::{ConnectInfo, FromRequestParts, Path};
        use axum::response::IntoResponse;
        let (mut parts, body) = req.into_parts();
        let ConnectInfo(peer) =
            ConnectInfo::<std::net::SocketAddr>::from_request_parts(&mut parts, app)
                .await
                .map_err(IntoResponse::into_response)?;
        let Path(id) = Path::<String>::from_request_parts(&mut parts, app)
            .await
            .map_err(IntoResponse::into_response)?;
        let headers = parts.headers.clone();
        let req = axum::extract::Request::from_parts(parts, body);
        let body = <axum::body::Bytes as axum::extract::FromRequest<_>>::from_request(req, app)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(FormPost(app.clone(), peer, id, headers, body))
    }
}

#[cfg(test)]
mod tests {
    use super::{after_queued, client_ip};
    use axum::http::HeaderMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[tokio::test(flavor = "current_thread")]
    async fn an_answer_waits_for_the_requests_already_queued() {
        // Three "requests" queued on the one thread; the answer computed first is handed
        // back only after all of them have run, and it is the answer itself.
        let ran = Arc::new(AtomicUsize::new(0));
        for _ in 0..3 {
            let ran = ran.clone();
            tokio::spawn(async move {
                ran.fetch_add(1, Ordering::SeqCst);
            });
        }
        let answer = after_queued(async { ran.load(Ordering::SeqCst) + 100 }).await;
        assert_eq!(answer, 100, "the answer was computed before the others ran");
        assert_eq!(ran.load(Ordering::SeqCst), 3, "the answer came back first");
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7".parse().unwrap(),
        );
        let proxy: std::net::SocketAddr = "10.0.0.1:4000".parse().unwrap();
        let stranger: std::net::SocketAddr = "192.0.2.1:4000".parse().unwrap();
        let trusted = ["10.0.0.1".parse().unwrap()];
        assert_eq!(client_ip(proxy, &h, &trusted).to_string(), "198.51.100.7");
        assert_eq!(client_ip(stranger, &h, &trusted).to_string(), "192.0.2.1");
        assert_eq!(
            client_ip(proxy, &HeaderMap::new(), &trusted).to_string(),
            "10.0.0.1"
        );
    }
}

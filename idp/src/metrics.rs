//! Prometheus metrics (`GET /metrics`, text exposition format 0.0.4): a few process-wide
//! counters, kept as atomics so recording them costs nothing measurable.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Password checks done (argon2id verifications, dummy ones for unknown logins included).
pub static PASSWORD_CHECKS: AtomicU64 = AtomicU64::new(0);
/// CPU time those checks took, nanoseconds (thread CPU time of the hashing thread).
pub static PASSWORD_CHECK_CPU_NS: AtomicU64 = AtomicU64::new(0);
/// Tokens issued by the token endpoint.
pub static TOKEN_RESPONSES: AtomicU64 = AtomicU64::new(0);
/// Authorization codes issued.
pub static CODES_ISSUED: AtomicU64 = AtomicU64::new(0);

/// Adds one password check that took `cpu`.
pub fn password_checked(cpu: std::time::Duration) {
    PASSWORD_CHECKS.fetch_add(1, Ordering::Relaxed);
    PASSWORD_CHECK_CPU_NS.fetch_add(cpu.as_nanos() as u64, Ordering::Relaxed);
}

fn counter(out: &mut String, name: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
    );
}

/// `GET /metrics`.
pub async fn metrics() -> Response {
    let mut out = String::with_capacity(512);
    let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
    counter(
        &mut out,
        "vhod_password_checks_total",
        "Password checks (argon2id) done.",
        load(&PASSWORD_CHECKS),
    );
    counter(
        &mut out,
        "vhod_password_check_cpu_seconds_total",
        "CPU time spent checking passwords.",
        load(&PASSWORD_CHECK_CPU_NS) as f64 / 1e9,
    );
    counter(
        &mut out,
        "vhod_token_responses_total",
        "Successful token endpoint responses.",
        load(&TOKEN_RESPONSES),
    );
    counter(
        &mut out,
        "vhod_authorization_codes_total",
        "Authorization codes issued.",
        load(&CODES_ISSUED),
    );
    let mut r = out.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

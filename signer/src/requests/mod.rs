//! Signing requests: a relying party uploads documents for one citizen to sign
//! (`/api/signer/v1/`, this module's HTTP side), the citizen confirms them on vhod's account
//! pages (rendered by the IdP, which calls [`Signer::sign_request`] and its siblings here), and
//! the relying party fetches the signatures.
//!
//! Rules kept here, whoever calls:
//! - a request belongs to one client (its creator, the only one who may read it) and to one
//!   account (the only one who may see, sign or decline it);
//! - it is signed or declined once, and not at all once expired;
//! - signing confirms exactly the stored set of documents: the caller passes the set digest the
//!   citizen confirmed, and it is compared with the one derived from storage.

mod auth;
mod create;
mod detect;
mod expiry;
mod openapi;
mod read;
mod signing;
mod store;
mod tsa;
mod webhook;
pub mod webhook_net;

pub use detect::DocType;
pub use read::{content_disposition, content_disposition_as};
pub use signing::SignError;
pub use store::{DocumentInfo, RequestInfo, Status};
pub use webhook::{WebhookSettings, WEBHOOK_JWT_TYPE};

use crate::Signer;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Where the API lives.
pub const API_BASE: &str = "/api/signer/v1";
/// Largest document accepted.
pub const MAX_DOCUMENT: usize = 10 * 1024 * 1024;
/// Most documents in one request.
pub const MAX_DOCUMENTS: usize = 20;
/// How long a request waits for the citizen unless the client says otherwise.
pub const DEFAULT_EXPIRES_IN: i64 = 24 * 3600;
/// Longest wait a client may ask for (30 days).
pub const MAX_EXPIRES_IN: i64 = 30 * 24 * 3600;

/// Every API route (paths are what the OpenAPI document lists; a test checks both agree).
pub const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/signer/v1/requests"),
    ("get", "/api/signer/v1/requests/{id}"),
    (
        "get",
        "/api/signer/v1/requests/{id}/documents/{n}/signature",
    ),
    ("get", "/api/signer/v1/openapi.json"),
];

pub(crate) fn routes() -> Router<Arc<Signer>> {
    // The multipart body holds up to twenty documents; each is checked against MAX_DOCUMENT
    // as it streams in, so this is only the outer bound.
    let body_limit = MAX_DOCUMENTS * (MAX_DOCUMENT + 64 * 1024) + 1024 * 1024;
    Router::new()
        .route(
            ROUTES[0].1,
            post(create::create).layer(DefaultBodyLimit::max(body_limit)),
        )
        .route(ROUTES[1].1, get(read::status))
        .route(ROUTES[2].1, get(read::signature))
        .route(ROUTES[3].1, get(openapi::document))
}

/// The signature format a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    /// CAdES, the CMS kept apart from the document (`.p7s`).
    #[serde(rename = "cades-detached")]
    CadesDetached,
    /// CAdES, the document inside the CMS (`.p7m`).
    #[serde(rename = "cades-attached")]
    CadesAttached,
    /// PAdES: the signature inside the PDF.
    #[serde(rename = "pades")]
    Pades,
}

impl Format {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::CadesDetached => "cades-detached",
            Format::CadesAttached => "cades-attached",
            Format::Pades => "pades",
        }
    }

    fn parse(s: &str) -> Option<Format> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }

    /// The media type and file-name suffix of a signature in this format.
    pub fn signature_type(self) -> (&'static str, &'static str) {
        match self {
            Format::CadesDetached => ("application/pkcs7-signature", ".p7s"),
            Format::CadesAttached => ("application/pkcs7-mime", ".p7m"),
            Format::Pades => ("application/pdf", ""),
        }
    }
}

/// The baseline level a request asks for (ETSI EN 319 122-1 / 319 142-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Level {
    /// Basic signature.
    #[serde(rename = "B-B")]
    BB,
    /// With a signature time-stamp from vhod's TSA.
    #[serde(rename = "B-T")]
    BT,
}

impl Level {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::BB => "B-B",
            Level::BT => "B-T",
        }
    }

    fn parse(s: &str) -> Option<Level> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The set digest of documents with these SHA-256 hashes (lower-case hex): SHA-256 over the
/// raw hashes in ascending order, as lower-case hex. Order-free, so it names the set.
pub fn set_digest<'a>(hashes: impl IntoIterator<Item = &'a str>) -> String {
    let mut sorted: Vec<&str> = hashes.into_iter().collect();
    sorted.sort_unstable();
    let mut h = Sha256::new();
    for s in sorted {
        for pair in s.as_bytes().chunks(2) {
            let byte = std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .unwrap_or(0);
            h.update([byte]);
        }
    }
    hex(&h.finalize())
}

#[cfg(test)]
mod tests;

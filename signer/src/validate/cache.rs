//! What one validation can reuse from the last: the parsed trust anchors and intermediates,
//! and the certificate links whose signatures already verified. Every entry is keyed by the
//! exact bytes it was computed from, so nothing can be served stale or for other input:
//! - the parsed certificates are reused only while the policy lists byte-for-byte the same
//!   DERs; an anchor removed (`vhod signer trust remove`) is gone from the next validation;
//! - a link is SHA-256(certificate DER, issuer DER) → verified; a certificate changed by one
//!   byte (a tampered copy with the same subject) is another key and is verified afresh;
//! - only links of a chain that reached a trust anchor are kept, and never a failed check,
//!   so certificates an uploaded signature brings cannot fill the cache with their own
//!   links; the set is also capped, and cleared when full.
//!
//! Thread-safe: the service validates concurrently with one cache. Locks are held only to
//! look up or insert, never across a verification.

use super::cms::CertEntry;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// How many verified links are remembered before the set is cleared.
const MAX_LINKS: usize = 4096;

/// Reused across validations; see the module documentation. Cheap to share (`Arc`).
#[derive(Default)]
pub struct ValidationCache {
    anchors: Mutex<Option<Parsed>>,
    intermediates: Mutex<Option<Parsed>>,
    links: Mutex<HashSet<[u8; 32]>>,
}

/// Certificates parsed from exactly `ders`.
struct Parsed {
    ders: Vec<Vec<u8>>,
    certs: Arc<Vec<CertEntry>>,
}

impl std::fmt::Debug for ValidationCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let links = self.links.lock().map(|l| l.len()).unwrap_or_default();
        f.debug_struct("ValidationCache")
            .field("links", &links)
            .finish_non_exhaustive()
    }
}

impl ValidationCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The trust anchors `ders` parsed (those that parse), reused while they are the same.
    pub(crate) fn anchors(&self, ders: &[Vec<u8>]) -> Arc<Vec<CertEntry>> {
        parsed(&self.anchors, ders)
    }

    /// The intermediates `ders` parsed, reused while they are the same.
    pub(crate) fn intermediates(&self, ders: &[Vec<u8>]) -> Arc<Vec<CertEntry>> {
        parsed(&self.intermediates, ders)
    }

    /// Whether `issuer`'s key was already found to sign `cert`.
    pub(crate) fn link_verified(&self, cert: &CertEntry, issuer: &CertEntry) -> bool {
        let key = link_key(cert, issuer);
        self.links.lock().is_ok_and(|links| links.contains(&key))
    }

    /// Remembers the links of `chain` (signer first, anchor last), each of which verified.
    pub(crate) fn remember_chain(&self, chain: &[&CertEntry]) {
        let keys: Vec<[u8; 32]> = chain.windows(2).map(|w| link_key(w[0], w[1])).collect();
        if let Ok(mut links) = self.links.lock() {
            if links.len() + keys.len() > MAX_LINKS {
                links.clear();
            }
            links.extend(keys);
        }
    }

    /// How many verified links are held (for tests of the bound).
    pub fn links_held(&self) -> usize {
        self.links.lock().map(|l| l.len()).unwrap_or_default()
    }
}

fn parsed(slot: &Mutex<Option<Parsed>>, ders: &[Vec<u8>]) -> Arc<Vec<CertEntry>> {
    if let Ok(guard) = slot.lock() {
        if let Some(p) = guard.as_ref().filter(|p| p.ders == ders) {
            return p.certs.clone();
        }
    }
    let certs: Arc<Vec<CertEntry>> = Arc::new(
        ders.iter()
            .filter_map(|d| CertEntry::from_der(d).ok())
            .collect(),
    );
    if let Ok(mut guard) = slot.lock() {
        *guard = Some(Parsed {
            ders: ders.to_vec(),
            certs: certs.clone(),
        });
    }
    certs
}

/// SHA-256 over both DERs, the first one's length first so that no split of the same bytes
/// gives the same key.
fn link_key(cert: &CertEntry, issuer: &CertEntry) -> [u8; 32] {
    let mut h = ring::digest::Context::new(&ring::digest::SHA256);
    h.update(&(cert.der.len() as u64).to_be_bytes());
    h.update(&cert.der);
    h.update(&issuer.der);
    let mut key = [0u8; 32];
    key.copy_from_slice(h.finish().as_ref());
    key
}

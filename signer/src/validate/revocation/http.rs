//! Revocation over the network: the CRL at the certificate's distribution point, else OCSP at
//! the responder its AIA names. Only `http://` (RFC 5280 §4.2.1.13 and RFC 6960 Appendix A
//! publish over plain HTTP: the answers are signed), a short timeout, no redirects, a size
//! limit, and CRLs cached by URL until their nextUpdate.
//!
//! One fetch per distribution point at a time: validations that need a CRL being fetched
//! wait for that fetch and share its result, so a burst of uploads signed under one CA
//! downloads its CRL once. A failed fetch is remembered for [`RETRY_AFTER_FAILURE`]: the
//! validations meanwhile answer "try later" at once instead of each waiting out the timeout
//! again. The CRLs held take at most [`MAX_HELD_BYTES`] (or what
//! [`HttpRevocation::with_max_held`] sets); past it, the cache starts over.

use super::crl::{self, VerifiedCrl};
use super::ocsp;
use super::{RevocationSource, RevocationStatus};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use x509_cert::name::Name;
use x509_cert::Certificate;

/// How long a failed fetch of a distribution point stands before the next one is tried.
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);

/// The most CRL bytes (DER) held at once, by default.
pub const MAX_HELD_BYTES: usize = 256 * 1024 * 1024;

/// What is known of one distribution point.
#[derive(Debug, Default)]
struct Point {
    crl: Option<Arc<VerifiedCrl>>,
    /// The DER size of `crl`.
    bytes: usize,
    /// When, for which issuer and why the last fetch failed, if it did.
    failed: Option<(Instant, Name, String)>,
}

/// Fetches CRLs and asks OCSP responders over plain HTTP.
///
/// The validator asks only about certificates of a chain already built to a trust anchor, so
/// the URLs fetched are ones a trusted CA wrote, never ones an uploaded signature chose.
#[derive(Debug)]
pub struct HttpRevocation {
    client: reqwest::Client,
    max_bytes: usize,
    max_held: usize,
    points: Mutex<Points>,
}

#[derive(Debug, Default)]
struct Points {
    by_url: HashMap<String, Arc<tokio::sync::Mutex<Point>>>,
    /// DER bytes of the CRLs held, as counted when each was stored.
    held: usize,
}

impl Default for HttpRevocation {
    fn default() -> Self {
        Self::new(Duration::from_secs(5), 10 * 1024 * 1024)
    }
}

impl HttpRevocation {
    /// A source whose requests give up after `timeout` and refuse answers over `max_bytes`.
    pub fn new(timeout: Duration, max_bytes: usize) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        HttpRevocation {
            client,
            max_bytes,
            max_held: MAX_HELD_BYTES,
            points: Mutex::new(Points::default()),
        }
    }

    /// The same, holding at most `bytes` of CRLs (DER) at once instead of [`MAX_HELD_BYTES`].
    pub fn with_max_held(mut self, bytes: usize) -> Self {
        self.max_held = bytes;
        self
    }

    async fn body(&self, response: reqwest::Response) -> Result<Vec<u8>, String> {
        let mut response = response
            .error_for_status()
            .map_err(|e| format!("the server answered {}", e.status().unwrap_or_default()))?;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(format!("the answer exceeds {} bytes", self.max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn point(&self, url: &str) -> Arc<tokio::sync::Mutex<Point>> {
        let mut points = self.points.lock().unwrap_or_else(|p| p.into_inner());
        points.by_url.entry(url.to_owned()).or_default().clone()
    }

    /// Counts `bytes` more held (and `freed` fewer); past the most held, every other point
    /// is forgotten (fetches under way finish and are counted afresh).
    fn hold(&self, url: &str, bytes: usize, freed: usize) {
        let mut points = self.points.lock().unwrap_or_else(|p| p.into_inner());
        points.held = points.held.saturating_sub(freed) + bytes;
        if points.held > self.max_held {
            points.by_url.retain(|u, _| u == url);
            points.held = bytes;
        }
    }

    async fn crl(
        &self,
        url: &str,
        issuer: &Certificate,
        now: SystemTime,
    ) -> Result<Arc<VerifiedCrl>, String> {
        let point = self.point(url);
        // Held across the fetch: whoever needs this CRL meanwhile waits for its result.
        let mut p = point.lock().await;
        if let Some(crl) = &p.crl {
            // Cached CRLs were verified against the issuer that named them; this request's
            // issuer must be the same CA.
            let fresh = crl.next_update().is_some_and(|next| next > now);
            if fresh && crl.list.tbs_cert_list.issuer == issuer.tbs_certificate.subject {
                return Ok(crl.clone());
            }
        }
        let subject = &issuer.tbs_certificate.subject;
        if let Some((at, whose, why)) = &p.failed {
            if at.elapsed() < RETRY_AFTER_FAILURE && whose == subject {
                return Err(format!("{why} (not tried again yet)"));
            }
        }
        match self.fetch_crl(url, issuer).await {
            Ok((crl, bytes)) => {
                let crl = Arc::new(crl);
                self.hold(url, bytes, p.bytes);
                *p = Point {
                    crl: Some(crl.clone()),
                    bytes,
                    failed: None,
                };
                Ok(crl)
            }
            Err(why) => {
                p.failed = Some((Instant::now(), subject.clone(), why.clone()));
                Err(why)
            }
        }
    }

    async fn fetch_crl(
        &self,
        url: &str,
        issuer: &Certificate,
    ) -> Result<(VerifiedCrl, usize), String> {
        let response = self.client.get(url).send().await.map_err(|e| causes(&e))?;
        let der = self.body(response).await?;
        Ok((crl::verify(&der, issuer)?, der.len()))
    }

    async fn ocsp(
        &self,
        url: &str,
        cert: &Certificate,
        issuer: &Certificate,
        now: SystemTime,
    ) -> Result<RevocationStatus, String> {
        let request = ocsp::request(cert, issuer)?;
        let response = self
            .client
            .post(url)
            .header("content-type", "application/ocsp-request")
            .body(request)
            .send()
            .await
            .map_err(|e| causes(&e))?;
        let der = self.body(response).await?;
        ocsp::status_from_response(&der, cert, issuer, now)
    }
}

/// An error with its sources, for the report ("error sending request" alone says little).
fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn is_http(url: &str) -> bool {
    url.get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
}

#[async_trait::async_trait]
impl RevocationSource for HttpRevocation {
    async fn status(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        now: SystemTime,
    ) -> RevocationStatus {
        let mut failures = Vec::new();
        let points = crl::distribution_points(cert);
        for url in points.iter().filter(|u| is_http(u)) {
            match self.crl(url, issuer, now).await {
                Ok(crl) => return crl.status_of(cert, now),
                Err(e) => failures.push(format!("CRL {url}: {e}")),
            }
        }
        if points.is_empty() {
            for url in ocsp::responders(cert).iter().filter(|u| is_http(u)) {
                match self.ocsp(url, cert, issuer, now).await {
                    Ok(status) => return status,
                    Err(e) => failures.push(format!("OCSP {url}: {e}")),
                }
            }
        }
        RevocationStatus::Unknown {
            why: if failures.is_empty() {
                "the certificate names no http CRL distribution point or OCSP responder".into()
            } else {
                failures.join("; ")
            },
        }
    }
}

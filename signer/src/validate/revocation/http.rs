//! Revocation over the network: the CRL at the certificate's distribution point, else OCSP at
//! the responder its AIA names. Only `http://` (RFC 5280 §4.2.1.13 and RFC 6960 Appendix A
//! publish over plain HTTP: the answers are signed), a short timeout, no redirects, a size
//! limit, and CRLs cached by URL until their nextUpdate.

use super::crl::{self, VerifiedCrl};
use super::ocsp;
use super::{RevocationSource, RevocationStatus};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use x509_cert::Certificate;

/// Fetches CRLs and asks OCSP responders over plain HTTP.
///
/// The validator asks only about certificates of a chain already built to a trust anchor, so
/// the URLs fetched are ones a trusted CA wrote, never ones an uploaded signature chose.
#[derive(Debug)]
pub struct HttpRevocation {
    client: reqwest::Client,
    max_bytes: usize,
    crls: Mutex<HashMap<String, Arc<VerifiedCrl>>>,
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
            crls: Mutex::new(HashMap::new()),
        }
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

    fn cached(&self, url: &str, now: SystemTime) -> Option<Arc<VerifiedCrl>> {
        let crls = self.crls.lock().ok()?;
        crls.get(url)
            .filter(|crl| crl.next_update().is_some_and(|next| next > now))
            .cloned()
    }

    async fn crl(
        &self,
        url: &str,
        issuer: &Certificate,
        now: SystemTime,
    ) -> Result<Arc<VerifiedCrl>, String> {
        if let Some(crl) = self.cached(url, now) {
            // Cached CRLs were verified against the issuer that named them; check again that
            // this request's issuer is the same CA.
            if crl.list.tbs_cert_list.issuer == issuer.tbs_certificate.subject {
                return Ok(crl);
            }
        }
        let response = self.client.get(url).send().await.map_err(|e| causes(&e))?;
        let der = self.body(response).await?;
        let crl = Arc::new(crl::verify(&der, issuer)?);
        if let Ok(mut crls) = self.crls.lock() {
            crls.insert(url.to_owned(), crl.clone());
        }
        Ok(crl)
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

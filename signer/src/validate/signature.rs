//! The validation of one signature, in EN 319 102-1 order: the SignerInfo's own checks
//! ([`signer_info`]), the signature timestamp as proof of existence (§5.4), the signer's key
//! usage, the chain to a trust anchor (§5.2.6), revocation of every certificate of the chain,
//! and the validity periods at the best signature time (the timestamp's, else the validation
//! time), with the POE rules of §5.2.6 and §5.6:
//! - revoked, no proof the signature came first: REVOKED_NO_POE (REVOKED_CA_NO_POE for a CA);
//!   a timestamp after the revocation: REVOKED; a timestamp before it: passes;
//! - out of its validity period at the validation time with no timestamp: OUT_OF_BOUNDS_NO_POE
//!   (OUT_OF_BOUNDS_NOT_REVOKED when revocation says good); a timestamp after notAfter:
//!   EXPIRED; a timestamp, or a claimed signing-time, before notBefore: NOT_YET_VALID.

use super::chain::{self, ChainError};
use super::cms::{CertEntry, SignedCms, SignerEntry};
use super::report::{rfc3339, CertSummary, Check, SignatureReport, SubIndication};
use super::revocation::{publishes_status, RevocationStatus};
use super::signer_info::{self, Covered};
use super::{tst, Ctx};
use crate::oids::ID_AA_SIGNATURE_TIME_STAMP_TOKEN;
use const_oid::db::rfc5911::ID_SIGNING_TIME;
use der::{Decode, Encode};
use std::time::SystemTime;
use x509_cert::ext::pkix::{KeyUsage, KeyUsages};
use x509_cert::time::Time;

pub(crate) async fn validate(
    entry: &SignerEntry,
    cms: &SignedCms<'_>,
    covered: Covered<'_>,
    ctx: &Ctx<'_>,
) -> SignatureReport {
    let policy = ctx.policy;
    let pool: Vec<CertEntry> = cms
        .certs
        .iter()
        .chain(ctx.intermediates.iter())
        .cloned()
        .collect();
    let outcome = signer_info::check(
        entry,
        &cms.econtent_type,
        covered,
        &pool,
        &policy.algorithms,
    );
    let mut checks = outcome.checks;
    let claimed = signer_info::signed_attr(entry, ID_SIGNING_TIME)
        .and_then(|v| Time::from_der(&v.to_der().ok()?).ok())
        .map(|t| t.to_system_time());

    let stamp = signature_timestamp(entry, &pool, ctx).await;
    let proof = stamp.as_ref().and_then(|s| s.proof.as_ref().ok().copied());
    match &stamp {
        None => {}
        Some(s) if s.proof.is_ok() => {
            checks.push(Check::passed("signature_timestamp", &s.report.detail))
        }
        Some(s) => checks.push(Check::warning(
            "signature_timestamp",
            format!("{}; it was ignored", s.report.detail),
        )),
    }
    let best_time = proof.unwrap_or(ctx.now);

    let mut report = SignatureReport::at(best_time);
    report.signer = outcome.cert.map(|c| CertSummary::of(&c.cert));
    report.claimed_signing_time = claimed.map(rfc3339);
    report.timestamp = stamp.map(|s| s.report);
    if let Some(signer) = outcome.cert {
        checks.push(key_usage(signer));
        match chain::build(signer, &pool, &ctx.anchors, &policy.cache) {
            None => checks.push(Check::failed(
                "certificate_chain",
                SubIndication::NoCertificateChainFound,
                "the signer's certificate does not chain to a trusted root",
            )),
            Some(chain) => {
                report.chain = chain.iter().map(|c| CertSummary::of(&c.cert)).collect();
                checks.push(match chain::check(&chain, &policy.algorithms) {
                    Ok(()) => Check::passed(
                        "certificate_chain",
                        format!(
                            "chains to the trusted {}",
                            report.chain.last().map_or("", |c| c.subject.as_str())
                        ),
                    ),
                    Err(ChainError::Constraints(why)) => Check::failed(
                        "certificate_chain",
                        SubIndication::ChainConstraintsFailure,
                        why,
                    ),
                    Err(ChainError::Crypto(why)) => Check::failed(
                        "certificate_chain",
                        SubIndication::CryptoConstraintsFailureNoPoe,
                        why,
                    ),
                });
                let signer_status = revocation(&chain, proof, ctx, &mut checks).await;
                checks.push(validity(&chain, proof, claimed, best_time, &signer_status));
            }
        }
    }
    report.checks = checks;
    report.conclude();
    report
}

/// The first id-aa-signatureTimeStampToken, checked over the signature value.
async fn signature_timestamp(
    entry: &SignerEntry,
    pool: &[CertEntry],
    ctx: &Ctx<'_>,
) -> Option<tst::Stamp> {
    let attr = entry
        .info
        .unsigned_attrs
        .as_ref()?
        .iter()
        .find(|a| a.oid == ID_AA_SIGNATURE_TIME_STAMP_TOKEN)?;
    let token = attr.values.get(0)?.to_der().ok()?;
    let signature: [&[u8]; 1] = [entry.info.signature.as_bytes()];
    Some(tst::check(&token, &signature, pool, ctx).await)
}

/// RFC 5280 §4.2.1.3: a signing certificate with keyUsage must allow digitalSignature or
/// nonRepudiation.
fn key_usage(signer: &CertEntry) -> Check {
    match signer.cert.tbs_certificate.get::<KeyUsage>() {
        Ok(Some((_, KeyUsage(usages))))
            if !usages.contains(KeyUsages::DigitalSignature)
                && !usages.contains(KeyUsages::NonRepudiation) =>
        {
            Check::failed(
                "key_usage",
                SubIndication::ChainConstraintsFailure,
                "the signer's certificate allows neither digitalSignature nor nonRepudiation",
            )
        }
        Ok(Some(_)) => Check::passed("key_usage", "the certificate allows signing"),
        Ok(None) => Check::warning(
            "key_usage",
            "the certificate does not restrict its key usage",
        ),
        Err(_) => Check::failed(
            "key_usage",
            SubIndication::FormatFailure,
            "the certificate's keyUsage is malformed",
        ),
    }
}

/// Asks the revocation source about every certificate below the anchor; pushes one check per
/// certificate and returns the signer's status.
async fn revocation(
    chain: &chain::Chain<'_>,
    proof: Option<SystemTime>,
    ctx: &Ctx<'_>,
    checks: &mut Vec<Check>,
) -> Option<RevocationStatus> {
    let mut signer_status = None;
    for (i, pair) in chain.windows(2).enumerate() {
        let (cert, issuer) = (&pair[0].cert, &pair[1].cert);
        let is_signer = i == 0;
        let name = if is_signer {
            "revocation"
        } else {
            "revocation_ca"
        };
        let who = cert.tbs_certificate.subject.to_string();
        let status = ctx.policy.revocation.status(cert, issuer, ctx.now).await;
        checks.push(match &status {
            RevocationStatus::Good => Check::passed(name, format!("{who} is not revoked")),
            RevocationStatus::Revoked { at, reason } => {
                let said = format!(
                    "{who} was revoked at {}{}",
                    rfc3339(*at),
                    reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                );
                match proof {
                    Some(p) if p < *at => Check::passed(
                        name,
                        format!("{said}, after the timestamp proves the signature existed"),
                    ),
                    Some(_) if is_signer => Check::failed(
                        name,
                        SubIndication::Revoked,
                        format!("{said}, before the timestamp of the signature"),
                    ),
                    _ => Check::failed(
                        name,
                        if is_signer {
                            SubIndication::RevokedNoPoe
                        } else {
                            SubIndication::RevokedCaNoPoe
                        },
                        format!("{said}, and nothing proves the signature was made before"),
                    ),
                }
            }
            RevocationStatus::Unknown { why } if publishes_status(cert) => Check::failed(
                name,
                SubIndication::TryLater,
                format!("the revocation status of {who} could not be obtained: {why}"),
            ),
            RevocationStatus::Unknown { why } => Check::warning(
                name,
                format!("{who} publishes no revocation status; not checked ({why})"),
            ),
        });
        if is_signer {
            signer_status = Some(status);
        }
    }
    signer_status
}

/// Validity periods of the chain below the anchor at `best_time`.
fn validity(
    chain: &chain::Chain<'_>,
    proof: Option<SystemTime>,
    claimed: Option<SystemTime>,
    best_time: SystemTime,
    signer_status: &Option<RevocationStatus>,
) -> Check {
    const NAME: &str = "validity_period";
    // Every certificate below the anchor; the signer's even when it is itself trusted.
    let below_anchor = chain.len().saturating_sub(1).max(1);
    for (i, entry) in chain.iter().take(below_anchor).enumerate() {
        let tbs = &entry.cert.tbs_certificate;
        let (from, until) = (
            tbs.validity.not_before.to_system_time(),
            tbs.validity.not_after.to_system_time(),
        );
        let who = tbs.subject.to_string();
        let is_signer = i == 0;
        if is_signer {
            if let Some(c) = claimed.filter(|c| *c < from) {
                return Check::failed(
                    NAME,
                    SubIndication::NotYetValid,
                    format!(
                        "the signature claims to be made at {}, before its certificate was valid",
                        rfc3339(c)
                    ),
                );
            }
        }
        if best_time >= from && best_time <= until {
            continue;
        }
        let when = if best_time < from {
            "not yet valid"
        } else {
            "expired"
        };
        return match (proof, is_signer) {
            (None, true) => {
                let not_revoked = matches!(signer_status, Some(RevocationStatus::Good));
                Check::failed(
                    NAME,
                    if not_revoked {
                        SubIndication::OutOfBoundsNotRevoked
                    } else {
                        SubIndication::OutOfBoundsNoPoe
                    },
                    format!(
                        "{who} is {when} at the validation time, and no timestamp proves the signature was made while it was valid"
                    ),
                )
            }
            (None, false) => Check::failed(
                NAME,
                SubIndication::OutOfBoundsNoPoe,
                format!("the CA certificate {who} is {when} at the validation time, and no timestamp proves the signature was made while it was valid"),
            ),
            (Some(_), true) => Check::failed(
                NAME,
                if best_time < from {
                    SubIndication::NotYetValid
                } else {
                    SubIndication::Expired
                },
                format!("{who} was {when} at the time the timestamp proves"),
            ),
            (Some(_), false) => Check::failed(
                NAME,
                SubIndication::CertificateChainGeneralFailure,
                format!("the CA certificate {who} was {when} at the time the timestamp proves"),
            ),
        };
    }
    Check::passed(
        NAME,
        format!(
            "every certificate was valid at {}{}",
            rfc3339(best_time),
            if proof.is_some() {
                " (the timestamp's time)"
            } else {
                ""
            }
        ),
    )
}

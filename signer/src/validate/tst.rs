//! RFC 3161 timestamp tokens as proofs of existence (EN 319 102-1 §5.4): a token counts only
//! if its messageImprint is the digest of what it stamps (for a signature timestamp, the
//! SignerInfo's signature value, RFC 3161 Appendix A), its own SignerInfo passes the same
//! checks as a signature, its signer carries id-kp-timeStamping (RFC 3161 §2.3), and the TSA
//! chains to a trust anchor with every certificate valid at genTime.
//!
//! The TSA's certificates are also asked about at the validation time, from the policy's
//! revocation source, and judged with the POE rules of EN 319 102-1 §5.6.2 and RFC 3161 §4
//! (nothing but the token itself proves when it was made, so its genTime is no POE of it):
//! - revoked at or before genTime: the token was made with a revoked key, it proves nothing
//!   (REVOKED for the TSA's own certificate, REVOKED_CA_NO_POE for a CA above it);
//! - revoked after genTime for keyCompromise, cACompromise, or with no reason given: every
//!   token of that key is in doubt and nothing proves this one came first (REVOKED_NO_POE);
//! - revoked after genTime for another reason (superseded, cessationOfOperation...): the
//!   tokens made before stay valid, and the report says so;
//! - status unknown although the certificate publishes one: TRY_LATER; a certificate that
//!   publishes none is noted as not checked.

use super::chain::{self, Chain};
use super::cms::{self, CertEntry};
use super::crypto::DigestAlg;
use super::report::{rfc3339, CertSummary, Outcome, SubIndication, TimestampReport};
use super::revocation::{publishes_status, RevocationStatus};
use super::signer_info::{self, Covered};
use super::Ctx;
use crate::oids::ID_CT_TST_INFO;
use const_oid::db::rfc5912::ID_KP_TIME_STAMPING;
use der::Decode;
use std::time::SystemTime;
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_tsp::TstInfo;

/// A checked token: the report entry and either the time it proves or why it proves nothing.
pub(crate) struct Stamp {
    pub report: TimestampReport,
    pub proof: Result<SystemTime, Failure>,
}

/// Why a token is not a proof, with what that would mean for a signature it were alone in.
pub(crate) type Failure = (SubIndication, String);

/// Checks `token` (DER TimeStampToken) as a timestamp over `stamped`.
pub(crate) async fn check(
    token: &[u8],
    stamped: &[&[u8]],
    extra: &[CertEntry],
    ctx: &Ctx<'_>,
) -> Stamp {
    let mut report = TimestampReport {
        time: None,
        tsa: None,
        valid: false,
        detail: String::new(),
    };
    let proof = checked(token, stamped, extra, ctx, &mut report).await;
    let proof = match proof {
        Ok((time, notes)) => {
            report.valid = true;
            report.detail = "a valid timestamp proves the data existed at this time".into();
            for note in notes {
                report.detail.push_str("; ");
                report.detail.push_str(&note);
            }
            Ok(time)
        }
        Err((sub, why)) => {
            report.detail = format!("the timestamp is not a valid proof: {why}");
            Err((sub, why))
        }
    };
    Stamp { report, proof }
}

/// The time the token proves and notes for the report, or why it proves nothing.
async fn checked(
    token: &[u8],
    stamped: &[&[u8]],
    extra: &[CertEntry],
    ctx: &Ctx<'_>,
    report: &mut TimestampReport,
) -> Result<(SystemTime, Vec<String>), Failure> {
    let format = |why: String| (SubIndication::FormatFailure, why);
    let cms = cms::parse(token).map_err(|e| format(format!("malformed token: {e}")))?;
    let content = match cms.econtent {
        Some(content) if cms.econtent_type == ID_CT_TST_INFO => content,
        _ => return Err(format("the token does not carry a TSTInfo".into())),
    };
    let info = TstInfo::from_der(content).map_err(|e| format(format!("malformed TSTInfo: {e}")))?;
    let time = info.gen_time.to_system_time();
    report.time = Some(super::report::rfc3339(time));
    let imprint = &info.message_imprint;
    let alg = DigestAlg::from_oid(&imprint.hash_algorithm.oid)
        .ok_or_else(|| format("the imprint uses an unknown digest".into()))?;
    let algorithms = &ctx.policy.algorithms;
    if let Some(why) = alg.refused_by(algorithms) {
        return Err((SubIndication::CryptoConstraintsFailureNoPoe, why));
    }
    if alg.digest(stamped).as_deref() != Some(imprint.hashed_message.as_bytes()) {
        return Err((
            SubIndication::HashFailure,
            "the token's imprint is not the digest of the data it stamps".into(),
        ));
    }
    let [signer] = cms.signers.as_slice() else {
        return Err(format("the token must have exactly one signer".into()));
    };
    let pool: Vec<CertEntry> = cms.certs.iter().chain(extra).cloned().collect();
    let parts: [&[u8]; 1] = [content];
    let outcome = signer_info::check(
        signer,
        &cms.econtent_type,
        Covered::Parts(&parts),
        &pool,
        algorithms,
    );
    if let Some(tsa) = outcome.cert {
        report.tsa = Some(CertSummary::of(&tsa.cert));
    }
    if let Some(failed) = outcome.checks.iter().find(|c| c.outcome == Outcome::Failed) {
        let sub = failed
            .sub_indication
            .unwrap_or(SubIndication::FormatFailure);
        return Err((sub, format!("the TSA's signature: {}", failed.detail)));
    }
    let tsa = outcome.cert.ok_or_else(|| {
        (
            SubIndication::NoSigningCertificateFound,
            "the TSA certificate is missing".to_owned(),
        )
    })?;
    let stamps = matches!(
        tsa.cert.tbs_certificate.get::<ExtendedKeyUsage>(),
        Ok(Some((_, eku))) if eku.0.contains(&ID_KP_TIME_STAMPING)
    );
    if !stamps {
        return Err((
            SubIndication::ChainConstraintsFailure,
            "the TSA certificate lacks the timeStamping extended key usage".into(),
        ));
    }
    let chain = chain::build(tsa, &pool, &ctx.anchors, &ctx.policy.cache).ok_or_else(|| {
        (
            SubIndication::NoCertificateChainFound,
            "the TSA does not chain to a trust anchor".to_owned(),
        )
    })?;
    match chain::check(&chain, algorithms) {
        Ok(()) => {}
        Err(chain::ChainError::Constraints(why)) => {
            return Err((SubIndication::ChainConstraintsFailure, why))
        }
        Err(chain::ChainError::Crypto(why)) => {
            return Err((SubIndication::CryptoConstraintsFailureNoPoe, why))
        }
    }
    let anchor_at = chain.len().saturating_sub(1);
    for entry in chain.iter().take(anchor_at) {
        let validity = &entry.cert.tbs_certificate.validity;
        if time < validity.not_before.to_system_time() || time > validity.not_after.to_system_time()
        {
            return Err((
                SubIndication::CertificateChainGeneralFailure,
                format!(
                    "{} was not valid at the timestamp's time",
                    entry.cert.tbs_certificate.subject
                ),
            ));
        }
    }
    let notes = revocation(&chain, time, ctx).await?;
    Ok((time, notes))
}

/// The rules of the module documentation, for every certificate of `chain` below the anchor.
async fn revocation(
    chain: &Chain<'_>,
    time: SystemTime,
    ctx: &Ctx<'_>,
) -> Result<Vec<String>, Failure> {
    let mut notes = Vec::new();
    for (i, pair) in chain.windows(2).enumerate() {
        let (cert, issuer) = (&pair[0].cert, &pair[1].cert);
        let is_tsa = i == 0;
        let who = cert.tbs_certificate.subject.to_string();
        match ctx.policy.revocation.status(cert, issuer, ctx.now).await {
            RevocationStatus::Good => notes.push(format!("{who} is not revoked")),
            RevocationStatus::Revoked { at, reason } => {
                let said = format!(
                    "{who} was revoked at {}{}",
                    rfc3339(at),
                    reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                );
                let revoked_ca = SubIndication::RevokedCaNoPoe;
                if at <= time {
                    let sub = if is_tsa {
                        SubIndication::Revoked
                    } else {
                        revoked_ca
                    };
                    return Err((
                        sub,
                        format!("{said}, at or before the time the token claims"),
                    ));
                }
                if !keeps_earlier_tokens(reason.as_deref()) {
                    let sub = if is_tsa {
                        SubIndication::RevokedNoPoe
                    } else {
                        revoked_ca
                    };
                    return Err((
                        sub,
                        format!(
                            "{said}, after the time the token claims, but for a reason that puts every token of its key in doubt (RFC 3161 §4), and nothing proves this token existed before the revocation"
                        ),
                    ));
                }
                notes.push(format!(
                    "{said}, after the token, for a reason that leaves earlier tokens valid (RFC 3161 §4)"
                ));
            }
            RevocationStatus::Unknown { why } if publishes_status(cert) => {
                return Err((
                    SubIndication::TryLater,
                    format!("the revocation status of {who} could not be obtained: {why}"),
                ))
            }
            RevocationStatus::Unknown { why } => notes.push(format!(
                "{who} publishes no revocation status; not checked ({why})"
            )),
        }
    }
    Ok(notes)
}

/// RFC 3161 §4: a TSA certificate revoked with the reasonCode unspecified, affiliationChanged,
/// superseded or cessationOfOperation leaves the tokens made before the revocation valid; with
/// no reasonCode (or keyCompromise, cACompromise...) every token of the key is invalid.
/// `reason` is the name [`RevocationStatus::Revoked`] carries.
fn keeps_earlier_tokens(reason: Option<&str>) -> bool {
    let Some(reason) = reason else {
        return false;
    };
    let name = reason.to_ascii_lowercase();
    [
        "unspecified",
        "affiliationchanged",
        "superseded",
        "cessationofoperation",
    ]
    .contains(&name.as_str())
}

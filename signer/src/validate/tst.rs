//! RFC 3161 timestamp tokens as proofs of existence (EN 319 102-1 §5.4): a token counts only
//! if its messageImprint is the digest of what it stamps (for a signature timestamp, the
//! SignerInfo's signature value, RFC 3161 Appendix A), its own SignerInfo passes the same
//! checks as a signature, its signer carries id-kp-timeStamping (RFC 3161 §2.3), and the TSA
//! chains to a trust anchor with every certificate valid at genTime.

use super::chain;
use super::cms::{self, CertEntry};
use super::crypto::DigestAlg;
use super::report::{CertSummary, TimestampReport};
use super::signer_info::{self, Covered};
use super::Ctx;
use crate::oids::ID_CT_TST_INFO;
use const_oid::db::rfc5912::ID_KP_TIME_STAMPING;
use der::Decode;
use std::time::SystemTime;
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_tsp::TstInfo;

/// A checked token: the report entry and, when valid, the time it proves.
pub(crate) struct Stamp {
    pub report: TimestampReport,
    pub proof: Option<SystemTime>,
}

/// Checks `token` (DER TimeStampToken) as a timestamp over `stamped`.
pub(crate) fn check(token: &[u8], stamped: &[&[u8]], extra: &[CertEntry], ctx: &Ctx<'_>) -> Stamp {
    let mut report = TimestampReport {
        time: None,
        tsa: None,
        valid: false,
        detail: String::new(),
    };
    let proof = match checked(token, stamped, extra, ctx, &mut report) {
        Ok(time) => {
            report.valid = true;
            report.detail = "a valid timestamp proves the signature existed at this time".into();
            Some(time)
        }
        Err(why) => {
            report.detail = format!("the timestamp is not a valid proof and was ignored: {why}");
            None
        }
    };
    Stamp { report, proof }
}

fn checked(
    token: &[u8],
    stamped: &[&[u8]],
    extra: &[CertEntry],
    ctx: &Ctx<'_>,
    report: &mut TimestampReport,
) -> Result<SystemTime, String> {
    let cms = cms::parse(token).map_err(|e| format!("malformed token: {e}"))?;
    let content = match cms.econtent {
        Some(content) if cms.econtent_type == ID_CT_TST_INFO => content,
        _ => return Err("the token does not carry a TSTInfo".into()),
    };
    let info = TstInfo::from_der(content).map_err(|e| format!("malformed TSTInfo: {e}"))?;
    let time = info.gen_time.to_system_time();
    report.time = Some(super::report::rfc3339(time));
    let imprint = &info.message_imprint;
    let alg = DigestAlg::from_oid(&imprint.hash_algorithm.oid)
        .ok_or("the imprint uses an unknown digest")?;
    if let Some(why) = alg.refused_by(&ctx.policy.algorithms) {
        return Err(why);
    }
    if alg.digest(stamped).as_deref() != Some(imprint.hashed_message.as_bytes()) {
        return Err("the token's imprint is not the digest of the signature value".into());
    }
    let [signer] = cms.signers.as_slice() else {
        return Err("the token must have exactly one signer".into());
    };
    let pool: Vec<CertEntry> = cms.certs.iter().chain(extra).cloned().collect();
    let parts: [&[u8]; 1] = [content];
    let outcome = signer_info::check(
        signer,
        &cms.econtent_type,
        Covered::Parts(&parts),
        &pool,
        &ctx.policy.algorithms,
    );
    let tsa = outcome.cert.ok_or("the TSA certificate is missing")?;
    report.tsa = Some(CertSummary::of(&tsa.cert));
    if !outcome.all_passed() {
        let failed: Vec<String> = outcome
            .checks
            .iter()
            .filter(|c| c.outcome == super::report::Outcome::Failed)
            .map(|c| c.detail.clone())
            .collect();
        return Err(failed.join("; "));
    }
    let stamps = matches!(
        tsa.cert.tbs_certificate.get::<ExtendedKeyUsage>(),
        Ok(Some((_, eku))) if eku.0.contains(&ID_KP_TIME_STAMPING)
    );
    if !stamps {
        return Err("the TSA certificate lacks the timeStamping extended key usage".into());
    }
    let anchors = &ctx.anchors;
    let chain =
        chain::build(tsa, &pool, anchors).ok_or("the TSA does not chain to a trust anchor")?;
    if let Err(chain::ChainError::Constraints(why) | chain::ChainError::Crypto(why)) =
        chain::check(&chain, &ctx.policy.algorithms)
    {
        return Err(why);
    }
    let anchor_at = chain.len().saturating_sub(1);
    for entry in &chain[..anchor_at] {
        let validity = &entry.cert.tbs_certificate.validity;
        if time < validity.not_before.to_system_time() || time > validity.not_after.to_system_time()
        {
            return Err(format!(
                "{} was not valid at the timestamp's time",
                entry.cert.tbs_certificate.subject
            ));
        }
    }
    Ok(time)
}

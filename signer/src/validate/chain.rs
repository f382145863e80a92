//! Certificate path building and checking (RFC 5280 §6, as far as signatures need it): from
//! the signing certificate up through the certificates at hand to a trust anchor, each link's
//! signature verified with the issuer's key; then the CA constraints of every intermediate
//! (basicConstraints cA and pathLenConstraint, keyUsage keyCertSign) and the algorithm
//! constraints of every link.

use super::cache::ValidationCache;
use super::cms::CertEntry;
use super::crypto::{self, AlgorithmConstraints};
use der::Encode;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::Certificate;

/// The longest chain looked for, anchor included.
const MAX_DEPTH: usize = 8;
/// The most link signatures one chain search verifies.
const MAX_VERIFICATIONS: usize = 64;

/// A chain: the signing certificate first, the trust anchor last.
pub(crate) type Chain<'a> = Vec<&'a CertEntry>;

/// Why a chain is not acceptable.
pub(crate) enum ChainError {
    /// A CA of the path is not allowed to issue what it issued.
    Constraints(String),
    /// A link uses a refused algorithm or key size.
    Crypto(String),
}

/// Whether `issuer`'s key verifies `cert`'s signature and `issuer` names match.
pub(crate) fn issued_by(cert: &Certificate, issuer: &Certificate) -> bool {
    if cert.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return false;
    }
    let Ok(tbs) = cert.tbs_certificate.to_der() else {
        return false;
    };
    // Authenticity only: the algorithm constraints are checked separately, so a SHA-1 link
    // is reported as weak rather than as missing.
    let lenient = AlgorithmConstraints {
        min_rsa_bits: 0,
        allow_sha1: true,
    };
    let signature = cert.signature.as_bytes();
    crypto::signed_by(issuer, &cert.signature_algorithm, &tbs, signature, &lenient)
}

/// Builds a chain for `signer` from `pool` (the signature's certificates and the policy's
/// intermediates) to one of `anchors`. Links `cache` already holds are not verified again;
/// the links of a chain found are added to it (only those: a search's dead ends, which
/// attacker-chosen certificates can make many, are not kept).
pub(crate) fn build<'a>(
    signer: &'a CertEntry,
    pool: &'a [CertEntry],
    anchors: &'a [CertEntry],
    cache: &ValidationCache,
) -> Option<Chain<'a>> {
    let mut path = vec![signer];
    let mut search = Search {
        budget: MAX_VERIFICATIONS,
        cache,
    };
    if !extend(&mut path, pool, anchors, &mut search) {
        return None;
    }
    cache.remember_chain(&path);
    Some(path)
}

/// The state of one chain search.
struct Search<'c> {
    /// Link signatures the search may still verify.
    budget: usize,
    cache: &'c ValidationCache,
}

/// Whether `issuer` signed `cert`, spending one of `budget`'s verifications when the names
/// match: certificates in a signature are attacker-chosen, and many of one name that all
/// verify each other would otherwise make the search exponential.
/// A link the cache holds costs nothing.
fn link(cert: &CertEntry, issuer: &CertEntry, search: &mut Search<'_>) -> bool {
    if cert.cert.tbs_certificate.issuer != issuer.cert.tbs_certificate.subject {
        return false;
    }
    if search.cache.link_verified(cert, issuer) {
        return true;
    }
    if search.budget == 0 {
        return false;
    }
    search.budget -= 1;
    issued_by(&cert.cert, &issuer.cert)
}

fn extend<'a>(
    path: &mut Chain<'a>,
    pool: &'a [CertEntry],
    anchors: &'a [CertEntry],
    search: &mut Search<'_>,
) -> bool {
    let Some(current) = path.last().copied() else {
        return false;
    };
    if anchors.iter().any(|a| a.der == current.der) {
        return true;
    }
    if let Some(anchor) = anchors.iter().find(|a| link(current, a, search)) {
        path.push(anchor);
        return true;
    }
    if path.len() >= MAX_DEPTH {
        return false;
    }
    for candidate in pool {
        if path.iter().any(|c| c.der == candidate.der) || !link(current, candidate, search) {
            continue;
        }
        path.push(candidate);
        if extend(path, pool, anchors, search) {
            return true;
        }
        path.pop();
    }
    false
}

/// The CA and algorithm constraints of `chain` (the anchor is trusted as configured: its own
/// flags and self-signature are not judged).
pub(crate) fn check(
    chain: &Chain<'_>,
    constraints: &AlgorithmConstraints,
) -> Result<(), ChainError> {
    for (below, pair) in chain.windows(2).enumerate() {
        let (cert, issuer) = (&pair[0].cert, &pair[1].cert);
        if let Some(why) = crypto::refused(
            &issuer.tbs_certificate.subject_public_key_info,
            &cert.signature_algorithm,
            None,
            constraints,
        ) {
            return Err(ChainError::Crypto(format!(
                "the certificate {} is signed with a refused algorithm: {why}",
                cert.tbs_certificate.subject
            )));
        }
        let is_anchor = below + 2 == chain.len();
        if is_anchor {
            continue;
        }
        let name = &issuer.tbs_certificate.subject;
        let ca = matches!(
            issuer.tbs_certificate.get::<BasicConstraints>(),
            Ok(Some((_, bc))) if bc.ca
        );
        if !ca {
            return Err(ChainError::Constraints(format!(
                "{name} is not a CA certificate"
            )));
        }
        if let Ok(Some((_, bc))) = issuer.tbs_certificate.get::<BasicConstraints>() {
            // Intermediate CAs between this issuer and the signer (RFC 5280 §4.2.1.9).
            let cas_below = below;
            if bc
                .path_len_constraint
                .is_some_and(|limit| cas_below > usize::from(limit))
            {
                return Err(ChainError::Constraints(format!(
                    "{name} allows fewer intermediate CAs below it"
                )));
            }
        }
        if let Ok(Some((_, KeyUsage(usages)))) = issuer.tbs_certificate.get::<KeyUsage>() {
            if !usages.contains(KeyUsages::KeyCertSign) {
                return Err(ChainError::Constraints(format!(
                    "{name} may not sign certificates (keyUsage lacks keyCertSign)"
                )));
            }
        }
    }
    Ok(())
}

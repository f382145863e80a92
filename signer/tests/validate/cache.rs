//! The validation cache keeps every verdict: validations that share one
//! [`signer::validate::ValidationCache`] (as the service's do) still see a revocation in a
//! newer CRL, stop trusting a removed anchor at once, and refuse a tampered copy of a
//! certificate whose genuine link the cache holds.

use crate::common::{read, Pki};
use crate::*;
use signer::validate::{MemoryRevocation, SubIndication};
use std::time::Duration;
use x509_cert::der::{Decode, Encode};

#[tokio::test]
async fn a_newer_crl_revokes_what_the_cache_saw_as_good() {
    let ca = crate::revocation::CrlCa::new(1);
    ca.issue("signer", None);
    // Another revocation first: openssl writes a CRL with no entries as version 1, which
    // x509-cert does not read.
    ca.issue("other", None);
    ca.revoke("other");
    let signature = ca.sign("signer");
    let mut memory = MemoryRevocation::new();
    memory.add_crl(ca.crl_der());
    let mut policy = ca.policy();
    policy.revocation = Arc::new(memory.clone());
    passed(&check(DOCUMENT, Some(&signature), &policy).await);
    passed(&check(DOCUMENT, Some(&signature), &policy).await);
    assert!(policy.cache.links_held() > 0, "the chain's link was kept");

    // CRL times have one-second precision: the new CRL must be visibly newer.
    std::thread::sleep(Duration::from_millis(1100));
    ca.revoke("signer");
    // The same source (its verified CRLs shared) now also holds the newer CRL.
    memory.add_crl(ca.crl_der());
    policy.revocation = Arc::new(memory);
    fails(
        &check(DOCUMENT, Some(&signature), &policy).await,
        SubIndication::RevokedNoPoe,
    );
    // Asked again, the cached verified CRLs give the same answer.
    fails(
        &check(DOCUMENT, Some(&signature), &policy).await,
        SubIndication::RevokedNoPoe,
    );
}

#[tokio::test]
async fn a_removed_anchor_is_not_trusted_by_the_next_validation() {
    let pki = Pki::new();
    let signature = openssl_sign(&pki, "ec", DOCUMENT, &[]);
    let trusting = policy(&pki);
    passed(&check(DOCUMENT, Some(&signature), &trusting).await);

    // Another anchor in its place, the same cache: nothing of the old one is served.
    let other = Pki::new();
    let mut removed = trusting.clone();
    removed.trust_anchors = vec![der_of(other.dir.path(), "root.pem")];
    fails(
        &check(DOCUMENT, Some(&signature), &removed).await,
        SubIndication::NoCertificateChainFound,
    );
    removed.trust_anchors.clear();
    fails(
        &check(DOCUMENT, Some(&signature), &removed).await,
        SubIndication::NoCertificateChainFound,
    );
    // Added back, trusted again.
    passed(&check(DOCUMENT, Some(&signature), &trusting).await);
}

#[tokio::test]
async fn a_tampered_certificate_is_not_accepted_through_the_cache() {
    let pki = Pki::new();
    let d = pki.dir.path();
    let signature = openssl_sign(&pki, "ec", DOCUMENT, &[]);
    let policy = policy(&pki);
    passed(&check(DOCUMENT, Some(&signature), &policy).await);
    let held = policy.cache.links_held();
    assert!(held >= 2, "signer → intermediate → root kept: {held}");

    // The signer's certificate inside the signature, changed in its own signature value (the
    // to-be-signed part, subject and key included, unchanged) and in its notAfter.
    let cert = der_of(d, "ec.pem");
    let at = signature
        .windows(cert.len())
        .position(|w| w == cert.as_slice())
        .unwrap();
    let last = at + cert.len() - 1;
    let x509 = x509_cert::Certificate::from_der(&cert).unwrap();
    let not_after = x509.tbs_certificate.validity.not_after.to_der().unwrap();
    let in_cert = cert
        .windows(not_after.len())
        .position(|w| w == not_after.as_slice())
        .unwrap();
    // The last digit of the seconds, before the `Z`.
    let seconds = at + in_cert + not_after.len() - 2;
    for tampered in [flip_byte(&signature, last), flip_byte(&signature, seconds)] {
        fails(
            &check(DOCUMENT, Some(&tampered), &policy).await,
            SubIndication::NoCertificateChainFound,
        );
    }

    // A certificate of the same subject from a look-alike intermediate (same name, another
    // key): its link is not the genuine one's either.
    new_p256_key(d, "fake-intermediate.key");
    pki.self_signed_ca(
        "fake-intermediate.key",
        "/CN=vhod test intermediate",
        "77",
        "fake-intermediate.pem",
    );
    std::fs::copy(d.join("ec.key"), d.join("look-alike.key")).unwrap();
    pki.issue(
        "look-alike",
        "/CN=Test Signer P-256",
        "fake-intermediate",
        "signer_ext",
        "4660",
    );
    let look_alike = cms_sign(d, "look-alike", DOCUMENT, &["-certfile", "chain.pem"]);
    assert_ne!(read(d, "look-alike.pem"), read(d, "ec.pem"));
    fails(
        &check(DOCUMENT, Some(&look_alike), &policy).await,
        SubIndication::NoCertificateChainFound,
    );
    // The genuine signature still passes, from the cache.
    passed(&check(DOCUMENT, Some(&signature), &policy).await);
}

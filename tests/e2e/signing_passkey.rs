//! A passkey confirms a signing request (`/account/sign/{id}/passkey`, W3C WebAuthn §7.2):
//! an account whose only second factor is a passkey signs, and the CMS signature verifies
//! with OpenSSL against vhod's root. Refused, counted toward the request's attempt limit and
//! signing nothing: another account's passkey, an assertion made for another request, a
//! replayed assertion, and an assertion over a document set that changed in storage since
//! the page showed it. The software authenticator is `helpers::authenticator`.

use crate::helpers::*;
use crate::passkeys::{account_browser, add_passkey, PASSWORD};
use crate::signing::{
    api_client, create, pdf, post_form, save_root, signature, token, verify_detached, TXT,
};
use serde_json::Value;

crate::on_both_stores_localhost!(a_passkey_signs_its_own_request_and_set_only);

/// An account whose only second factor is a passkey, with a signing certificate; its id,
/// a signed-in browser and the passkey.
async fn passkey_citizen(app: &TestApp, login: &str) -> (String, Browser, SoftPasskey) {
    let id = app.user(login, PASSWORD).await;
    let b = account_browser(app, login, None).await;
    let key = add_passkey(app, &b, "Телефон").await;
    let subject = keys::ca::CitizenSubject {
        surname: "Ключова".into(),
        given_name: "Вера".into(),
        patronymic: None,
        snils: None,
        inn: None,
    };
    let ca = &app.app.signer.ca;
    ca.issue(&id, &subject, keys::ca::KeyAlg::P256, None)
        .await
        .unwrap();
    (id, b, key)
}

/// The passkey form of the signing page of request `id`: its HTML, the ceremony token and
/// the options for the authenticator.
async fn passkey_form(app: &TestApp, b: &Browser, id: &str) -> (String, String, Value) {
    let (status, _, html) = b
        .get(&app.base, &app.url(&format!("/account/sign/{id}")))
        .await
        .page();
    assert_eq!(status, 200, "{html}");
    let at = html.find("id=\"passkey-form\"").expect("a passkey form");
    let start = html[..at].rfind("<form").unwrap();
    let end = start + html[start..].find("</form>").unwrap();
    let form = html[start..end].to_owned();
    let ceremony = hidden(&form, "ceremony").unwrap();
    let options = page_options(&form);
    (form, ceremony, options)
}

/// Posts an answer to request `id`'s passkey endpoint with the given ceremony and digest.
async fn answer(
    app: &TestApp,
    b: &Browser,
    id: &str,
    csrf: &str,
    ceremony: &str,
    digest: &str,
    credential: &str,
) -> (u16, String) {
    post_form(
        b,
        app,
        &format!("/account/sign/{id}/passkey"),
        &[
            ("csrf", csrf),
            ("ceremony", ceremony),
            ("set_digest", digest),
            ("credential", credential),
        ],
    )
    .await
}

async fn status_of(app: &TestApp, t: &str, id: &str) -> Value {
    get_bearer_json(&app.url(&format!("/api/signer/v1/requests/{id}")), t).await
}

async fn refusals(app: &TestApp, account: &str, request: &str) -> usize {
    let all = app.app.audit.list(Some(account), None, 1000).await.unwrap();
    all.iter()
        .filter(|e| {
            e.action == "signature.refused"
                && e.details["request_id"] == request
                && e.details["reason"] == "wrong_passkey"
        })
        .count()
}

async fn a_passkey_signs_its_own_request_and_set_only(app: TestApp) {
    let (citizen, b, mut key) = passkey_citizen(&app, "pk-signer").await;
    let (_, _, mut other_key) = passkey_citizen(&app, "pk-other").await;
    let client = api_client(&app, "Нотариус", &["sign"]).await;
    let t = token(&app, &client, "sign").await;
    let req = serde_json::json!({"sub": citizen, "format": "cades-detached", "level": "B-B"});
    let pdf = pdf();
    let files: [(&str, &[u8]); 2] = [("contract.pdf", &pdf), ("note.txt", TXT)];
    let (_, _, a) = create(&app, Some(&t), &req, &files).await;
    let (_, _, bq) = create(&app, Some(&t), &req, &[("other.txt", b"other")]).await;
    let (id_a, digest_a) = (a["id"].as_str().unwrap(), a["set_digest"].as_str().unwrap());
    let (id_b, digest_b) = (
        bq["id"].as_str().unwrap(),
        bq["set_digest"].as_str().unwrap(),
    );

    // The page offers the passkey alone, bound to the digest it shows.
    let (_, _, page) = b
        .get(&app.base, &app.url(&format!("/account/sign/{id_a}")))
        .await
        .page();
    assert!(!page.contains("name=\"code\""), "{page}");
    assert!(!page.contains("/send\""), "{page}");
    let (form, _, options) = passkey_form(&app, &b, id_a).await;
    assert_eq!(hidden(&form, "set_digest").as_deref(), Some(digest_a));
    assert_eq!(options["publicKey"]["userVerification"], "required");
    let allowed = options["publicKey"]["allowCredentials"].as_array().unwrap();
    assert_eq!(allowed.len(), 1, "{options}");
    let csrf = hidden(&form, "csrf").unwrap();

    // Another account's passkey: refused and counted.
    let (_, ceremony, options) = passkey_form(&app, &b, id_a).await;
    let foreign = other_key.assert(&options, &app.base);
    let (status, html) = answer(&app, &b, id_a, &csrf, &ceremony, digest_a, &foreign).await;
    assert_eq!(status, 401, "{html}");
    assert!(html.contains("data-status=\"pending\""), "{html}");
    assert_eq!(refusals(&app, &citizen, id_a).await, 1);

    // An assertion made on request A's page, used on request B: with A's ceremony, and with
    // B's own ceremony (whose challenge it did not sign).
    let (_, ceremony_a, options_a) = passkey_form(&app, &b, id_a).await;
    let for_a = key.assert(&options_a, &app.base);
    let (status, html) = answer(&app, &b, id_b, &csrf, &ceremony_a, digest_b, &for_a).await;
    assert_eq!(status, 401, "{html}");
    let (_, ceremony_b, _) = passkey_form(&app, &b, id_b).await;
    let (status, html) = answer(&app, &b, id_b, &csrf, &ceremony_b, digest_b, &for_a).await;
    assert_eq!(status, 401, "{html}");
    assert_eq!(refusals(&app, &citizen, id_b).await, 2);

    // The document set changes in storage after the page showed it: first the stored hash
    // alone (the derived digest no longer matches), then the request's digest too (the
    // ceremony still names the digest that was shown).
    let (_, ceremony_b, options_b) = passkey_form(&app, &b, id_b).await;
    let for_b = key.assert(&options_b, &app.base);
    let changed = "f".repeat(64);
    sqlx::query("UPDATE signer_documents SET sha256 = $1 WHERE request_id = $2")
        .bind(&changed)
        .bind(id_b)
        .execute(&app.app.signer.pool)
        .await
        .unwrap();
    let (status, html) = answer(&app, &b, id_b, &csrf, &ceremony_b, digest_b, &for_b).await;
    assert_eq!(status, 409, "{html}");
    let new_digest = signer::requests::set_digest([changed.as_str()]);
    sqlx::query("UPDATE signer_requests SET set_digest = $1 WHERE id = $2")
        .bind(&new_digest)
        .bind(id_b)
        .execute(&app.app.signer.pool)
        .await
        .unwrap();
    let (status, _) = answer(&app, &b, id_b, &csrf, &ceremony_b, digest_b, &for_b).await;
    assert_eq!(status, 409, "the shown digest is not the stored one");
    let (status, html) = answer(&app, &b, id_b, &csrf, &ceremony_b, &new_digest, &for_b).await;
    assert_eq!(status, 401, "{html}");
    assert_eq!(refusals(&app, &citizen, id_b).await, 3);
    assert_eq!(status_of(&app, &t, id_b).await["status"], "pending");

    // The account's own passkey over the shown set signs A.
    let (form, _, options) = passkey_form(&app, &b, id_a).await;
    let good = key.assert(&options, &app.base);
    let (status, _, html) = b
        .submit(&app.base, &form, &[("credential", &good)])
        .await
        .page();
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("data-status=\"signed\""), "{html}");
    let all = app
        .app
        .audit
        .list(Some(&citizen), None, 1000)
        .await
        .unwrap();
    let created: Vec<_> = all
        .iter()
        .filter(|e| e.action == "signature.created")
        .collect();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].details["amr"], "hwk");

    // Replayed on a third request, with that request's fresh ceremony and with the spent
    // one: refused, nothing signed.
    let (_, _, c) = create(&app, Some(&t), &req, &[("third.txt", TXT)]).await;
    let (id_c, digest_c) = (c["id"].as_str().unwrap(), c["set_digest"].as_str().unwrap());
    let (_, ceremony_c, _) = passkey_form(&app, &b, id_c).await;
    let spent = hidden(&form, "ceremony").unwrap();
    let (status, html) = answer(&app, &b, id_c, &csrf, &ceremony_c, digest_c, &good).await;
    assert_eq!(status, 401, "{html}");
    let (status, html) = answer(&app, &b, id_c, &csrf, &spent, digest_c, &good).await;
    assert_eq!(status, 400, "{html}");
    assert_eq!(status_of(&app, &t, id_c).await["status"], "pending");

    // What A's client fetches verifies against vhod's root.
    let got = status_of(&app, &t, id_a).await;
    assert_eq!(got["status"], "signed", "{got}");
    let dir = tempfile::tempdir().unwrap();
    save_root(&app, dir.path()).await;
    for (n, (name, content)) in files.iter().enumerate() {
        let (ct, sig) = signature(&app, &t, &got, n).await;
        assert_eq!(ct, "application/pkcs7-signature");
        let (ok, text) = verify_detached(dir.path(), content, &sig);
        assert!(ok, "{name}: {text}");
    }
    assert!(app.app.audit.verify().await.unwrap().broken.is_none());
}

//! OpenID Connect Back-Channel Logout 1.0: when a session ends, each client with tokens from
//! it and a `backchannel_logout_uri` gets a Logout Token POSTed to that URI (a real HTTP
//! server here), verified against `/jwks`; the session's grants without `offline_access`
//! end with it.

use crate::account::open_account;
use crate::helpers::*;
use crate::on_both_stores;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

on_both_stores!(
    a_logout_tells_each_client_of_the_session_and_ends_its_online_grants,
    a_failing_client_is_tried_again_and_a_refusing_one_is_not,
    a_password_change_tells_the_clients_of_the_other_sessions_only,
    signing_out_everywhere_else_tells_the_other_sessions_clients,
    withdrawing_a_service_s_access_tells_that_service_only,
    another_account_signing_in_in_the_browser_ends_the_first_s_session,
    a_pairwise_client_is_told_by_the_sub_it_knows,
    a_logout_its_node_left_undelivered_is_delivered_once_its_hold_lapses,
);

const PW: &str = "correct horse battery";
const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// One POST an endpoint received.
#[derive(Clone, Debug)]
struct Post {
    path: String,
    content_type: String,
    logout_token: String,
}

/// Relying parties' back-channel logout endpoints on one real HTTP server: every POST is
/// recorded, and answered from its path's script, then 200.
#[derive(Clone, Default)]
struct Endpoints {
    base: String,
    got: Arc<Mutex<Vec<Post>>>,
    script: Arc<Mutex<HashMap<String, VecDeque<u16>>>>,
}

impl Endpoints {
    async fn start(script: &[(&str, &[u16])]) -> Endpoints {
        use axum::extract::State;
        use axum::http::{HeaderMap, StatusCode, Uri};
        async fn hook(
            State(e): State<Endpoints>,
            uri: Uri,
            headers: HeaderMap,
            body: String,
        ) -> StatusCode {
            let path = uri.path().to_owned();
            let token = form_urlencoded::parse(body.as_bytes())
                .find(|(k, _)| k == "logout_token")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            let content_type = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            e.got.lock().unwrap().push(Post {
                path: path.clone(),
                content_type,
                logout_token: token,
            });
            let next = e
                .script
                .lock()
                .unwrap()
                .get_mut(&path)
                .and_then(VecDeque::pop_front);
            StatusCode::from_u16(next.unwrap_or(200)).unwrap()
        }
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let e = Endpoints {
            base: format!("http://{}", l.local_addr().unwrap()),
            script: Arc::new(Mutex::new(
                script
                    .iter()
                    .map(|(p, s)| (p.to_string(), s.iter().copied().collect()))
                    .collect(),
            )),
            ..Default::default()
        };
        let router = axum::Router::new().fallback(hook).with_state(e.clone());
        tokio::spawn(async move { axum::serve(l, router).await });
        e
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn posts(&self, path: &str) -> Vec<Post> {
        let got = self.got.lock().unwrap();
        got.iter().filter(|p| p.path == path).cloned().collect()
    }

    /// Waits until `path` has had `n` POSTs.
    async fn await_posts(&self, path: &str, n: usize) -> Vec<Post> {
        eventually(&format!("{n} logout POSTs to {path}"), || async {
            self.posts(path).len() >= n
        })
        .await;
        self.posts(path)
    }
}

/// A client told at `path` of `e` when a session ends.
async fn told_client(app: &TestApp, e: &Endpoints, path: &str) -> Rp {
    let rp = app.confidential().await;
    let uri = e.url(path);
    app.change_client(&rp.id, |c| c.backchannel_logout_uri = Some(uri))
        .await;
    rp
}

/// A new account `login` signed in, in a browser of its own, to a client told at `path` of
/// `e`: the client, the browser and the token response.
async fn signed_in_and_told(
    app: &TestApp,
    e: &Endpoints,
    login: &str,
    path: &str,
) -> (Rp, Browser, Value) {
    app.user(login, PW).await;
    let rp = told_client(app, e, path).await;
    let browser = Browser::new();
    let t = sign_in(app, &rp, &browser, login, PW).await;
    (rp, browser, t)
}

/// The claims of a JWT, unverified (for the test's own ID tokens).
fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&B64.decode(payload).unwrap()).unwrap()
}

/// Checks a Logout Token (§2.4) against `/jwks` and the ID token it answers; returns its
/// `jti`.
async fn check_logout_token(app: &TestApp, post: &Post, rp: &Rp, id_token: &str) -> String {
    assert_eq!(post.content_type, "application/x-www-form-urlencoded");
    let (header, claims) = verify_with_jwks(app, &post.logout_token).await;
    assert_eq!(header["typ"], "logout+jwt", "{header}");
    let idt = claims_of(id_token);
    assert_eq!(claims["iss"], app.app.settings.issuer.as_str(), "{claims}");
    assert_eq!(claims["aud"], rp.id.as_str());
    assert_eq!(claims["sub"], idt["sub"]);
    assert_eq!(claims["sid"], idt["sid"]);
    assert_eq!(claims["events"], serde_json::json!({ EVENT: {} }));
    assert!(claims.get("nonce").is_none(), "a Logout Token has no nonce");
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert!(exp > iat && exp - iat <= 120, "{claims}");
    claims["jti"].as_str().unwrap().to_owned()
}

async fn logout_with_hint(app: &TestApp, b: &Browser, id_token: &str) {
    let mut u = url::Url::parse(&app.url("/logout")).unwrap();
    u.query_pairs_mut().append_pair("id_token_hint", id_token);
    let (status, _, _) = b.get(&app.base, u.as_str()).await.page();
    assert_eq!(status, 200);
}

/// One session with two told services, and the personal account open in another browser.
struct TwoServices {
    first: Rp,
    second: Rp,
    /// The browser of the session; it signed in to `first` and then to `second`.
    browser: Browser,
    /// `first`'s token response.
    tokens: Value,
    /// The other browser, in the personal account at the page asked for.
    account: Browser,
    page: String,
}

/// Registers `login`, two services told at `paths`, signs a browser in to both, and opens
/// `page` of the personal account in a second browser.
async fn two_services(
    app: &TestApp,
    e: &Endpoints,
    login: &str,
    paths: [&str; 2],
    page: &str,
) -> TwoServices {
    app.user(login, PW).await;
    let first = told_client(app, e, paths[0]).await;
    let second = told_client(app, e, paths[1]).await;
    let browser = Browser::new();
    let tokens = sign_in(app, &first, &browser, login, PW).await;
    authorize_signed_in(app, &second, &browser, &[]).await;
    let (account, _) = open_account(app, login, PW).await;
    let (_, _, page) = account.get(&app.base, &app.url(page)).await.page();
    TwoServices {
        first,
        second,
        browser,
        tokens,
        account,
        page,
    }
}

async fn a_logout_tells_each_client_of_the_session_and_ends_its_online_grants(app: TestApp) {
    let e = Endpoints::start(&[]).await;
    app.user("alice", PW).await;
    let online = told_client(&app, &e, "/online").await;
    let offline = told_client(&app, &e, "/offline").await;
    let untold = app.confidential().await;
    let b = Browser::new();
    let t_online = sign_in(&app, &online, &b, "alice", PW).await;
    let t_offline =
        authorize_signed_in(&app, &offline, &b, &[("scope", "openid offline_access")]).await;
    let t_untold = authorize_signed_in(&app, &untold, &b, &[]).await;
    // Another browser's session of the same person is not ended, and its client not told.
    let other = Browser::new();
    let t_other = sign_in(&app, &online, &other, "alice", PW).await;

    let id_token = t_online["id_token"].as_str().unwrap();
    logout_with_hint(&app, &b, id_token).await;
    let to_online = e.await_posts("/online", 1).await;
    let to_offline = e.await_posts("/offline", 1).await;
    let jti_a = check_logout_token(&app, &to_online[0], &online, id_token).await;
    let offline_idt = t_offline["id_token"].as_str().unwrap();
    let jti_b = check_logout_token(&app, &to_offline[0], &offline, offline_idt).await;
    assert_ne!(jti_a, jti_b);

    // The session's grant without offline_access ended with it; the other two live on.
    let rt = |t: &Value| t["refresh_token"].as_str().unwrap().to_owned();
    let (status, body) = refresh(&app, &online, &rt(&t_online)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let r = http()
        .get(app.url("/userinfo"))
        .bearer_auth(t_online["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        401,
        "the ended grant's access token is dead too"
    );
    assert_eq!(refresh(&app, &offline, &rt(&t_offline)).await.0, 200);
    assert_eq!(refresh(&app, &online, &rt(&t_other)).await.0, 200);
    // A client without a URI is not told, but its grant of the session ended all the same.
    assert_eq!(refresh(&app, &untold, &rt(&t_untold)).await.0, 400);

    // Nothing else arrives: one token per client of the ended session.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(e.got.lock().unwrap().len(), 2);
    // A Logout Token is not an ID token: it cannot stand in as id_token_hint.
    let mut u = url::Url::parse(&app.url("/logout")).unwrap();
    u.query_pairs_mut()
        .append_pair("id_token_hint", &to_online[0].logout_token);
    assert_eq!(other.get(&app.base, u.as_str()).await.page().0, 400);
}

async fn a_failing_client_is_tried_again_and_a_refusing_one_is_not(app: TestApp) {
    let e = Endpoints::start(&[("/down", &[503]), ("/refuses", &[400])]).await;
    // The session to end is a browser's that signed in to both; the account page of a second
    // browser signs it out.
    let s = two_services(&app, &e, "bob", ["/down", "/refuses"], "/account/sessions").await;
    let (down, t) = (&s.first, &s.tokens);
    let (status, _, _) = s
        .account
        .submit_form(&app.base, &s.page, "/sessions/end", &[])
        .await
        .page();
    assert_eq!(status, 200);
    let to_down = e.await_posts("/down", 2).await;
    assert_eq!(
        to_down[0].logout_token, to_down[1].logout_token,
        "the same token again after a 503"
    );
    check_logout_token(&app, &to_down[1], down, t["id_token"].as_str().unwrap()).await;
    // The refusing client was asked once: its retry would have come with the other's.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(e.posts("/refuses").len(), 1);
    assert_eq!(e.posts("/down").len(), 2, "delivered on the second attempt");
    // The account page's own session was not the one ended: it was not told of.
    assert_eq!(e.got.lock().unwrap().len(), 3);
}

async fn a_password_change_tells_the_clients_of_the_other_sessions_only(app: TestApp) {
    let e = Endpoints::start(&[]).await;
    app.user("carol", PW).await;
    let rp = told_client(&app, &e, "/rp").await;
    let elsewhere = Browser::new();
    let t = sign_in(&app, &rp, &elsewhere, "carol", PW).await;
    let (here, _) = open_account(&app, "carol", PW).await;
    // This browser's session has a grant of the client too: it stays, and is not told of.
    authorize_signed_in(&app, &rp, &here, &[]).await;
    let (_, _, html) = here
        .get(&app.base, &app.url("/account/password"))
        .await
        .page();
    let new = "another long passphrase";
    let fields = [("current", PW), ("password", new), ("password2", new)];
    let (status, _, _) = here.submit(&app.base, &html, &fields).await.page();
    assert_eq!(status, 200);
    let got = e.await_posts("/rp", 1).await;
    check_logout_token(&app, &got[0], &rp, t["id_token"].as_str().unwrap()).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(e.posts("/rp").len(), 1, "only the other session's");
}

/// "Sign out everywhere else" in the personal account ends every other browser's session:
/// the client is told of each, their online grants end, and this browser stays signed in.
async fn signing_out_everywhere_else_tells_the_other_sessions_clients(app: TestApp) {
    let e = Endpoints::start(&[]).await;
    app.user("dora", PW).await;
    let rp = told_client(&app, &e, "/rp").await;
    let (one, two) = (Browser::new(), Browser::new());
    let t1 = sign_in(&app, &rp, &one, "dora", PW).await;
    let t2 = sign_in(&app, &rp, &two, "dora", PW).await;
    let (here, _) = open_account(&app, "dora", PW).await;
    let (_, _, html) = here
        .get(&app.base, &app.url("/account/sessions"))
        .await
        .page();
    assert_eq!(html.matches("data-sid=").count(), 3, "{html}");
    let (status, _, html) = here
        .submit_form(&app.base, &html, "/sessions/end-others", &[])
        .await
        .page();
    assert_eq!(status, 200);
    assert_eq!(
        html.matches("data-sid=").count(),
        1,
        "only this browser: {html}"
    );
    assert!(
        !html.contains("/sessions/end-others"),
        "nothing else to sign out"
    );
    let got = e.await_posts("/rp", 2).await;
    let mut sids: Vec<String> = Vec::new();
    for t in [&t1, &t2] {
        let idt = t["id_token"].as_str().unwrap();
        let sid = claims_of(idt)["sid"].as_str().unwrap().to_owned();
        let post = got
            .iter()
            .find(|p| claims_of(&p.logout_token)["sid"] == sid.as_str())
            .expect("a Logout Token for each ended session");
        check_logout_token(&app, post, &rp, idt).await;
        sids.push(sid);
        let rt = t["refresh_token"].as_str().unwrap();
        assert_eq!(
            refresh(&app, &rp, rt).await.0,
            400,
            "its online grant ended"
        );
    }
    assert_ne!(sids[0], sids[1]);
    for b in [&one, &two] {
        assert_eq!(
            prompt_none_error(&app, &rp, b).await.as_deref(),
            Some("login_required")
        );
    }
    let (_, _, page) = here.get(&app.base, &app.url("/account")).await.page();
    assert!(
        page.contains("data-level="),
        "this browser is still signed in"
    );
}

/// Withdrawing a service's access in the personal account ends the citizen's sessions with
/// that service: it is told of each live session it has a grant from; the other service of
/// the same session is not told and keeps working.
async fn withdrawing_a_service_s_access_tells_that_service_only(app: TestApp) {
    let e = Endpoints::start(&[]).await;
    let s = two_services(&app, &e, "fedor", ["/gone", "/kept"], "/account/services").await;
    let (gone, kept, html) = (&s.first, &s.second, &s.page);
    let at = html
        .find(&format!("data-client=\"{}\"", gone.id))
        .expect("the service is listed");
    let section = &html[at..at + html[at..].find("</section>").unwrap()];
    let (status, _, _) = s.account.submit(&app.base, section, &[]).await.page();
    assert_eq!(status, 200);
    let got = e.await_posts("/gone", 1).await;
    let idt = s.tokens["id_token"].as_str().unwrap();
    check_logout_token(&app, &got[0], gone, idt).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        e.got.lock().unwrap().len(),
        1,
        "the other service is not told"
    );
    let (url, _) = authorize_url(&app, kept, &[("prompt", "none")]);
    let r = s.browser.get(&app.base, &url).await.redirect();
    assert!(
        Landed::param(&r, "code").is_some(),
        "the session goes on: {r}"
    );
}

/// One browser, one session: when another account signs in in the same browser
/// (`prompt=select_account`), the first account's session ends and its service is told.
async fn another_account_signing_in_in_the_browser_ends_the_first_s_session(app: TestApp) {
    let e = Endpoints::start(&[]).await;
    app.user("galya", PW).await;
    app.user("hana", PW).await;
    let rp = told_client(&app, &e, "/rp").await;
    let b = Browser::new();
    let first = sign_in(&app, &rp, &b, "galya", PW).await;
    let (url, verifier) = authorize_url(&app, &rp, &[("prompt", "select_account")]);
    let back = b.sign_in_at(&app.base, &url, "hana", PW).await;
    let code = Landed::param(&back, "code").expect("code");
    let (status, second) = redeem(&app, &rp, &code, &verifier).await;
    assert_eq!(status, 200, "{second}");
    let got = e.await_posts("/rp", 1).await;
    check_logout_token(&app, &got[0], &rp, first["id_token"].as_str().unwrap()).await;
    let rt = first["refresh_token"].as_str().unwrap();
    assert_eq!(
        refresh(&app, &rp, rt).await.0,
        400,
        "the first session's grant ended"
    );
    let rt = second["refresh_token"].as_str().unwrap();
    assert_eq!(refresh(&app, &rp, rt).await.0, 200, "the new one lives");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        e.got.lock().unwrap().len(),
        1,
        "only the first session was told of"
    );
}

/// A session made at one node and ended at the other: the node that ends it tells the
/// client, with a token of the shared keys, and the online grant ends for both nodes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_made_at_one_node_is_told_of_when_it_ends_at_the_other() {
    let Some((a, b)) = spawn_two_nodes().await else {
        eprintln!("VHOD_TEST_DATABASE_URL unset: two-node test not run here");
        return;
    };
    let e = Endpoints::start(&[]).await;
    let (rp, browser, t) = signed_in_and_told(&a, &e, "erik", "/rp").await;
    let id_token = t["id_token"].as_str().unwrap();
    logout_with_hint(&b, &browser, id_token).await;
    let got = e.await_posts("/rp", 1).await;
    check_logout_token(&b, &got[0], &rp, id_token).await;
    let rt = t["refresh_token"].as_str().unwrap();
    assert_eq!(refresh(&a, &rp, rt).await.0, 400, "ended at node A too");
}

/// A client with pairwise identifiers (OpenID Connect Core 1.0 §8.1) is told of the ended
/// session by the `sub` of its sector, the one its ID Token carried; its `id_token_hint`
/// named the session's citizen, so the logout was not asked about.
async fn a_pairwise_client_is_told_by_the_sub_it_knows(app: TestApp) {
    let e = Endpoints::start(&[]).await;
    let account = app.user("alice", PW).await;
    let rp = told_client(&app, &e, "/pairwise").await;
    app.change_client(&rp.id, |c| c.sector_identifier = Some("rp.example".into()))
        .await;
    let b = Browser::new();
    let t = sign_in(&app, &rp, &b, "alice", PW).await;
    let id_token = t["id_token"].as_str().unwrap();
    assert_ne!(claims_of(id_token)["sub"], account.as_str());
    logout_with_hint(&app, &b, id_token).await;
    let posts = e.await_posts("/pairwise", 1).await;
    check_logout_token(&app, &posts[0], &rp, id_token).await;
}

/// The queued back-channel logouts, whatever their time.
async fn queued(app: &TestApp) -> Vec<idp::store::pending_logouts::PendingLogout> {
    app.app
        .db
        .pending_logouts()
        .due(i64::MAX, 10)
        .await
        .unwrap()
}

crate::on_both_store_kinds!(a_client_down_for_longer_is_told_later);

/// A client that is down through the first three attempts is told later, on the retry
/// policy's schedule (a second in the tests' configuration; five attempts in all here), with
/// a fresh Logout Token; once it answers, nothing more is sent.
async fn a_client_down_for_longer_is_told_later(store: Store) {
    let Some(app) = spawn_configured(store, |c| c.notify.retry_max_attempts = 5).await else {
        return;
    };
    let e = Endpoints::start(&[("/down", &[503, 503, 503, 503])]).await;
    let (rp, browser, t) = signed_in_and_told(&app, &e, "erin", "/down").await;
    let id_token = t["id_token"].as_str().unwrap();
    logout_with_hint(&app, &browser, id_token).await;
    let first = e.await_posts("/down", 3).await;
    assert!(first
        .iter()
        .all(|p| p.logout_token == first[0].logout_token));
    eventually("the delivery queued with its three attempts", || async {
        queued(&app).await.iter().any(|l| l.attempts == 3)
    })
    .await;
    let row = queued(&app).await;
    assert_eq!(row.len(), 1, "{row:?}");
    assert_eq!(
        (row[0].client_id.as_str(), row[0].sid.as_str()),
        (rp.id.as_str(), claims_of(id_token)["sid"].as_str().unwrap())
    );
    // Not before it is due: the server's clock has not moved.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(e.posts("/down").len(), 3);
    // Due: the fourth attempt fails too, and is counted; the fifth is delivered.
    app.clock.advance(2);
    e.await_posts("/down", 4).await;
    eventually("the fourth attempt counted", || async {
        queued(&app).await.first().is_some_and(|l| l.attempts == 4)
    })
    .await;
    app.clock.advance(2);
    let got = e.await_posts("/down", 5).await;
    let jti = check_logout_token(&app, &got[4], &rp, id_token).await;
    let first_jti = check_logout_token(&app, &got[0], &rp, id_token).await;
    assert_ne!(jti, first_jti, "a fresh token for a later attempt");
    assert_ne!(got[3].logout_token, got[4].logout_token);
    eventually("the queue is empty", || async {
        queued(&app).await.is_empty()
    })
    .await;
    app.clock.advance(3600);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(
        e.posts("/down").len(),
        5,
        "nothing after the client answered"
    );
}

/// What `send` writes before a delivery's first attempt, as a node that stopped then leaves
/// it: held for [`idp::oauth::backchannel::FIRST_LEASE`].
async fn left_by_a_stopped_node(app: &TestApp, client_id: &str, account: &str, sid: &str) {
    let now = app.app.now();
    let held = now + idp::oauth::backchannel::FIRST_LEASE;
    let queue = app.app.db.pending_logouts();
    queue.add(client_id, account, sid, held, now).await.unwrap();
}

/// A node that stops before its first attempt leaves the delivery in the queue, held for a
/// minute; once that lapses, any node delivers it, once. A client that no longer listens by
/// then is not told, and its row goes.
async fn a_logout_its_node_left_undelivered_is_delivered_once_its_hold_lapses(app: TestApp) {
    let e = Endpoints::start(&[]).await;
    let account = app.user("fay", PW).await;
    let rp = told_client(&app, &e, "/rp").await;
    let t = sign_in(&app, &rp, &Browser::new(), "fay", PW).await;
    let id_token = t["id_token"].as_str().unwrap();
    let sid = claims_of(id_token)["sid"].as_str().unwrap().to_owned();
    left_by_a_stopped_node(&app, &rp.id, &account, &sid).await;
    app.clock.advance(30);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert!(
        e.posts("/rp").is_empty(),
        "still held by the node that wrote it"
    );
    app.clock.advance(31);
    let got = e.await_posts("/rp", 1).await;
    check_logout_token(&app, &got[0], &rp, id_token).await;
    eventually("the queue is empty", || async {
        queued(&app).await.is_empty()
    })
    .await;
    app.clock.advance(3600);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(e.posts("/rp").len(), 1, "delivered once");
    // A client that dropped its back-channel URI meanwhile is not told; the row goes.
    let other = told_client(&app, &e, "/gone").await;
    left_by_a_stopped_node(&app, &other.id, &account, &sid).await;
    app.change_client(&other.id, |c| c.backchannel_logout_uri = None)
        .await;
    app.clock.advance(61);
    eventually(
        "the row of a client that no longer listens goes",
        || async { queued(&app).await.is_empty() },
    )
    .await;
    assert!(e.posts("/gone").is_empty());
}

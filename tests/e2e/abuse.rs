//! Bad input never gets a 5xx, and repeated failed sign-ins are throttled in the shared
//! cache.

use crate::helpers::*;
use crate::on_both_stores;

on_both_stores!(ten_failed_sign_ins_pause_the_login);

async fn ten_failed_sign_ins_pause_the_login(app: TestApp) {
    let rp = app.confidential().await;
    app.user("alice", "correct horse battery").await;
    let b = Browser::new();
    let (url, _) = authorize_url(&app, &rp, &[("ui_locales", "en")]);
    let (_, _, html) = b.get(&app.base, &url).await.page();
    for _ in 0..10 {
        let (s, _, _) = b
            .submit(
                &app.base,
                &html,
                &[("login", "alice"), ("password", "guess guess guess")],
            )
            .await
            .page();
        assert_eq!(s, 401);
    }
    let (s, _, page) = b
        .submit(
            &app.base,
            &html,
            &[("login", "alice"), ("password", "correct horse battery")],
        )
        .await
        .page();
    assert_eq!(
        s, 429,
        "even the right password waits once the login is throttled"
    );
    assert!(page.contains("Too many attempts"));
    // Another login from the same browser is not affected.
    app.user("bob", "another horse battery").await;
    let landed = b
        .submit(
            &app.base,
            &html,
            &[("login", "bob"), ("password", "another horse battery")],
        )
        .await;
    assert!(matches!(
        landed,
        Landed::Page(200, _, _) | Landed::Redirect(_)
    ));
}

#[tokio::test]
async fn garbage_on_every_endpoint_is_a_4xx_never_a_5xx() {
    let app = spawn_app(Store::Embedded).await.unwrap();
    let rp = app.confidential().await;
    let garbage: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"%%%%".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x80],
        b"a=1&a=2&b".to_vec(),
        b"grant_type=authorization_code&code=%00%ff&redirect_uri=%zz".to_vec(),
        b"token=eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.&token_type_hint=access_token".to_vec(),
        format!("client_id={}&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=a.b.c", rp.id).into_bytes(),
        "x=".repeat(20_000).into_bytes(),
        b"{\"json\": true}".to_vec(),
    ];
    let paths = [
        "/authorize",
        "/token",
        "/userinfo",
        "/introspect",
        "/revoke",
        "/logout",
        "/interaction/nope/login",
        "/interaction/nope/consent",
    ];
    let client = http();
    for path in paths {
        for body in &garbage {
            for ct in [
                "application/x-www-form-urlencoded",
                "application/json",
                "text/plain",
            ] {
                let r = client
                    .post(app.url(path))
                    .header("content-type", ct)
                    .header("authorization", "Basic %%%")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert!(
                    !r.status().is_server_error(),
                    "POST {path} ({ct}) answered {}",
                    r.status()
                );
            }
        }
        let q = "?client_id=%ff&redirect_uri=%00&response_type=code&claims=%7B&max_age=99999999999999999999&prompt=none&prompt=login";
        let r = client
            .get(format!("{}{path}{q}", app.base))
            .header("authorization", "Bearer not-a-token")
            .send()
            .await
            .unwrap();
        assert!(
            !r.status().is_server_error(),
            "GET {path} answered {}",
            r.status()
        );
    }
    let r = client
        .get(app.url("/interaction/%ff%fe"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
    let long = format!("/interaction/{}", "a".repeat(5000));
    assert!(client
        .get(app.url(&long))
        .send()
        .await
        .unwrap()
        .status()
        .is_client_error());
}

//! Notifications through real transports over real sockets: an SMTP server speaking the
//! protocol (RFC 5321) and an HTTP SMS gateway, both started by the test; the development
//! outbox (files and page); a channel without a transport refuses.

use crate::helpers::*;
use crate::on_both_store_kinds;
use idp::notify::{Message, Notifier, NotifyError, Outbox, Recipient, SmsSettings, SmtpSettings};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn message(to: Recipient) -> Message {
    Message {
        to,
        kind: "registration_code".into(),
        subject: "Код подтверждения".into(),
        text: "Ваш код: 123456 <script>".into(),
    }
}

/// A one-connection SMTP server: answers like a relay and records the envelope and data.
async fn smtp_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    tokio::spawn(async move {
        let (s, _) = l.accept().await.unwrap();
        let (r, mut w) = s.into_split();
        let mut lines = BufReader::new(r).lines();
        w.write_all(b"220 test ESMTP\r\n").await.unwrap();
        let mut in_data = false;
        while let Ok(Some(line)) = lines.next_line().await {
            seen.lock().unwrap().push(line.clone());
            let reply: &[u8] = if in_data {
                if line == "." {
                    in_data = false;
                    b"250 queued\r\n"
                } else {
                    continue;
                }
            } else {
                let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
                match verb.as_str() {
                    "EHLO" | "HELO" => b"250-test\r\n250 8BITMIME\r\n",
                    "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 ok\r\n",
                    "DATA" => {
                        in_data = true;
                        b"354 go on\r\n"
                    }
                    "QUIT" => {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        break;
                    }
                    _ => b"502 no\r\n",
                }
            };
            w.write_all(reply).await.unwrap();
        }
    });
    (port, log)
}

#[tokio::test]
async fn email_goes_out_over_smtp() {
    let (port, log) = smtp_server().await;
    let n = Notifier::new(
        Some(SmtpSettings {
            url: format!("smtp://127.0.0.1:{port}"),
            from: "vhod <no-reply@id.example>".into(),
        }),
        None,
        None,
    )
    .unwrap();
    n.send(&message(Recipient::Email("alice@example.com".into())), 1)
        .await
        .unwrap();
    let seen = log.lock().unwrap().join("\n");
    assert!(seen.contains("MAIL FROM:<no-reply@id.example>"), "{seen}");
    assert!(seen.contains("RCPT TO:<alice@example.com>"), "{seen}");
    assert!(
        seen.contains("Subject: =?utf-8?"),
        "RFC 2047 subject: {seen}"
    );
    // The body (base64, as lettre encodes non-ASCII text) between the blank line and ".".
    let body: String = seen
        .split("\n\n")
        .nth(1)
        .and_then(|b| b.split("\n.\n").next())
        .unwrap()
        .split('\n')
        .collect();
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    assert_eq!(String::from_utf8(text).unwrap(), "Ваш код: 123456 <script>");
    // A refused address is an error, not a panic.
    let e = n
        .send(&message(Recipient::Email("not an address".into())), 1)
        .await
        .unwrap_err();
    assert!(matches!(e, NotifyError::Address(_)), "{e}");
}

#[tokio::test]
async fn sms_goes_to_the_http_gateway_with_its_token() {
    use axum::{extract::State, http::HeaderMap, routing::post, Json, Router};
    type Seen = Arc<Mutex<Vec<(Option<String>, serde_json::Value)>>>;
    let seen: Seen = Arc::default();
    async fn gateway(
        State(seen): State<Seen>,
        headers: HeaderMap,
        Json(v): Json<serde_json::Value>,
    ) -> axum::http::StatusCode {
        let auth = headers
            .get("authorization")
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned);
        let fail = v["to"] == "+70000000000";
        seen.lock().unwrap().push((auth, v));
        if fail {
            axum::http::StatusCode::BAD_GATEWAY
        } else {
            axum::http::StatusCode::ACCEPTED
        }
    }
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let app = Router::new()
        .route("/send", post(gateway))
        .with_state(seen.clone());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    let n = Notifier::new(
        None,
        Some(SmsSettings {
            url: format!("http://{addr}/send"),
            token: Some("gw-token".into()),
        }),
        None,
    )
    .unwrap();
    n.send(&message(Recipient::Sms("+79990001122".into())), 1)
        .await
        .unwrap();
    let got = seen.lock().unwrap()[0].clone();
    assert_eq!(got.0.as_deref(), Some("Bearer gw-token"));
    assert_eq!(got.1["to"], "+79990001122");
    assert_eq!(got.1["text"], "Ваш код: 123456 <script>");
    let e = n
        .send(&message(Recipient::Sms("+70000000000".into())), 1)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("502"), "{e}");
    // No e-mail transport and no outbox: e-mail is refused, plainly.
    let e = n
        .send(&message(Recipient::Email("a@example.com".into())), 1)
        .await
        .unwrap_err();
    assert!(matches!(e, NotifyError::NotConfigured("e-mail")), "{e}");
}

#[tokio::test]
async fn development_outbox_keeps_files_and_shows_a_page() {
    let dir = tempfile::tempdir().unwrap();
    let n = Notifier::new(None, None, Some(Outbox::new(dir.path().join("outbox")))).unwrap();
    n.send(
        &message(Recipient::Sms("+79990001122".into())),
        1_700_000_000,
    )
    .await
    .unwrap();
    let files: Vec<_> = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    assert_eq!(saved["channel"], "sms");
    assert_eq!(saved["to"], "+79990001122");
    assert_eq!(saved["at"], 1_700_000_000);

    // The running server (development mode) shows its own outbox, escaped.
    let app = spawn_app(Store::Embedded).await.unwrap();
    app.app
        .notifier
        .send(&message(Recipient::Email("bob@example.com".into())), 1)
        .await
        .unwrap();
    let r = http().get(app.url("/dev/outbox")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("bob@example.com") && html.contains("123456"));
    assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
}

/// `send_detached` returns before the transport answers (password recovery must not show,
/// by its timing, that a message went out), delivers all the same, and refuses at once only
/// a channel nothing serves.
#[tokio::test]
async fn a_detached_message_is_delivered_without_being_waited_for() {
    let g = HeldGateway::start().await;
    let dir = tempfile::tempdir().unwrap();
    let n = Notifier::new(
        None,
        Some(SmsSettings {
            url: g.url.clone(),
            token: None,
        }),
        Some(Outbox::new(dir.path().join("outbox"))),
    )
    .unwrap();
    n.send_detached(message(Recipient::Sms("+79990001122".into())), 1)
        .unwrap();
    // The outbox has it at once; the gateway gets it while its answer is still held back.
    assert_eq!(n.outbox.as_ref().unwrap().recent().len(), 1);
    g.received(1).await;
    assert_eq!(g.answers(), 0);
    assert_eq!(g.seen.lock().unwrap()[0]["to"], "+79990001122");
    g.release_one().await;
    assert_eq!(g.answers(), 1);

    // Without a transport or an outbox for the channel, it refuses at once.
    let bare = Notifier::new(None, None, None).unwrap();
    let e = bare
        .send_detached(message(Recipient::Email("a@example.com".into())), 1)
        .unwrap_err();
    assert!(matches!(e, NotifyError::NotConfigured("e-mail")), "{e}");
}

/// Nobody waits for a detached delivery's answer, so a transient failure (a gateway 5xx, 429)
/// is tried again; a refusal (another 4xx) is not, and a delivery that keeps failing stops
/// after three attempts.
#[tokio::test]
async fn a_detached_message_is_tried_again_only_after_a_transient_failure() {
    for (statuses, attempts) in [(&[503][..], 2), (&[400][..], 1), (&[503, 429, 500][..], 3)] {
        let g = HeldGateway::answering(statuses).await;
        let n = Notifier::new(
            None,
            Some(SmsSettings {
                url: g.url.clone(),
                token: None,
            }),
            None,
        )
        .unwrap();
        n.send_detached(message(Recipient::Sms("+79990001122".into())), 1)
            .unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(15), n.finish_detached())
            .await
            .expect("the delivery ends");
        let seen = g.seen.lock().unwrap();
        assert_eq!(seen.len(), attempts, "answers {statuses:?}");
        assert!(seen.iter().all(|v| v["text"] == "Ваш код: 123456 <script>"));
    }
}

on_both_store_kinds!(a_notice_that_could_not_go_out_is_tried_again);

/// A security notice the SMS gateway could not take for a reason that may pass is queued
/// (address, kind and language; no text) and goes out on a later attempt, in the account's
/// language; a refusal for good, or a failure past `notify.retry_max_attempts`, ends it.
async fn a_notice_that_could_not_go_out_is_tried_again(store: Store) {
    use idp::i18n::Lang;
    // (the gateway's answers before its 202s, the attempts made): delivered on the third;
    // refused for good on the first; given up after the third.
    for (statuses, attempts) in [
        (&[503, 429][..], 3),
        (&[400][..], 1),
        (&[503, 503, 503][..], 3),
    ] {
        let g = HeldGateway::answering(statuses).await;
        let url = g.url.clone();
        let Some(app) = spawn_configured(store, |c| c.notify.sms_url = Some(url)).await else {
            return;
        };
        let id = app
            .user_with("alice", "correct horse battery", |a| {
                a.email = None;
                a.phone_verified = true;
            })
            .await;
        let alice = app.app.db.accounts().get(&id).await.unwrap().unwrap();
        idp::notify::tell(&app.app, &alice, "password_changed", Lang::En).await;
        g.received(1).await;
        // Each further attempt comes once the server's clock passes the delay (1 s here).
        for n in 2..=attempts {
            app.clock.advance(2);
            g.received(n).await;
        }
        let queue = app.app.db.pending_notices();
        eventually("the queue is empty", || async {
            queue.due(i64::MAX, 10).await.unwrap().is_empty()
        })
        .await;
        // Nothing more comes, however long one waits.
        app.clock.advance(3600);
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let seen = g.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), attempts, "answers {statuses:?}");
        let text = Lang::En.t("password_changed_text");
        assert!(
            seen.iter()
                .all(|m| m["to"] == "+79990001122" && m["text"] == text),
            "{seen:?}"
        );
    }

    // The queue itself: a notice is claimed by one taker only. (Due long after the server's
    // clock, so that the server's own retries leave it alone.)
    let Some(app) = spawn_app(store).await else {
        return;
    };
    let t = app.app.now() + 1_000_000;
    let queue = app.app.db.pending_notices();
    let to = Recipient::Sms("+79990001122".into());
    queue
        .add(&to, "password_changed", "ru", 1, t, 5)
        .await
        .unwrap();
    let due = queue.due(t, 10).await.unwrap();
    assert_eq!((due.len(), due[0].to.clone(), due[0].attempts), (1, to, 1));
    assert_eq!(queue.due(t - 1, 10).await.unwrap(), vec![]);
    assert!(queue
        .rows()
        .claim(&due[0].id, due[0].next_at, t + 100)
        .await
        .unwrap());
    assert!(
        !queue
            .rows()
            .claim(&due[0].id, due[0].next_at, t + 100)
            .await
            .unwrap(),
        "claimed twice"
    );
    assert_eq!(queue.due(t + 99, 10).await.unwrap(), vec![]);
}

on_both_store_kinds!(a_sign_in_does_not_wait_for_the_new_device_notice);

/// A sign-in from a new browser comes back to the service while the SMS gateway still holds
/// its notice: a slow or hanging gateway (or mail server) does not hold up sign-ins. The
/// notice waits in the queue, held by the node sending it, until it goes out once the
/// gateway answers; then nothing is left queued.
async fn a_sign_in_does_not_wait_for_the_new_device_notice(store: Store) {
    let g = HeldGateway::start().await;
    let url = g.url.clone();
    let Some(app) = spawn_configured(store, |c| c.notify.sms_url = Some(url)).await else {
        return;
    };
    app.user_with("alice", "correct horse battery", |a| {
        a.email = None;
        a.phone_verified = true;
    })
    .await;
    let rp = app.confidential().await;
    sign_in(&app, &rp, &Browser::new(), "alice", "correct horse battery").await;
    // A second browser is news. Were the sign-in waiting for the gateway, which answers
    // only when released below, it would not come back at all (or after the transport's
    // 20 s timeout).
    let second = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        sign_in(&app, &rp, &Browser::new(), "alice", "correct horse battery"),
    )
    .await
    .expect("the sign-in came back while the gateway held its notice");
    assert!(second["id_token"].is_string(), "{second}");
    g.received(1).await;
    assert_eq!(g.answers(), 0);
    let seen = g.seen.lock().unwrap().clone();
    assert_eq!(seen[0]["to"], "+79990001122");
    let texts = [idp::i18n::Lang::Ru, idp::i18n::Lang::En].map(|l| l.t("new_device_text"));
    assert!(texts.iter().any(|t| seen[0]["text"] == *t), "{seen:?}");
    // Meanwhile it is in the queue, held by this node: were the node to stop now, another
    // would send it once the hold lapses.
    let queue = app.app.db.pending_notices();
    let held = queue.due(i64::MAX, 10).await.unwrap();
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!((held[0].kind.as_str(), held[0].attempts), ("new_device", 0));
    let now = app.app.now();
    assert!(
        queue.due(now, 10).await.unwrap().is_empty(),
        "due while held"
    );
    g.release_one().await;
    assert_eq!(g.answers(), 1);
    // Delivered: nothing is left to be tried again.
    eventually("the delivered notice leaves the queue", || async {
        queue.due(i64::MAX, 10).await.unwrap().is_empty()
    })
    .await;
    assert_eq!(g.seen.lock().unwrap().len(), 1, "sent once");
}

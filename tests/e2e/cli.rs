//! The `vhod` binary: serve, and the operator commands acting on the same store while it
//! runs; production-mode refusals.

use crate::helpers::{eventually, http, wait_for_kid};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn vhod(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vhod"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .arg("--data-dir")
        .arg(dir);
    c
}

fn run(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut cmd = vhod(dir);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

struct Server(std::process::Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `vhod serve` on a free port over `dir` (after `vhod migrate`, so serve and the CLI
/// do not race to make the first key); returns the running server and its base URL.
async fn serve(dir: &std::path::Path, env: &[(&str, &str)]) -> (Server, String) {
    assert!(run(dir, &["migrate"], None).0);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut cmd = vhod(dir);
    cmd.arg("serve")
        .env("VHOD_LISTEN", format!("127.0.0.1:{port}"))
        .envs(env.iter().copied());
    let server = Server(
        cmd.stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_ready(&base).await;
    (server, base)
}

/// `vhod clients add` with a name and redirect URI `http://127.0.0.1:9/cb`.
const ADD_CLIENT: [&str; 6] = [
    "clients",
    "add",
    "--name",
    "App",
    "--redirect-uri",
    "http://127.0.0.1:9/cb",
];

/// `vhod clients add --json` with redirect URI `http://127.0.0.1:9/cb` and `extra`
/// arguments; returns the client id and secret.
fn add_client(dir: &std::path::Path, extra: &[&str]) -> (String, String) {
    let args = with(&with(&ADD_CLIENT, &["--json"]), extra);
    let (ok, out, err) = run(dir, &args, None);
    assert!(ok, "{err}");
    let c: Value = serde_json::from_str(&out).unwrap();
    (
        c["client_id"].as_str().unwrap().to_owned(),
        c["client_secret"].as_str().unwrap().to_owned(),
    )
}

async fn wait_ready(base: &str) {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(30) {
        if let Ok(r) = http().get(format!("{base}/readyz")).send().await {
            if r.status() == 200 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("server did not become ready");
}

#[tokio::test]
async fn clients_users_and_keys_added_by_cli_work_in_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = serve(
        dir.path(),
        &[
            ("VHOD_KEY_REFRESH_SECS", "1"),
            ("VHOD_KEY_PREPUBLISH_SECS", "0"),
        ],
    )
    .await;

    let (id, secret) = add_client(
        dir.path(),
        &[
            "--grant-type",
            "client_credentials",
            "--grant-type",
            "authorization_code",
        ],
    );
    let (id, secret) = (id.as_str(), secret.as_str());
    assert!(secret.starts_with("vhs_"));
    let r = http()
        .post(format!("{base}/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        200,
        "a client added while serving works at once"
    );

    let (ok, _, err) = run(
        dir.path(),
        &[
            "users",
            "add",
            "--login",
            "bob",
            "--password-stdin",
            "--email",
            "bob@example.com",
            "--name",
            "Bob Builder",
            "--address",
            "1 Main St, Springfield",
        ],
        Some("a long enough password\n"),
    );
    assert!(ok, "{err}");
    let (ok, _, err) = run(
        dir.path(),
        &["users", "add", "--login", "bob", "--password-stdin"],
        Some("another long password\n"),
    );
    assert!(!ok && err.contains("taken"), "{err}");
    let (ok, _, err) = run(
        dir.path(),
        &["users", "add", "--login", "carol", "--password-stdin"],
        Some("short\n"),
    );
    assert!(!ok && err.contains("8"), "{err}");

    let (ok, out, _) = run(dir.path(), &["clients", "list", "--json"], None);
    assert!(
        ok && out.contains(id) && !out.contains(secret),
        "the list never shows secrets"
    );

    // A public device client (RFC 8628) needs no redirect URI; `device_code` is the short
    // name of the grant's URN, which the list shows. It can ask for codes at once.
    let (ok, out, err) = run(
        dir.path(),
        &[
            "clients",
            "add",
            "--name",
            "TV",
            "--public",
            "--grant-type",
            "device_code",
            "--json",
        ],
        None,
    );
    assert!(ok, "{err}");
    let tv: Value = serde_json::from_str(&out).unwrap();
    let tv = tv["client_id"].as_str().unwrap();
    let (ok, out, _) = run(dir.path(), &["clients", "list", "--json"], None);
    let listed: Value = serde_json::from_str(&out).unwrap();
    let entry = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == tv)
        .unwrap_or_else(|| panic!("{out}"));
    assert!(ok);
    assert_eq!(
        entry["grant_types"],
        serde_json::json!(["urn:ietf:params:oauth:grant-type:device_code"])
    );
    let r = http()
        .post(format!("{base}/device_authorization"))
        .form(&[("client_id", tv), ("scope", "openid")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let codes: Value = r.json().await.unwrap();
    assert!(codes["user_code"].is_string(), "{codes}");

    // --require-par: the running server refuses this client's plain authorization
    // requests and takes its pushed ones.
    let (par_id, par_secret) = add_client(dir.path(), &["--require-par"]);
    let (_, challenge) = crate::helpers::pkce();
    let request = [
        ("redirect_uri", "http://127.0.0.1:9/cb"),
        ("response_type", "code"),
        ("scope", "openid"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let plain = http()
        .get(format!("{base}/authorize"))
        .query(&[("client_id", par_id.as_str())])
        .query(&request)
        .send()
        .await
        .unwrap();
    let location = plain.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("http://127.0.0.1:9/cb?error=invalid_request"),
        "{location}"
    );
    let pushed = http()
        .post(format!("{base}/par"))
        .basic_auth(&par_id, Some(&par_secret))
        .form(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), 201);
    let (ok, out, _) = run(dir.path(), &["clients", "list", "--json"], None);
    assert!(ok, "{out}");
    let list: Vec<Value> = serde_json::from_str(&out).unwrap();
    let flag = |cid: &str| {
        list.iter().find(|c| c["id"] == cid).unwrap()["require_pushed_authorization_requests"]
            .clone()
    };
    assert_eq!(
        (flag(id), flag(&par_id)),
        (Value::Bool(false), Value::Bool(true))
    );

    let (ok, out, _) = run(dir.path(), &["keys", "rotate"], None);
    assert!(ok, "{out}");
    let (ok, out, _) = run(dir.path(), &["keys", "list", "--json"], None);
    assert!(ok);
    let keys: Vec<Value> = serde_json::from_str(&out).unwrap();
    // ES256 (primary) and RS256 (the default extra algorithm), each rotated once.
    assert_eq!(keys.len(), 4, "{out}");
    for alg in ["ES256", "RS256"] {
        assert_eq!(keys.iter().filter(|k| k["alg"] == alg).count(), 2, "{out}");
    }
    let newest = keys
        .iter()
        .find(|k| k["status"] == "active" && k["alg"] == "ES256")
        .unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_for_kid(&base, &newest).await;

    let (ok, _, _) = run(dir.path(), &["clients", "remove", id], None);
    assert!(ok);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = http()
        .post(format!("{base}/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a removed client stops working");
    let bad: [(&[&str], &str); 3] = [
        (
            &[
                "--redirect-uri",
                "https://rp.example/cb",
                "--min-level",
                "godlike",
            ],
            "simplified, standard, confirmed",
        ),
        (&["--redirect-uri", "not a uri"], "absolute"),
        (
            &[
                "--redirect-uri",
                "https://rp.example/cb",
                "--id-token-alg",
                "PS256",
            ],
            "ES256, RS256",
        ),
    ];
    for (args, needle) in bad {
        let mut all = vec!["clients", "add", "--name", "x"];
        all.extend_from_slice(args);
        let (ok, _, err) = run(dir.path(), &all, None);
        assert!(!ok && err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn production_mode_refuses_unsafe_settings() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![
                ("VHOD_MODE", "production"),
                ("VHOD_ISSUER", "https://id.example"),
            ],
            "key-encryption key",
        ),
        (
            vec![
                ("VHOD_MODE", "production"),
                ("VHOD_KEK", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
            ],
            "https",
        ),
        (
            vec![
                ("VHOD_MODE", "production"),
                ("VHOD_KEK", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
                ("VHOD_ISSUER", "https://id.example"),
                ("VHOD_LISTEN", "0.0.0.0:0"),
            ],
            "plain HTTP",
        ),
        (
            vec![
                ("VHOD_MODE", "production"),
                ("VHOD_KEK", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
                ("VHOD_ISSUER", "https://id.example"),
                ("VHOD_LOG", "debug"),
            ],
            "debug",
        ),
        (
            vec![
                ("VHOD_MODE", "production"),
                ("VHOD_KEK", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
                ("VHOD_ISSUER", "https://id.example"),
                ("VHOD_SMTP_URL", "smtp://mail.example:25"),
            ],
            "unencrypted SMTP",
        ),
        (
            vec![
                ("VHOD_MODE", "production"),
                ("VHOD_KEK", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
                ("VHOD_ISSUER", "https://id.example"),
                ("VHOD_SMS_URL", "http://sms.example/send"),
            ],
            "https SMS gateway",
        ),
        (
            vec![
                ("VHOD_MODE", "production"),
                ("VHOD_KEK", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
                ("VHOD_ISSUER", "https://id.example"),
                (
                    "VHOD_IDENTITY_REGISTRY_URL",
                    "http://registry.example/check",
                ),
            ],
            "https identity registry",
        ),
        (
            vec![("VHOD_IDENTITY_REGISTRY_URL", "not a url")],
            "identity.registry_url",
        ),
        (
            vec![("VHOD_IDENTITY_REGISTRY_TIMEOUT_MS", "0")],
            "registry_timeout_ms",
        ),
        (
            vec![("VHOD_DATABASE_MAX_CONNECTIONS", "0")],
            "database_max_connections",
        ),
        (
            vec![("VHOD_DATABASE_MAX_CONNECTIONS", "many")],
            "VHOD_DATABASE_MAX_CONNECTIONS",
        ),
    ];
    for (env, needle) in cases {
        let mut cmd = vhod(dir.path());
        cmd.arg("serve").envs(env.iter().copied());
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "must refuse: {env:?}");
        assert!(err.contains(needle), "{env:?}: {err}");
    }
    let out = vhod(dir.path())
        .arg("serve")
        .env("VHOD_MODE", "staging")
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// Production refuses a Redis that would drop keys when full: sessions, one-time codes and
/// the records that keep codes and tokens single-use could vanish.
#[test]
fn production_refuses_a_redis_that_evicts() {
    if std::env::var("VHOD_TEST_REDIS_URL").is_err() {
        eprintln!("note: VHOD_TEST_REDIS_URL unset, Redis variant skipped (CI sets it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut redis = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(["--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server");
    let up = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let mut serve = vhod(dir.path())
        .arg("serve")
        .envs([
            ("VHOD_MODE", "production"),
            ("VHOD_KEK", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
            ("VHOD_ISSUER", "https://id.example"),
            ("VHOD_LISTEN", "127.0.0.1:0"),
            ("VHOD_REDIS_URL", &format!("redis://127.0.0.1:{port}/")),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A server that starts instead of refusing is stopped, and the test fails, not hangs.
    let deadline = Instant::now() + Duration::from_secs(30);
    let exited = loop {
        if let Some(status) = serve.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = serve.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut serve.stderr.take().unwrap(), &mut err).unwrap();
    let _ = serve.wait();
    let _ = redis.kill();
    let _ = redis.wait();
    assert!(up, "the test's redis-server started");
    assert!(
        exited.is_some_and(|s| !s.success()),
        "must refuse to start: {err}"
    );
    assert!(err.contains("maxmemory-policy allkeys-lru"), "{err}");
}

#[tokio::test]
async fn users_moved_in_with_a_totp_secret_are_asked_for_a_code() {
    use crate::helpers::{pkce, redeem_at, Browser, Landed, Rp};
    let dir = tempfile::tempdir().unwrap();
    // Bad input first: each is refused with a clear message and creates nothing.
    let bad: [(&[&str], &str); 3] = [
        (&["--totp-secret", "JBSWY3DPEHPK3PXP"], "128 bits"),
        (&["--totp-secret", "not base32!"], "base32"),
        (&["--level", "godlike"], "simplified, standard, confirmed"),
    ];
    for (args, needle) in bad {
        let mut all = vec!["users", "add", "--login", "eve", "--password-stdin"];
        all.extend_from_slice(args);
        let (ok, _, err) = run(dir.path(), &all, Some("a long enough password\n"));
        assert!(!ok && err.contains(needle), "{args:?}: {err}");
    }
    let (_server, base) = serve(dir.path(), &[("VHOD_KEY_EXTRA_ALGS", "")]).await;
    let (id, secret) = add_client(dir.path(), &[]);
    let (id, secret) = (id.as_str(), secret.as_str());
    // base32 of the RFC 6238 SHA-1 seed "12345678901234567890", as an app would show it.
    let (ok, _, err) = run(
        dir.path(),
        &[
            "users",
            "add",
            "--login",
            "eve",
            "--password-stdin",
            "--totp-secret",
            "gezd gnbv gy3t qojq gezd gnbv gy3t qojq",
            "--level",
            "standard",
        ],
        Some("a long enough password\n"),
    );
    assert!(ok, "{err}");

    let (verifier, challenge) = pkce();
    let url = format!(
        "{base}/authorize?response_type=code&client_id={id}&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb\
         &scope=openid&state=s&code_challenge={challenge}&code_challenge_method=S256"
    );
    let b = Browser::new();
    let (_, _, html) = b.get(&base, &url).await.page();
    let (_, _, html) = b
        .submit(
            &base,
            &html,
            &[("login", "eve"), ("password", "a long enough password")],
        )
        .await
        .page();
    assert!(html.contains("name=\"code\""), "asked for a code: {html}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let code = idp::totp::code_at(b"12345678901234567890", now);
    let landed = b
        .submit_and_allow(&base, &html, &[("code", &code)])
        .await
        .redirect();
    let auth_code = Landed::param(&landed, "code").unwrap();
    let rp = Rp {
        id: id.to_owned(),
        secret: Some(secret.to_owned()),
        redirect_uri: "http://127.0.0.1:9/cb".into(),
        post_logout: String::new(),
    };
    let (status, t) = redeem_at(&base, &rp, &auth_code, &verifier).await;
    assert_eq!(status, 200, "{t}");
    let claims = keys::decode_unverified(t["id_token"].as_str().unwrap())
        .unwrap()
        .1;
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    assert_eq!(claims["acr"], "standard");
    // Operators can unlock a locked account by its login.
    let (ok, out, err) = run(dir.path(), &["users", "unlock", "--login", "eve"], None);
    assert!(ok && out.contains("unlocked"), "{err}");
    let (ok, _, err) = run(dir.path(), &["users", "unlock", "--login", "nobody"], None);
    assert!(!ok && err.contains("no account"), "{err}");
}

/// Runs `args`, which must fail with `reason` in its error output.
/// `base` followed by `extra`.
fn with<'a>(base: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    [base, extra].concat()
}

fn refused(dir: &std::path::Path, args: &[&str], reason: &str) {
    let (ok, _, err) = run(dir, args, None);
    assert!(!ok && err.contains(reason), "{args:?}: {err}");
}

/// The audit events about `subject`, oldest first, and the raw output (to look for secrets).
fn audit_of(dir: &std::path::Path, subject: &str) -> (Vec<Value>, String) {
    let (ok, out, err) = run(
        dir,
        &["audit", "list", "--subject", subject, "--json"],
        None,
    );
    assert!(ok, "{err}");
    let mut list: Vec<Value> = serde_json::from_str(&out).unwrap();
    list.reverse();
    (list, out)
}

/// Writes a JWKS holding `key`'s public key under `dir`; returns its path.
fn key_set_file(dir: &std::path::Path, key: &keys::SigningKey) -> String {
    let file = dir.join(format!("{}.jwks.json", key.kid()));
    let set = serde_json::json!({"keys": [key.public_jwk()]});
    std::fs::write(&file, set.to_string()).unwrap();
    file.to_str().unwrap().to_owned()
}

/// The `changed` field names of each `client.updated` event in `trail`.
fn changes_of(trail: &[Value]) -> Vec<Value> {
    trail
        .iter()
        .filter(|e| e["action"] == "client.updated")
        .map(|e| e["details"]["changed"].clone())
        .collect()
}

/// The client `id` as `clients list --json` shows it.
fn listed(dir: &std::path::Path, id: &str) -> Value {
    let (ok, out, err) = run(dir, &["clients", "list", "--json"], None);
    assert!(ok, "{err}");
    let list: Vec<Value> = serde_json::from_str(&out).unwrap();
    list.into_iter().find(|c| c["id"] == id).unwrap()
}

#[tokio::test]
async fn clients_update_changes_a_client_in_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = serve(dir.path(), &[]).await;
    let grants = [
        "--grant-type",
        "client_credentials",
        "--grant-type",
        "authorization_code",
    ];
    let (id, old_secret) = add_client(dir.path(), &grants);
    assert_eq!(
        crate::helpers::client_credentials_status(&base, &id, &old_secret).await,
        200
    );

    // A new secret, shown once; the old one stops working within the client cache's second.
    let (ok, out, err) = run(
        dir.path(),
        &["clients", "update", &id, "--rotate-secret", "--json"],
        None,
    );
    assert!(ok, "{err}");
    let rotated: Value = serde_json::from_str(&out).unwrap();
    let new_secret = rotated["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, old_secret);
    eventually("the old secret refused", || async {
        crate::helpers::client_credentials_status(&base, &id, &old_secret).await == 401
    })
    .await;
    assert_eq!(
        crate::helpers::client_credentials_status(&base, &id, &new_secret).await,
        200
    );
    assert!(!run(dir.path(), &["clients", "list", "--json"], None)
        .1
        .contains(&new_secret));

    // Requiring pushed requests reaches the running server too.
    let (ok, _, err) = run(
        dir.path(),
        &["clients", "update", &id, "--require-par", "true"],
        None,
    );
    assert!(ok, "{err}");
    let (_, challenge) = crate::helpers::pkce();
    let plain = format!(
        "{base}/authorize?client_id={id}&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb\
         &response_type=code&scope=openid&code_challenge={challenge}&code_challenge_method=S256"
    );
    eventually("plain requests refused", || async {
        let r = http().get(&plain).send().await.unwrap();
        r.headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .is_some_and(|l| l.contains("error=invalid_request"))
    })
    .await;

    // Only what is given changes; a repeatable option replaces the list.
    let (ok, _, err) = run(
        dir.path(),
        &[
            "clients",
            "update",
            &id,
            "--name",
            "Renamed",
            "--redirect-uri",
            "http://127.0.0.1:9/new",
            "--min-level",
            "standard",
        ],
        None,
    );
    assert!(ok, "{err}");
    let c = listed(dir.path(), &id);
    assert_eq!(c["name"], "Renamed");
    assert_eq!(
        c["redirect_uris"],
        serde_json::json!(["http://127.0.0.1:9/new"])
    );
    assert_eq!(c["min_level"], "standard");
    assert_eq!(c["require_pushed_authorization_requests"], true);
    assert_eq!(c["grant_types"].as_array().unwrap().len(), 2, "{c}");

    // Refused, with the reason, and nothing changes.
    for (args, reason) in [
        (
            vec!["--min-level", "superhero"],
            "--min-level must be one of",
        ),
        (vec!["--redirect-uri", "not a uri"], "not an absolute URI"),
        (
            vec!["--redirect-uri", "http://127.0.0.1:9/cb#frag"],
            "fragment",
        ),
        (vec!["--grant-type", "password"], "--grant-type"),
        (vec!["--id-token-alg", "HS256"], "--id-token-alg"),
        (vec!["--userinfo-alg", "HS256"], "--userinfo-alg"),
        (vec!["--introspection-alg", "HS256"], "--introspection-alg"),
        (vec!["--authorization-alg", "none"], "--authorization-alg"),
        (vec!["--require-par", "maybe"], "--require-par"),
    ] {
        let mut all = vec!["clients", "update", id.as_str()];
        all.extend(args.iter());
        refused(dir.path(), &all, reason);
    }
    // Keys belong to private_key_jwt clients, and a key set must hold a usable key.
    let empty = dir.path().join("empty-jwks.json");
    std::fs::write(&empty, r#"{"keys": []}"#).unwrap();
    let empty = empty.to_str().unwrap();
    refused(
        dir.path(),
        &["clients", "update", &id, "--jwks", empty],
        "not private_key_jwt",
    );
    let jwt = [
        "--auth-method",
        "private_key_jwt",
        "--jwks",
        empty,
        "--grant-type",
        "client_credentials",
    ];
    refused(
        dir.path(),
        &[&["clients", "add", "--name", "Keys"][..], &jwt].concat(),
        "no key",
    );
    assert_eq!(
        listed(dir.path(), &id),
        c,
        "a refused update changed the client"
    );
    refused(
        dir.path(),
        &["clients", "update", "vhc_nobody", "--name", "x"],
        "no client vhc_nobody",
    );
    let (ok, out, err) = run(
        dir.path(),
        &[
            "clients",
            "add",
            "--name",
            "Public",
            "--public",
            "--redirect-uri",
            "http://127.0.0.1:9/cb",
            "--json",
        ],
        None,
    );
    assert!(ok, "{err}");
    let public: Value = serde_json::from_str(&out).unwrap();
    let public_id = public["client_id"].as_str().unwrap();
    let update_public = ["clients", "update", public_id];
    refused(
        dir.path(),
        &[&update_public[..], &["--rotate-secret"]].concat(),
        "not a secret",
    );
    refused(
        dir.path(),
        &[&update_public[..], &["--grant-type", "client_credentials"]].concat(),
        "public client",
    );

    // Each registration, change and removal is in the audit trail, by field name, and no
    // secret is.
    let (ok, _, err) = run(dir.path(), &["clients", "remove", public_id], None);
    assert!(ok, "{err}");
    let events = |subject: &str| -> Vec<(String, Value)> {
        let (ok, out, err) = run(
            dir.path(),
            &["audit", "list", "--subject", subject, "--json"],
            None,
        );
        assert!(ok, "{err}");
        assert!(
            !out.contains(&old_secret) && !out.contains(&new_secret),
            "{out}"
        );
        let list: Vec<Value> = serde_json::from_str(&out).unwrap();
        let mut list: Vec<(String, Value)> = list
            .into_iter()
            .map(|e| {
                (
                    e["action"].as_str().unwrap().to_owned(),
                    e["details"].clone(),
                )
            })
            .collect();
        list.reverse();
        list
    };
    let trail = events(&id);
    let actions: Vec<&str> = trail.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "client.registered",
            "client.updated",
            "client.updated",
            "client.updated"
        ]
    );
    let changed: Vec<Value> = trail[1..]
        .iter()
        .map(|(_, d)| d["changed"].clone())
        .collect();
    assert_eq!(
        changed,
        [
            serde_json::json!(["secret"]),
            serde_json::json!(["require_pushed_authorization_requests"]),
            serde_json::json!(["name", "redirect_uris", "min_level"]),
        ]
    );
    let removed = events(public_id);
    assert_eq!(
        removed.last().map(|(a, d)| (a.as_str(), d["name"].clone())),
        Some(("client.removed", Value::from("Public")))
    );
    let (ok, out, err) = run(dir.path(), &["audit", "verify"], None);
    assert!(ok && out.starts_with("ok"), "{out}{err}");
}

/// `clients add|update --jwks-uri`: a `private_key_jwt` client whose keys the running server
/// fetches from the client; the URL is checked, and keys by file or by URL replace each other.
#[tokio::test]
async fn a_client_registered_with_a_jwks_uri_works_in_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = serve(dir.path(), &[]).await;
    let ks = crate::jwks_uri::KeyServer::start().await;
    let (k1, k2) = (
        keys::SigningKey::generate(keys::Alg::ES256).unwrap(),
        keys::SigningKey::generate(keys::Alg::ES256).unwrap(),
    );
    ks.publish("rp", &[&k1]);
    ks.publish("rp2", &[&k2]);
    let jwt = [
        "clients",
        "add",
        "--name",
        "Keys",
        "--auth-method",
        "private_key_jwt",
        "--grant-type",
        "client_credentials",
    ];
    for (uri, reason) in [
        ("http://rp.example/jwks", "must use https"),
        ("ftp://rp.example/jwks", "must be an https URL"),
        ("https://u:p@rp.example/jwks", "must not carry credentials"),
        ("jwks.json", "is not an absolute URL"),
    ] {
        refused(dir.path(), &with(&jwt, &["--jwks-uri", uri]), reason);
    }
    refused(
        dir.path(),
        &jwt,
        "private_key_jwt needs --jwks FILE or --jwks-uri URL",
    );
    let file = key_set_file(dir.path(), &k2);
    let file = file.as_str();
    let uri = ks.uri("rp");
    refused(
        dir.path(),
        &with(&jwt, &["--jwks", file, "--jwks-uri", &uri]),
        "cannot be used with",
    );
    refused(
        dir.path(),
        &[
            "clients",
            "add",
            "--name",
            "Secret",
            "--redirect-uri",
            "http://127.0.0.1:9/cb",
            "--jwks-uri",
            &uri,
        ],
        "only for --auth-method private_key_jwt",
    );

    let (ok, out, err) = run(
        dir.path(),
        &with(&jwt, &["--jwks-uri", &uri, "--json"]),
        None,
    );
    assert!(ok, "{err}");
    let added: Value = serde_json::from_str(&out).unwrap();
    let id = added["client_id"].as_str().unwrap().to_owned();
    assert_eq!(added["client_secret"], Value::Null);
    assert_eq!(listed(dir.path(), &id)["jwks_uri"], uri.as_str());
    assert_eq!(crate::jwks_uri::grant(&base, &id, &k1, "a").await.0, 200);
    assert_eq!(ks.hits("rp"), 1);

    // Keys from a file replace the URL, and a URL replaces the file's keys.
    let (ok, _, err) = run(
        dir.path(),
        &["clients", "update", &id, "--jwks", file],
        None,
    );
    assert!(ok, "{err}");
    assert_eq!(listed(dir.path(), &id)["jwks_uri"], Value::Null);
    eventually("the file's key accepted", || async {
        crate::jwks_uri::grant(&base, &id, &k2, &uuid::Uuid::new_v4().to_string())
            .await
            .0
            == 200
    })
    .await;
    assert_eq!(crate::jwks_uri::grant(&base, &id, &k1, "b").await.0, 401);
    let uri2 = ks.uri("rp2");
    let (ok, _, err) = run(
        dir.path(),
        &["clients", "update", &id, "--jwks-uri", &uri2],
        None,
    );
    assert!(ok, "{err}");
    assert_eq!(listed(dir.path(), &id)["jwks_uri"], uri2.as_str());
    eventually("keys fetched from the new URL", || async {
        let st = crate::jwks_uri::grant(&base, &id, &k2, &uuid::Uuid::new_v4().to_string())
            .await
            .0;
        st == 200 && ks.hits("rp2") == 1
    })
    .await;
    refused(
        dir.path(),
        &[
            "clients",
            "update",
            &id,
            "--jwks-uri",
            "http://rp.example/k",
        ],
        "must use https",
    );
    // Only private_key_jwt clients have keys.
    let (secret_id, _) = add_client(dir.path(), &[]);
    refused(
        dir.path(),
        &["clients", "update", &secret_id, "--jwks-uri", &uri],
        "--jwks-uri: client",
    );

    // The trail names the URL at registration and the fields each change touched.
    let (trail, _) = audit_of(dir.path(), &id);
    assert_eq!(trail[0]["details"]["jwks_uri"], uri.as_str());
    assert_eq!(
        changes_of(&trail),
        [
            serde_json::json!(["jwks", "jwks_uri"]),
            serde_json::json!(["jwks", "jwks_uri"])
        ]
    );
}

/// `clients add --require-dpop` / `clients update --require-dpop BOOL`: the running server
/// refuses the client's token requests without a DPoP proof, and takes them again after.
#[tokio::test]
async fn require_dpop_reaches_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = serve(dir.path(), &[]).await;
    let (id, secret) = add_client(
        dir.path(),
        &["--grant-type", "client_credentials", "--require-dpop"],
    );
    assert_eq!(listed(dir.path(), &id)["dpop_bound_access_tokens"], true);
    assert_eq!(
        crate::helpers::client_credentials_status(&base, &id, &secret).await,
        400
    );
    let key = keys::SigningKey::generate(keys::Alg::ES256).unwrap();
    let now = keys::Clock::now(&keys::SystemClock);
    let proof = keys::dpop::sign_proof(
        &key,
        &serde_json::json!({"jti": "p1", "htm": "POST", "htu": format!("{base}/token"), "iat": now}),
    )
    .unwrap();
    let r = http()
        .post(format!("{base}/token"))
        .basic_auth(&id, Some(&secret))
        .header("DPoP", proof)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["token_type"], "DPoP", "{t}");

    let (ok, _, err) = run(
        dir.path(),
        &["clients", "update", &id, "--require-dpop", "false"],
        None,
    );
    assert!(ok, "{err}");
    eventually("Bearer tokens again", || async {
        crate::helpers::client_credentials_status(&base, &id, &secret).await == 200
    })
    .await;
    let (trail, _) = audit_of(dir.path(), &id);
    assert_eq!(trail[0]["details"]["dpop_bound_access_tokens"], true);
    assert_eq!(
        trail[1]["details"]["changed"],
        serde_json::json!(["dpop_bound_access_tokens"])
    );
}

/// `--require-signed-request-object` (RFC 9101 §10.5) needs the client's keys: refused
/// without them, at registration and when a change would drop them; set and cleared by
/// `clients update`, each change in the trail.
#[test]
fn a_client_that_must_sign_its_requests_needs_keys() {
    let dir = tempfile::tempdir().unwrap();
    let flag = "--require-signed-request-object";
    let add = ADD_CLIENT;
    refused(dir.path(), &with(&add, &[flag]), "needs the client's keys");
    let key = keys::SigningKey::generate(keys::Alg::ES256).unwrap();
    let file = dir.path().join("rp.jwks");
    std::fs::write(
        &file,
        serde_json::json!({"keys": [key.public_jwk()]}).to_string(),
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let jwt = ["--auth-method", "private_key_jwt", "--jwks", file, "--json"];
    let (ok, out, err) = run(dir.path(), &with(&add, &[&jwt[..], &[flag]].concat()), None);
    assert!(ok, "{err}");
    let id = serde_json::from_str::<Value>(&out).unwrap()["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        listed(dir.path(), &id)["require_signed_request_object"],
        true
    );
    // Leaving private_key_jwt would drop the keys: refused, nothing changed.
    let to_secret = [
        "clients",
        "update",
        &id,
        "--auth-method",
        "client_secret_basic",
    ];
    refused(dir.path(), &to_secret, "needs the client's keys");
    assert_eq!(listed(dir.path(), &id)["auth_method"], "private_key_jwt");
    let (ok, _, err) = run(dir.path(), &["clients", "update", &id, flag, "false"], None);
    assert!(ok, "{err}");
    assert_eq!(
        listed(dir.path(), &id)["require_signed_request_object"],
        false
    );
    let (ok, _, err) = run(dir.path(), &to_secret, None);
    assert!(ok, "{err}");
    let (trail, _) = audit_of(dir.path(), &id);
    assert_eq!(trail[0]["details"]["require_signed_request_object"], true);
    assert_eq!(
        trail[1]["details"]["changed"],
        serde_json::json!(["require_signed_request_object"])
    );
}

/// `--backchannel-logout-uri` is held to the rules of a key set's URL, shown in the list,
/// changed and dropped by `clients update`, each change in the trail.
#[test]
fn a_back_channel_logout_uri_is_checked_listed_and_changed() {
    let dir = tempfile::tempdir().unwrap();
    let flag = "--backchannel-logout-uri";
    let add = with(&ADD_CLIENT, &["--json"]);
    refused(
        dir.path(),
        &with(&add, &[flag, "http://rp.example/bc"]),
        "must use https",
    );
    refused(
        dir.path(),
        &with(&add, &[flag, "https://rp.example/bc#x"]),
        "fragment",
    );
    refused(
        dir.path(),
        &with(&add, &[flag, "/bc"]),
        "not an absolute URL",
    );
    let (id, _) = add_client(dir.path(), &[flag, "https://rp.example/bc"]);
    let uri = |dir: &std::path::Path| listed(dir, &id)["backchannel_logout_uri"].clone();
    assert_eq!(uri(dir.path()), "https://rp.example/bc");
    let update = ["clients", "update", &id];
    refused(
        dir.path(),
        &with(&update, &[flag, "ftp://rp.example/"]),
        "must be an https URL",
    );
    assert_eq!(
        uri(dir.path()),
        "https://rp.example/bc",
        "a refused change changes nothing"
    );
    let (ok, _, err) = run(
        dir.path(),
        &with(&update, &[flag, "http://127.0.0.1:8000/bc"]),
        None,
    );
    assert!(ok, "{err}");
    assert_eq!(uri(dir.path()), "http://127.0.0.1:8000/bc");
    let (ok, _, err) = run(
        dir.path(),
        &with(&update, &["--no-backchannel-logout-uri"]),
        None,
    );
    assert!(ok, "{err}");
    assert_eq!(uri(dir.path()), Value::Null);
    let (trail, _) = audit_of(dir.path(), &id);
    assert_eq!(
        trail[0]["details"]["backchannel_logout_uri"],
        "https://rp.example/bc"
    );
    let changed = serde_json::json!(["backchannel_logout_uri"]);
    assert_eq!(changes_of(&trail), [changed.clone(), changed]);
}

/// `--frontchannel-logout-uri` must share the scheme, host and port of a redirect URI (also
/// after `clients update` changes them), is shown in the list with
/// `frontchannel_logout_session_required`, changed and dropped, each change in the trail.
#[test]
fn a_front_channel_logout_uri_shares_a_redirect_uris_origin() {
    let dir = tempfile::tempdir().unwrap();
    let flag = "--frontchannel-logout-uri";
    let add = with(&ADD_CLIENT, &["--json"]);
    for (bad, reason) in [
        ("http://127.0.0.1:10/fc", "scheme, host and port"),
        ("http://localhost:9/fc", "scheme, host and port"),
        ("https://127.0.0.1:9/fc", "scheme, host and port"),
        ("http://127.0.0.1:9/fc#x", "fragment"),
        ("/fc", "not an absolute URL"),
    ] {
        refused(dir.path(), &with(&add, &[flag, bad]), reason);
    }
    refused(
        dir.path(),
        &with(&add, &["--frontchannel-logout-session-required"]),
        "--frontchannel-logout-uri",
    );
    let (id, _) = add_client(
        dir.path(),
        &[
            flag,
            "http://127.0.0.1:9/fc?a=1",
            "--frontchannel-logout-session-required",
        ],
    );
    let fields = |dir: &std::path::Path| {
        let c = listed(dir, &id);
        (
            c["frontchannel_logout_uri"].clone(),
            c["frontchannel_logout_session_required"].clone(),
        )
    };
    assert_eq!(
        fields(dir.path()),
        (Value::from("http://127.0.0.1:9/fc?a=1"), Value::Bool(true))
    );
    let update = ["clients", "update", &id];
    // Moving the redirect URIs elsewhere would leave the page on a foreign origin.
    refused(
        dir.path(),
        &with(&update, &["--redirect-uri", "https://rp.example/cb"]),
        "scheme, host and port",
    );
    let (ok, _, err) = run(
        dir.path(),
        &with(
            &update,
            &[
                "--redirect-uri",
                "https://rp.example/cb",
                flag,
                "https://rp.example/fc",
                "--frontchannel-logout-session-required",
                "false",
            ],
        ),
        None,
    );
    assert!(ok, "{err}");
    assert_eq!(
        fields(dir.path()),
        (Value::from("https://rp.example/fc"), Value::Bool(false))
    );
    let (ok, _, err) = run(
        dir.path(),
        &with(&update, &["--no-frontchannel-logout-uri"]),
        None,
    );
    assert!(ok, "{err}");
    assert_eq!(fields(dir.path()), (Value::Null, Value::Bool(false)));
    let (trail, _) = audit_of(dir.path(), &id);
    assert_eq!(
        trail[0]["details"]["frontchannel_logout_uri"],
        "http://127.0.0.1:9/fc?a=1"
    );
    assert_eq!(
        trail[0]["details"]["frontchannel_logout_session_required"],
        true
    );
    assert_eq!(
        changes_of(&trail),
        [
            serde_json::json!([
                "redirect_uris",
                "frontchannel_logout_uri",
                "frontchannel_logout_session_required"
            ]),
            serde_json::json!(["frontchannel_logout_uri"]),
        ]
    );
}

/// `clients add|update --resource`: absolute URIs without fragments (RFC 8707 §2), listed,
/// replaced and dropped by `clients update`, each change in the trail.
#[test]
fn resource_servers_are_checked_listed_and_changed() {
    let dir = tempfile::tempdir().unwrap();
    let add = with(&ADD_CLIENT, &["--json"]);
    for (bad, reason) in [
        ("https://api.example/#x", "fragment"),
        ("/api", "absolute URI"),
        ("https://api.example/ x", "white space"),
    ] {
        refused(dir.path(), &with(&add, &["--resource", bad]), reason);
    }
    let (id, _) = add_client(
        dir.path(),
        &[
            "--resource",
            "https://tax.example.gov/api",
            "--resource",
            "urn:example:pension",
            "--resource",
            "https://tax.example.gov/api",
        ],
    );
    let resources = |dir: &std::path::Path| listed(dir, &id)["resources"].clone();
    assert_eq!(
        resources(dir.path()),
        serde_json::json!(["https://tax.example.gov/api", "urn:example:pension"]),
        "once each, in order"
    );
    let update = ["clients", "update", &id];
    refused(
        dir.path(),
        &with(&update, &["--resource", "api.example"]),
        "absolute URI",
    );
    assert_eq!(
        resources(dir.path()).as_array().map(Vec::len),
        Some(2),
        "a refused change changes nothing"
    );
    let (ok, _, err) = run(
        dir.path(),
        &with(&update, &["--resource", "https://other.example/"]),
        None,
    );
    assert!(ok, "{err}");
    assert_eq!(
        resources(dir.path()),
        serde_json::json!(["https://other.example/"])
    );
    let (ok, _, err) = run(dir.path(), &with(&update, &["--no-resources"]), None);
    assert!(ok, "{err}");
    assert_eq!(resources(dir.path()), serde_json::json!([]));
    let (trail, _) = audit_of(dir.path(), &id);
    assert_eq!(
        trail[0]["details"]["resources"],
        serde_json::json!(["https://tax.example.gov/api", "urn:example:pension"])
    );
    let changed = serde_json::json!(["resources"]);
    assert_eq!(changes_of(&trail), [changed.clone(), changed]);
}

/// `clients add|update --userinfo-alg`, `--introspection-alg` and `--authorization-alg`:
/// only an algorithm the provider keeps a key for; listed, changed, cleared with the option's reset word, and
/// audited by name.
#[test]
fn response_signing_algs_are_checked_listed_and_changed() {
    for (flag, field, reset) in [
        ("--userinfo-alg", "userinfo_signed_response_alg", "none"),
        (
            "--introspection-alg",
            "introspection_signed_response_alg",
            "default",
        ),
        (
            "--authorization-alg",
            "authorization_signed_response_alg",
            "default",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let add = with(&ADD_CLIENT, &["--json"]);
        for bad in ["HS256", "PS256", reset] {
            refused(dir.path(), &with(&add, &[flag, bad]), "ES256, RS256");
        }
        let (id, _) = add_client(dir.path(), &[flag, "RS256"]);
        let alg = |dir: &std::path::Path| listed(dir, &id)[field].clone();
        assert_eq!(alg(dir.path()), "RS256");
        let update = ["clients", "update", &id];
        refused(dir.path(), &with(&update, &[flag, "EdDSA"]), flag);
        assert_eq!(alg(dir.path()), "RS256", "a refused change changes nothing");
        for (to, listed_as) in [("ES256", Value::from("ES256")), (reset, Value::Null)] {
            let (ok, _, err) = run(dir.path(), &with(&update, &[flag, to]), None);
            assert!(ok, "{err}");
            assert_eq!(alg(dir.path()), listed_as, "{flag} {to}");
        }
        let (trail, _) = audit_of(dir.path(), &id);
        assert_eq!(trail[0]["details"][field], "RS256");
        let changed = serde_json::json!([field]);
        assert_eq!(changes_of(&trail), [changed.clone(), changed]);
    }
}

/// `clients add|update --subject-type pairwise [--sector HOST]`: the sector is the one host
/// of the redirect URIs unless named, must be named when they are on several hosts or none,
/// stays put when the redirect URIs change, and is listed and audited.
#[test]
fn pairwise_subjects_take_a_sector_from_the_redirect_uris_or_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let pairwise = ["--subject-type", "pairwise"];
    refused(
        dir.path(),
        &with(&ADD_CLIENT, &["--subject-type", "secret"]),
        "public or pairwise",
    );
    refused(
        dir.path(),
        &with(&ADD_CLIENT, &["--sector", "rp.example"]),
        "--sector is for --subject-type pairwise",
    );
    let two_hosts = ["--redirect-uri", "https://Other.Example/cb"];
    refused(
        dir.path(),
        &[with(&ADD_CLIENT, &pairwise), two_hosts.to_vec()].concat(),
        "several hosts (127.0.0.1, other.example)",
    );
    refused(
        dir.path(),
        &with(
            &ADD_CLIENT,
            &[
                "--subject-type",
                "pairwise",
                "--sector",
                "https://rp.example/",
            ],
        ),
        "a host name",
    );
    let machine = [
        "clients",
        "add",
        "--name",
        "Office",
        "--grant-type",
        "client_credentials",
    ];
    refused(
        dir.path(),
        &with(&machine, &pairwise),
        "no redirect URI host; name its sector with --sector HOST",
    );
    let sector = |id: &str| listed(dir.path(), id)["sector_identifier"].clone();
    let (derived, _) = add_client(dir.path(), &pairwise);
    assert_eq!(sector(&derived), "127.0.0.1");
    let (named, _) = add_client(
        dir.path(),
        &[&pairwise[..], &two_hosts, &["--sector", "RP.example"]].concat(),
    );
    assert_eq!(sector(&named), "rp.example");
    let (public, _) = add_client(dir.path(), &[]);
    assert_eq!(sector(&public), Value::Null);

    // New redirect URIs keep the sector; a named one replaces it; public clears it.
    let update = |id: &str, args: &[&str]| {
        let (ok, _, err) = run(dir.path(), &with(&["clients", "update", id], args), None);
        assert!(ok, "{err}");
    };
    update(&derived, &["--redirect-uri", "https://new.example/cb"]);
    assert_eq!(sector(&derived), "127.0.0.1");
    update(&derived, &["--sector", "new.example"]);
    assert_eq!(sector(&derived), "new.example");
    refused(
        dir.path(),
        &["clients", "update", &public, "--sector", "rp.example"],
        "--sector is for --subject-type pairwise",
    );
    update(&public, &pairwise);
    assert_eq!(sector(&public), "127.0.0.1");
    update(&public, &["--subject-type", "public"]);
    assert_eq!(sector(&public), Value::Null);
    let (trail, _) = audit_of(dir.path(), &derived);
    assert_eq!(trail[0]["details"]["sector_identifier"], "127.0.0.1");
    let changed = serde_json::json!(["sector_identifier"]);
    let redirect = serde_json::json!(["redirect_uris"]);
    assert_eq!(changes_of(&trail), [redirect, changed]);
}

/// `clients update --auth-method`: a client moves between methods in a running server; a
/// new secret comes with a move to a secret method, and what the old method used is gone.
#[tokio::test]
async fn a_client_changes_its_authentication_method_in_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = serve(dir.path(), &[]).await;
    let (id, secret) = add_client(dir.path(), &["--grant-type", "client_credentials"]);
    assert_eq!(
        crate::helpers::client_credentials_status(&base, &id, &secret).await,
        200
    );
    let key = keys::SigningKey::generate(keys::Alg::ES256).unwrap();
    let file = key_set_file(dir.path(), &key);
    let file = file.as_str();
    let update = |args: &[&str]| {
        let mut all = vec!["clients", "update", id.as_str()];
        all.extend_from_slice(args);
        run(dir.path(), &all, None)
    };

    // To private_key_jwt: keys are needed; the secret stops working.
    refused(
        dir.path(),
        &["clients", "update", &id, "--auth-method", "private_key_jwt"],
        "needs --jwks FILE or --jwks-uri URL",
    );
    let (ok, _, err) = update(&["--auth-method", "private_key_jwt", "--jwks", file]);
    assert!(ok, "{err}");
    assert_eq!(listed(dir.path(), &id)["auth_method"], "private_key_jwt");
    eventually("the assertion accepted", || async {
        crate::jwks_uri::grant(&base, &id, &key, &uuid::Uuid::new_v4().to_string())
            .await
            .0
            == 200
    })
    .await;
    assert_eq!(
        crate::helpers::client_credentials_status(&base, &id, &secret).await,
        401
    );

    // To client_secret_post: a new secret, printed once; the keys are gone.
    let (ok, out, err) = update(&["--auth-method", "client_secret_post", "--json"]);
    assert!(ok, "{err}");
    let new_secret = serde_json::from_str::<Value>(&out).unwrap()["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_secret, secret);
    let post = || async {
        http()
            .post(format!("{base}/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id.as_str()),
                ("client_secret", new_secret.as_str()),
            ])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    eventually("client_secret_post accepted", || async {
        post().await == 200
    })
    .await;
    assert_eq!(
        crate::jwks_uri::grant(&base, &id, &key, "after-post")
            .await
            .0,
        401
    );
    // client_secret_basic keeps the secret; the basic method now works with it.
    let (ok, out, err) = update(&["--auth-method", "client_secret_basic", "--json"]);
    assert!(ok, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["client_secret"],
        Value::Null
    );
    eventually("client_secret_basic accepted", || async {
        crate::helpers::client_credentials_status(&base, &id, &new_secret).await == 200
    })
    .await;

    // A public client cannot keep client_credentials; without it, it may become one.
    refused(
        dir.path(),
        &["clients", "update", &id, "--auth-method", "none"],
        "public client",
    );
    refused(
        dir.path(),
        &["clients", "update", &id, "--auth-method", "magic"],
        "--auth-method",
    );
    let (ok, _, err) = update(&[
        "--auth-method",
        "none",
        "--grant-type",
        "authorization_code",
    ]);
    assert!(ok, "{err}");
    assert_eq!(listed(dir.path(), &id)["auth_method"], "none");
    eventually("the secret refused", || async {
        http()
            .post(format!("{base}/token"))
            .basic_auth(&id, Some(&new_secret))
            .form(&[("grant_type", "authorization_code"), ("code", "x")])
            .send()
            .await
            .unwrap()
            .status()
            == 401
    })
    .await;

    let (trail, out) = audit_of(dir.path(), &id);
    assert!(!out.contains(&secret) && !out.contains(&new_secret));
    assert_eq!(
        changes_of(&trail),
        [
            serde_json::json!(["auth_method", "jwks"]),
            serde_json::json!(["auth_method", "jwks", "secret"]),
            serde_json::json!(["auth_method"]),
            serde_json::json!(["auth_method", "grant_types"]),
        ]
    );
}

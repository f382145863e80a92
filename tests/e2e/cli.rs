//! The `vhod` binary: serve, and the operator commands acting on the same store while it
//! runs; production-mode refusals.

use crate::helpers::{http, wait_for_kid};
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
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    // Create the store first so serve and the CLI do not race to make the first key.
    assert!(run(dir.path(), &["migrate"], None).0);
    let mut cmd = vhod(dir.path());
    cmd.arg("serve")
        .env("VHOD_LISTEN", format!("127.0.0.1:{port}"))
        .env("VHOD_KEY_REFRESH_SECS", "1")
        .env("VHOD_KEY_PREPUBLISH_SECS", "0");
    let _server = Server(
        cmd.stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_ready(&base).await;

    let (ok, out, err) = run(
        dir.path(),
        &[
            "clients",
            "add",
            "--name",
            "Bench",
            "--redirect-uri",
            "http://127.0.0.1:9/cb",
            "--grant-type",
            "client_credentials",
            "--grant-type",
            "authorization_code",
            "--json",
        ],
        None,
    );
    assert!(ok, "{err}");
    let c: Value = serde_json::from_str(&out).unwrap();
    let (id, secret) = (
        c["client_id"].as_str().unwrap(),
        c["client_secret"].as_str().unwrap(),
    );
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
    let bad: [(&[&str], &str); 2] = [
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

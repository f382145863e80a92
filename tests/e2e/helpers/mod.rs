//! The test harness: `spawn_app` runs the real server on 127.0.0.1:0 with a fresh store,
//! and tests act through roles: `Rp` (a registered client) and `Browser` (a cookie jar
//! that follows redirects and fills our forms).

mod authenticator;
mod browser;

pub use authenticator::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
pub use browser::*;
use idp::oauth::client_auth::new_secret;
use idp::oauth::types::{AuthMethod, GrantType};
use idp::store::{NewAccount, NewClient};
use idp::App;
use keys::ManualClock;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use vhod::config::Config;

/// Which storage a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    /// SQLite file + in-process cache.
    Embedded,
    /// PostgreSQL + Redis (from VHOD_TEST_DATABASE_URL / VHOD_TEST_REDIS_URL).
    Shared,
}

/// A running server.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The application (for direct store access).
    pub app: Arc<App>,
    /// The clock the app reads; tests may advance it.
    pub clock: ManualClock,
    /// The configuration it was built from (None when started by hand), so the `vhod`
    /// command line can act on the same store.
    pub config: Option<Config>,
    _dir: Arc<tempfile::TempDir>,
}

/// A fresh database URL for the shared backend, or None when the variables are unset.
pub async fn fresh_postgres() -> Option<(String, String)> {
    let pg = std::env::var("VHOD_TEST_DATABASE_URL").ok()?;
    let redis = std::env::var("VHOD_TEST_REDIS_URL")
        .expect("VHOD_TEST_REDIS_URL must be set with VHOD_TEST_DATABASE_URL");
    sqlx::any::install_default_drivers();
    let name = format!("vhod_test_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::AnyPool::connect(&pg)
        .await
        .expect("VHOD_TEST_DATABASE_URL is unreachable");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("create test database");
    admin.close().await;
    let mut url = url::Url::parse(&pg).expect("VHOD_TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    Some((url.to_string(), redis))
}

/// Config for a test server on `addr`.
pub async fn test_config(
    store: Store,
    dir: &std::path::Path,
    shared: Option<(String, String)>,
) -> Option<Config> {
    let mut c = Config {
        data_dir: dir.to_path_buf(),
        kek: Some(URL_SAFE_NO_PAD.encode([7u8; 32])),
        log: "warn".into(),
        ..Config::default()
    };
    // One ES256 key: an RSA key per test server would only slow the suite down; the
    // test that needs RS256 ID Tokens turns it on.
    c.keys.extra_algs = Vec::new();
    c.keys.prepublish = 0;
    c.keys.refresh = 1;
    // Webhooks retried after 100 ms (not 30 s), looked for every 100 ms, given up after 5.
    c.webhooks.backoff_base_ms = 100;
    c.webhooks.backoff_cap_ms = 1000;
    c.webhooks.interval_ms = 100;
    c.webhooks.max_attempts = 5;
    c.webhooks.timeout_ms = 2000;
    // The tests' receivers listen on 127.0.0.1.
    c.webhooks.allow_private_networks = true;
    // Failed notices tried again after 1 s (the least), looked for every 100 ms, given up
    // after 3 attempts.
    c.notify.retry_base_ms = 100;
    c.notify.retry_cap_ms = 1000;
    c.notify.retry_interval_ms = 100;
    c.notify.retry_max_attempts = 3;
    // A client's rotated keys are fetched again after 2 s (not 30), a fetch waits 1 s.
    c.client_jwks.cooldown = 2;
    c.client_jwks.timeout_ms = 1000;
    if store == Store::Shared {
        let (pg, redis) = match shared {
            Some(s) => s,
            None => fresh_postgres().await?,
        };
        c.database_url = Some(pg);
        c.redis_url = Some(redis);
        c.redis_prefix = format!("vhod:test-{}:", uuid::Uuid::new_v4().simple());
    }
    Some(c)
}

/// Starts a server; None for `Shared` when PostgreSQL/Redis are not configured.
pub async fn spawn_app(store: Store) -> Option<TestApp> {
    let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
    let c = test_config(store, dir.path(), None).await?;
    Some(spawn_with(c, dir).await)
}

/// A server on `store` whose configuration `adjust` changes; None as `spawn_app`.
pub async fn spawn_configured(
    store: Store,
    adjust: impl FnOnce(&mut vhod::config::Config),
) -> Option<TestApp> {
    let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
    let Some(mut c) = test_config(store, dir.path(), None).await else {
        eprintln!("VHOD_TEST_DATABASE_URL unset: shared-store variant not run here");
        return None;
    };
    adjust(&mut c);
    Some(spawn_with(c, dir).await)
}

/// Starts a server (embedded stores) with the default key algorithms: an RS256 key beside
/// the ES256 primary.
pub async fn spawn_with_default_algs() -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
    let mut c = test_config(Store::Embedded, dir.path(), None)
        .await
        .expect("config");
    c.keys.extra_algs = vec!["RS256".into()];
    spawn_with(c, dir).await
}

/// Starts a server from a configuration.
pub async fn spawn_with(c: Config, dir: Arc<tempfile::TempDir>) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    spawn_on(c, dir, listener).await
}

/// Starts a server whose issuer is `http://localhost:PORT` (passkeys need a host name:
/// browsers, and so webauthn-rs, refuse IP addresses as RP IDs); None as `spawn_app`.
pub async fn spawn_on_localhost(store: Store) -> Option<TestApp> {
    let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
    let mut c = test_config(store, dir.path(), None).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let issuer = format!(
        "http://localhost:{}",
        listener.local_addr().expect("addr").port()
    );
    c.issuer = Some(issuer.clone());
    let mut t = spawn_on(c, dir, listener).await;
    t.base = issuer;
    Some(t)
}

/// Starts a server from a configuration on a bound listener.
async fn spawn_on(
    mut c: Config,
    dir: Arc<tempfile::TempDir>,
    listener: tokio::net::TcpListener,
) -> TestApp {
    let addr = listener.local_addr().expect("addr");
    c.listen = addr;
    if c.issuer.is_none() {
        c.issuer = Some(format!("http://{addr}"));
    }
    let clock = ManualClock::new(keys::Clock::now(&keys::SystemClock));
    let app = vhod::build(&c, Arc::new(clock.clone()))
        .await
        .expect("build app");
    let refresh = std::time::Duration::from_secs(c.keys.refresh);
    tokio::spawn(vhod::serve_on(listener, app.clone(), refresh, None));
    TestApp {
        base: format!("http://{addr}"),
        app,
        clock,
        config: Some(c),
        _dir: dir,
    }
}

/// Two nodes sharing one PostgreSQL database, one Redis and one issuer; None when the
/// shared store is not configured.
pub async fn spawn_two_nodes() -> Option<(TestApp, TestApp)> {
    let shared = fresh_postgres().await?;
    let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
    let c = test_config(Store::Shared, dir.path(), Some(shared)).await?;
    let a = spawn_with(c.clone(), dir.clone()).await;
    let mut cb = c;
    cb.issuer = Some(a.base.clone());
    let b = spawn_with(cb, dir).await;
    Some((a, b))
}

/// What a test needs to know about a registered client.
#[derive(Clone, Debug)]
pub struct Rp {
    /// client_id.
    pub id: String,
    /// client_secret (confidential secret clients).
    pub secret: Option<String>,
    /// The registered redirect URI.
    pub redirect_uri: String,
    /// The registered post-logout redirect URI.
    pub post_logout: String,
}

impl TestApp {
    /// Wraps an already running app (for servers started by hand, e.g. over TLS).
    pub fn from_parts(base: String, app: Arc<App>, dir: Arc<tempfile::TempDir>) -> TestApp {
        let clock = ManualClock::new(keys::Clock::now(&keys::SystemClock));
        TestApp {
            base,
            app,
            clock,
            config: None,
            _dir: dir,
        }
    }

    /// Registers a client.
    pub async fn client(
        &self,
        method: AuthMethod,
        grants: &[GrantType],
        jwks: Option<String>,
    ) -> Rp {
        self.client_signed(method, grants, jwks, None).await
    }

    /// Registers a confidential client (`client_secret_basic`) for `grants`.
    pub async fn basic_client(&self, grants: &[GrantType]) -> Rp {
        self.client(AuthMethod::ClientSecretBasic, grants, None)
            .await
    }

    /// Registers a public client (no client authentication) for `grants`.
    pub async fn public_client(&self, grants: &[GrantType]) -> Rp {
        self.client(AuthMethod::None, grants, None).await
    }

    /// Registers a client whose ID Tokens are signed with `id_token_alg`.
    pub async fn client_signed(
        &self,
        method: AuthMethod,
        grants: &[GrantType],
        jwks: Option<String>,
        id_token_alg: Option<&str>,
    ) -> Rp {
        let id = format!("vhc_{}", uuid::Uuid::new_v4().simple());
        let (secret, hash) = match method {
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost => {
                let (s, h) = new_secret(&self.app.secrets.client_secret_key);
                (Some(s), Some(h))
            }
            _ => (None, None),
        };
        let redirect_uri = "http://127.0.0.1:9/cb".to_owned();
        let post_logout = "http://127.0.0.1:9/bye".to_owned();
        let nc = NewClient {
            name: "Test <Service> & Co".into(),
            secret_hash: hash,
            auth_method: method,
            redirect_uris: vec![redirect_uri.clone()],
            post_logout_redirect_uris: vec![post_logout.clone()],
            grant_types: grants.to_vec(),
            scope: [
                "openid",
                "profile",
                "email",
                "phone",
                "address",
                "offline_access",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            jwks,
            jwks_uri: None,
            id_token_signed_response_alg: id_token_alg.map(str::to_owned),
            userinfo_signed_response_alg: None,
            introspection_signed_response_alg: None,
            sector_identifier: None,
            resources: Vec::new(),
            authorization_signed_response_alg: None,
            require_mfa: false,
            min_level: None,
            require_pushed_authorization_requests: false,
            dpop_bound_access_tokens: false,
            require_signed_request_object: false,
            backchannel_logout_uri: None,
            frontchannel_logout_uri: None,
            frontchannel_logout_session_required: false,
        };
        self.app
            .db
            .clients()
            .insert(&id, &nc, self.app.now())
            .await
            .expect("insert client");
        Rp {
            id,
            secret,
            redirect_uri,
            post_logout,
        }
    }

    /// Changes the stored registration of client `id` with `change` (as `vhod clients update`
    /// does, keeping the secret); returns the client as stored afterwards.
    pub async fn change_client(
        &self,
        id: &str,
        change: impl FnOnce(&mut NewClient),
    ) -> idp::store::Client {
        let clients = self.app.db.clients();
        let stored = clients.get(id).await.expect("read client");
        let mut registration = stored.expect("client exists").registration();
        change(&mut registration);
        let updated = clients.update(id, &registration, None).await;
        assert!(updated.expect("update client"), "no client {id}");
        let after = clients.get(id).await.expect("read client");
        after.expect("client exists")
    }

    /// A `private_key_jwt` client of `grants` and the ES256 key whose public half it
    /// registered.
    pub async fn keyed_client(&self, grants: &[GrantType]) -> (keys::SigningKey, Rp) {
        let key = keys::SigningKey::generate(keys::Alg::ES256).expect("key");
        let jwks = serde_json::json!({"keys": [key.public_jwk()]}).to_string();
        let rp = self
            .client(AuthMethod::PrivateKeyJwt, grants, Some(jwks))
            .await;
        (key, rp)
    }

    /// A client of the `client_credentials` grant alone, authenticating with `method`, its
    /// registration then changed by `change`; the client and its registration as stored.
    pub async fn machine_client(
        &self,
        method: AuthMethod,
        change: impl FnOnce(&mut NewClient),
    ) -> (Rp, idp::store::Client) {
        let rp = self
            .client(method, &[GrantType::ClientCredentials], None)
            .await;
        let stored = self.change_client(&rp.id, change).await;
        (rp, stored)
    }

    /// A confidential client_secret_basic client with code + refresh + client credentials.
    pub async fn confidential(&self) -> Rp {
        self.client(
            AuthMethod::ClientSecretBasic,
            &[
                GrantType::AuthorizationCode,
                GrantType::RefreshToken,
                GrantType::ClientCredentials,
            ],
            None,
        )
        .await
    }

    /// The stored account signed in as `login`, which the test expects to exist.
    /// Gives the account `id` an authenticator app with `secret`.
    pub async fn add_authenticator(&self, id: &str, secret: &[u8]) {
        let sealed = idp::totp::seal(&self.app.secrets.factor_key, secret);
        self.app
            .db
            .accounts()
            .set_totp(id, Some(&sealed), self.app.now())
            .await
            .unwrap();
    }

    pub async fn account(&self, login: &str) -> idp::store::Account {
        self.app
            .db
            .accounts()
            .by_login(login)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no account {login}"))
    }

    /// Creates an account; returns its id.
    pub async fn user(&self, login: &str, password: &str) -> String {
        self.user_with(login, password, |_| {}).await
    }

    /// Creates an account after `adjust` changed its defaults; returns its id.
    pub async fn user_with(
        &self,
        login: &str,
        password: &str,
        adjust: impl FnOnce(&mut NewAccount),
    ) -> String {
        let hash = idp::password::hash(password).expect("hash");
        let mut a = NewAccount {
            login: login.into(),
            password_hash: hash,
            email: Some(format!("{login}@example.com")),
            phone: Some("+79990001122".into()),
            name: Some("Алиса Пример".into()),
            given_name: Some("Алиса".into()),
            family_name: Some("Пример".into()),
            address: Some(r#"{"formatted":"Москва, Тверская ул., 1"}"#.into()),
            ..Default::default()
        };
        adjust(&mut a);
        self.app
            .db
            .accounts()
            .insert(&a, self.app.now())
            .await
            .expect("insert account")
    }

    /// An absolute URL.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

/// PKCE verifier and S256 challenge.
pub fn pkce() -> (String, String) {
    let v = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let c = URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()));
    (v, c)
}

/// `app`'s discovery document.
pub async fn discovery(app: &TestApp) -> serde_json::Value {
    get_json(&app.url("/.well-known/openid-configuration")).await
}

/// GET `url` and parse the JSON body.
pub async fn get_json(url: &str) -> serde_json::Value {
    let r = http().get(url).send().await.expect("GET");
    r.json().await.expect("JSON body")
}

/// Waits until the JWKS at `base` publishes `kid`; panics after five seconds.
pub async fn wait_for_kid(base: &str, kid: &str) {
    let started = std::time::Instant::now();
    loop {
        let jwks = get_json(&format!("{base}/jwks")).await;
        let keys = jwks["keys"].as_array().cloned().unwrap_or_default();
        if keys.iter().any(|k| k["kid"] == kid) {
            return;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{base} did not publish key {kid} within 5 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Waits until `done` holds, looking every 50 ms; panics naming `what` after ten seconds.
/// For work the server finishes after its answer (a failed sign-in's count towards the lock).
pub async fn eventually<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while !done().await {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "not within 10 s: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// An SMS gateway as vhod speaks to one (JSON over HTTP) that records each message as it
/// arrives and holds its answer until `release` is notified, for showing what does not wait
/// for the gateway; or that answers at once with scripted statuses, for showing what a
/// failure leads to.
#[derive(Clone, Default)]
pub struct HeldGateway {
    /// Its URL, for `SmsSettings::url` or `notify.sms_url`.
    pub url: String,
    /// The messages received, in order.
    pub seen: Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
    /// Lets one held answer go.
    pub release: Arc<tokio::sync::Notify>,
    /// How many answers went.
    pub answered: Arc<std::sync::atomic::AtomicUsize>,
    /// Whether each answer waits for `release` (as [`HeldGateway::start`] makes it).
    held: bool,
    /// The statuses of the first answers, in order; 202 after them.
    script: Arc<std::sync::Mutex<std::collections::VecDeque<u16>>>,
}

impl HeldGateway {
    /// Starts one on a free port; each answer (202) waits for `release`.
    pub async fn start() -> HeldGateway {
        Self::serve(true, &[]).await
    }

    /// Starts one on a free port that answers at once: with `statuses` first, in order,
    /// then 202.
    pub async fn answering(statuses: &[u16]) -> HeldGateway {
        Self::serve(false, statuses).await
    }

    async fn serve(held: bool, statuses: &[u16]) -> HeldGateway {
        use axum::{extract::State, routing::post, Json, Router};
        async fn gateway(
            State(g): State<HeldGateway>,
            Json(v): Json<serde_json::Value>,
        ) -> axum::http::StatusCode {
            g.seen.lock().unwrap().push(v);
            if g.held {
                g.release.notified().await;
            }
            g.answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let status = g.script.lock().unwrap().pop_front().unwrap_or(202);
            axum::http::StatusCode::from_u16(status).unwrap()
        }
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let g = HeldGateway {
            url: format!("http://{}/send", l.local_addr().expect("address")),
            held,
            script: Arc::new(std::sync::Mutex::new(statuses.iter().copied().collect())),
            ..Default::default()
        };
        let router = Router::new()
            .route("/send", post(gateway))
            .with_state(g.clone());
        tokio::spawn(async move { axum::serve(l, router).await });
        g
    }

    /// How many answers went.
    pub fn answers(&self) -> usize {
        self.answered.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Lets one held answer go and waits until it has gone.
    pub async fn release_one(&self) {
        let before = self.answers();
        self.release.notify_one();
        let answered = self.answered.clone();
        eventually("the gateway answers", move || {
            let answered = answered.clone();
            async move { answered.load(std::sync::atomic::Ordering::SeqCst) > before }
        })
        .await;
    }

    /// Waits until `n` messages have arrived.
    pub async fn received(&self, n: usize) {
        let seen = self.seen.clone();
        eventually("the gateway receives the message", move || {
            let seen = seen.clone();
            async move { seen.lock().unwrap().len() == n }
        })
        .await;
    }
}

/// Starts what the server does at shutdown once no request is left (waiting up to 10 s for
/// the work requests left under way) and checks that it is still waiting 300 ms later, for
/// `what`; the handle then tells whether that work finished in time.
pub async fn shutdown_waiting_for(app: &TestApp, what: &str) -> tokio::task::JoinHandle<bool> {
    let a = app.app.clone();
    let shutdown = tokio::spawn(async move {
        a.finish_background(std::time::Duration::from_secs(10))
            .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!shutdown.is_finished(), "shutdown waits for {what}");
    shutdown
}

/// A plain HTTP client that does not follow redirects.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// An authorization URL for `rp` with PKCE; returns (url, verifier).
pub fn authorize_url(app: &TestApp, rp: &Rp, extra: &[(&str, &str)]) -> (String, String) {
    let (verifier, challenge) = pkce();
    let defaults = [
        ("client_id", rp.id.as_str()),
        ("redirect_uri", rp.redirect_uri.as_str()),
        ("response_type", "code"),
        ("scope", "openid profile email"),
        ("state", "st-123"),
        ("nonce", "n-456"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in defaults {
        if !extra.iter().any(|(e, _)| *e == k) {
            q.append_pair(k, v);
        }
    }
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    (format!("{}/authorize?{}", app.base, q.finish()), verifier)
}

/// The status of a client_credentials grant at `base` for `id` with client_secret_basic.
pub async fn client_credentials_status(base: &str, id: &str, secret: &str) -> u16 {
    http()
        .post(format!("{base}/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token request")
        .status()
        .as_u16()
}

/// Redeems a code with client_secret_basic; returns status and JSON.
pub async fn redeem(
    app: &TestApp,
    rp: &Rp,
    code: &str,
    verifier: &str,
) -> (u16, serde_json::Value) {
    redeem_at(&app.base, rp, code, verifier).await
}

/// A refresh-token grant with client_secret_basic; returns status and JSON.
pub async fn refresh(app: &TestApp, rp: &Rp, rt: &str) -> (u16, serde_json::Value) {
    refresh_with(app, rp, rt, &[]).await
}

/// [`refresh`] with more form parameters (`scope`).
pub async fn refresh_with(
    app: &TestApp,
    rp: &Rp,
    rt: &str,
    more: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let form = [
        &[("grant_type", "refresh_token"), ("refresh_token", rt)][..],
        more,
    ]
    .concat();
    let r = http()
        .post(app.url("/token"))
        .basic_auth(&rp.id, rp.secret.as_deref())
        .form(&form)
        .send()
        .await
        .expect("token");
    (r.status().as_u16(), r.json().await.unwrap_or_default())
}

/// Redeems a code at the server `base` with client_secret_basic; returns status and JSON.
pub async fn redeem_at(
    base: &str,
    rp: &Rp,
    code: &str,
    verifier: &str,
) -> (u16, serde_json::Value) {
    let r = http()
        .post(format!("{base}/token"))
        .basic_auth(&rp.id, rp.secret.as_deref())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &rp.redirect_uri),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .expect("token");
    (r.status().as_u16(), r.json().await.unwrap_or_default())
}

/// Redeems one code at each of `bases` at the same time; returns how many got tokens
/// (every other answer must be a 400).
pub async fn redeem_concurrently(bases: &[&str], rp: &Rp, code: &str, verifier: &str) -> usize {
    let mut tasks = Vec::new();
    for base in bases {
        let (base, rp, code, verifier) = (
            base.to_string(),
            rp.clone(),
            code.to_owned(),
            verifier.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            let form = [
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", rp.redirect_uri.as_str()),
                ("code_verifier", verifier.as_str()),
            ];
            let r = http()
                .post(format!("{base}/token"))
                .basic_auth(&rp.id, rp.secret.as_deref())
                .form(&form)
                .send()
                .await;
            r.expect("token request").status().as_u16()
        }));
    }
    let mut wins = 0;
    for t in tasks {
        let s = t.await.expect("task");
        assert!(s == 200 || s == 400, "unexpected status {s}");
        wins += usize::from(s == 200);
    }
    wins
}

/// Full sign-in: returns the token response JSON.
pub async fn sign_in(
    app: &TestApp,
    rp: &Rp,
    browser: &Browser,
    login: &str,
    password: &str,
) -> serde_json::Value {
    let (url, verifier) = authorize_url(app, rp, &[]);
    let landed = browser.sign_in_at(&app.base, &url, login, password).await;
    redeem_landed(app, rp, &landed, &verifier).await
}

/// Redeems the code the browser landed with at `rp`'s redirect URI; the token response,
/// which must be 200.
async fn redeem_landed(
    app: &TestApp,
    rp: &Rp,
    landed: &url::Url,
    verifier: &str,
) -> serde_json::Value {
    let code = Landed::param(landed, "code").expect("code");
    let (status, body) = redeem(app, rp, &code, verifier).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// An authorization of `rp` in browser `b`, which is signed in already (consenting if
/// asked), redeemed; the token response.
pub async fn authorize_signed_in(
    app: &TestApp,
    rp: &Rp,
    b: &Browser,
    extra: &[(&str, &str)],
) -> serde_json::Value {
    let (url, verifier) = authorize_url(app, rp, extra);
    let landed = match b.get(&app.base, &url).await {
        Landed::Page(200, _, html) if html.contains("value=\"allow\"") => {
            b.submit(&app.base, &html, &[("decision", "allow")]).await
        }
        other => other,
    };
    redeem_landed(app, rp, &landed.redirect(), &verifier).await
}

/// A form POST to `path` as client `rp`, authenticated with HTTP Basic (introspection,
/// revocation).
pub async fn post_as(
    app: &TestApp,
    rp: &Rp,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    http()
        .post(app.url(path))
        .basic_auth(&rp.id, rp.secret.as_deref())
        .form(form)
        .send()
        .await
        .expect("request")
}

/// The RFC 7662 answer about `token` to `rp` (HTTP Basic), which must be 200.
pub async fn introspect_json(app: &TestApp, rp: &Rp, token: &str) -> serde_json::Value {
    let r = post_as(app, rp, "/introspect", &[("token", token)]).await;
    assert_eq!(r.status(), 200);
    r.json().await.expect("introspection JSON")
}

/// The `error` that an authorization request of `rp` with `prompt=none` gets back in `b`
/// (`login_required` once its session has ended); `None` if it got a code.
pub async fn prompt_none_error(app: &TestApp, rp: &Rp, b: &Browser) -> Option<String> {
    let (url, _) = authorize_url(app, rp, &[("prompt", "none")]);
    let back = b.get(&app.base, &url).await.redirect();
    Landed::param(&back, "error")
}

/// Runs a test body against both stores. The shared-store variant needs
/// VHOD_TEST_DATABASE_URL and VHOD_TEST_REDIS_URL (CI always sets them and fails when
/// they are unreachable).
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        $(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded() {
                let app = $crate::helpers::spawn_app($crate::helpers::Store::Embedded).await.expect("embedded app");
                super::$name(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_redis() {
                match $crate::helpers::spawn_app($crate::helpers::Store::Shared).await {
                    Some(app) => super::$name(app).await,
                    None => eprintln!("VHOD_TEST_DATABASE_URL unset: shared-store variant not run here"),
                }
            }
        }
        )*
    };
}

/// Runs a test body that starts its own server (`async fn name(store: Store)`) against
/// both kinds of store; the body returns early when the shared one is not configured.
#[macro_export]
macro_rules! on_both_store_kinds {
    ($($name:ident),* $(,)?) => {
        $(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded() {
                super::$name($crate::helpers::Store::Embedded).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_redis() {
                super::$name($crate::helpers::Store::Shared).await;
            }
        }
        )*
    };
}

/// Runs a test body on a `localhost` issuer against both stores.
#[macro_export]
macro_rules! on_both_stores_localhost {
    ($($name:ident),* $(,)?) => {
        $(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded() {
                let app = $crate::helpers::spawn_on_localhost($crate::helpers::Store::Embedded)
                    .await
                    .expect("embedded app");
                super::$name(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_redis() {
                match $crate::helpers::spawn_on_localhost($crate::helpers::Store::Shared).await {
                    Some(app) => super::$name(app).await,
                    None => eprintln!("VHOD_TEST_DATABASE_URL unset: shared-store variant not run here"),
                }
            }
        }
        )*
    };
}

/// Runs the `openssl` command line in `dir`: whether it succeeded, and stdout + stderr.
pub fn openssl_in(args: &[&str], dir: &std::path::Path) -> (bool, String) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// GET `url` with a bearer token; the JSON body.
pub async fn get_bearer_json(url: &str, token: &str) -> serde_json::Value {
    http()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON")
}

/// Checks a JWS of vhod's (ES256) against its `/jwks` with openidconnect's verifier; returns
/// its header and claims.
pub async fn verify_with_jwks(app: &TestApp, jws: &str) -> (serde_json::Value, serde_json::Value) {
    verify_with_jwks_as(app, jws, "ES256").await
}

/// [`verify_with_jwks`] for a JWS that must be signed with `alg` (ES256 or RS256).
pub async fn verify_with_jwks_as(
    app: &TestApp,
    jws: &str,
    alg: &str,
) -> (serde_json::Value, serde_json::Value) {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use base64::Engine;
    use openidconnect::core::{CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
    use openidconnect::JsonWebKey;
    let jwks: CoreJsonWebKeySet =
        serde_json::from_value(get_json(&app.url("/jwks")).await).unwrap();
    let (input, sig) = jws.rsplit_once('.').unwrap();
    let (h, p) = input.split_once('.').unwrap();
    let part =
        |s: &str| -> serde_json::Value { serde_json::from_slice(&B64.decode(s).unwrap()).unwrap() };
    let (header, claims) = (part(h), part(p));
    assert_eq!(header["alg"], alg, "{header}");
    let kid = header["kid"].as_str().unwrap();
    let key = jwks
        .keys()
        .iter()
        .find(|k| k.key_id().map(|k| k.as_str()) == Some(kid))
        .expect("the kid is in /jwks");
    let alg = match alg {
        "ES256" => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        "RS256" => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        other => panic!("no verifier here for {other}"),
    };
    key.verify_signature(&alg, input.as_bytes(), &B64.decode(sig).unwrap())
        .expect("the signature verifies with the published key");
    (header, claims)
}

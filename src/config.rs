//! vhod's one typed configuration: a TOML file (optional), then `VHOD_*` environment
//! variables, then command-line flags. Every setting is documented in README.md
//! ("Configuration").

use anyhow::{bail, Context};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Development (embedded defaults) or production (strict checks at start).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Embedded defaults; a key-encryption key is generated under the data directory.
    #[default]
    Development,
    /// Refuses to start without a KEK, over plain HTTP off loopback, or with dev settings.
    Production,
}

/// Token and session lifetimes, seconds.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Lifetimes {
    /// Authorization code (at most 60).
    pub code: i64,
    /// Access token.
    pub access_token: i64,
    /// ID token.
    pub id_token: i64,
    /// Refresh token / grant.
    pub refresh_token: i64,
    /// Browser session.
    pub session: i64,
    /// A pushed authorization request's `request_uri` (RFC 9126 `expires_in`).
    pub pushed_request: i64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            code: 60,
            access_token: 600,
            id_token: 3600,
            refresh_token: 30 * 86400,
            session: 12 * 3600,
            pushed_request: 60,
        }
    }
}

/// Signing-key policy.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeysConfig {
    /// Algorithm of the primary key (access tokens, and ID Tokens unless a client asks for
    /// another): ES256 or RS256.
    pub alg: String,
    /// Further algorithms to keep a key for, offered to clients as
    /// `id_token_signed_response_alg` and listed in discovery. RS256 by default: OpenID
    /// Connect Discovery §3 requires every OP to support it for ID Tokens.
    pub extra_algs: Vec<String>,
    /// Seconds a new key is published before it signs.
    pub prepublish: i64,
    /// Days between scheduled rotations (0 = never).
    pub rotation_days: i64,
    /// Seconds between reloads of the key set from the database.
    pub refresh: u64,
}

impl Default for KeysConfig {
    fn default() -> Self {
        KeysConfig {
            alg: "ES256".into(),
            extra_algs: vec!["RS256".into()],
            prepublish: 3600,
            rotation_days: 90,
            refresh: 2,
        }
    }
}

/// TLS served by vhod itself (TLS 1.3 only).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

/// How citizens are notified (e-mail, SMS). Without a transport a channel is unavailable,
/// except in development mode, where the outbox takes every message.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// SMTP relay in lettre's URL form: `smtps://user:pass@host:465`, or
    /// `smtp://host:587?tls=required`.
    pub smtp_url: Option<String>,
    /// The From address of e-mails.
    pub email_from: String,
    /// The SMS gateway URL: vhod POSTs `{"to": "+7…", "text": "…"}` as JSON.
    pub sms_url: Option<String>,
    /// Bearer token for the SMS gateway (environment: `VHOD_SMS_TOKEN`).
    pub sms_token: Option<String>,
    /// Delay before a notice that failed for a reason that may pass, or a back-channel
    /// logout its first three attempts did not deliver, is tried again, ms; it doubles after
    /// each further failure.
    pub retry_base_ms: u64,
    /// Longest delay between two attempts, ms.
    pub retry_cap_ms: u64,
    /// Attempts (the first included) after which a notice or logout is given up.
    pub retry_max_attempts: i64,
    /// How often a node looks for notices and logouts due again, ms.
    pub retry_interval_ms: u64,
}

impl NotifyConfig {
    /// How failed notices and back-channel logouts are tried again.
    pub fn retry(&self) -> idp::notify::RetryPolicy {
        idp::notify::RetryPolicy {
            base: std::time::Duration::from_millis(self.retry_base_ms),
            cap: std::time::Duration::from_millis(self.retry_cap_ms),
            max_attempts: self.retry_max_attempts,
            interval: std::time::Duration::from_millis(self.retry_interval_ms),
        }
    }
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            smtp_url: None,
            email_from: "vhod <no-reply@localhost>".into(),
            sms_url: None,
            sms_token: None,
            retry_base_ms: 60_000,
            retry_cap_ms: 3_600_000,
            retry_max_attempts: 12,
            retry_interval_ms: 10_000,
        }
    }
}

impl std::fmt::Debug for NotifyConfig {
    // The SMTP URL may carry a password and the token is a secret: neither is printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifyConfig")
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "[set]"))
            .field("email_from", &self.email_from)
            .field("sms_url", &self.sms_url)
            .field("sms_token", &self.sms_token.as_ref().map(|_| "[set]"))
            .field("retry_base_ms", &self.retry_base_ms)
            .field("retry_cap_ms", &self.retry_cap_ms)
            .field("retry_max_attempts", &self.retry_max_attempts)
            .field("retry_interval_ms", &self.retry_interval_ms)
            .finish()
    }
}

/// The identity registry that confirms the data behind the `standard` level (README,
/// "Identity registry"). Without `registry_url` the level rests on the input checks alone.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdentityConfig {
    /// The registry's check endpoint (vhod POSTs JSON to it).
    pub registry_url: Option<String>,
    /// The registry's name, kept with the level's evidence.
    pub registry_name: String,
    /// How long one check may take, milliseconds.
    pub registry_timeout_ms: u64,
    /// Bearer token for the registry (environment: `VHOD_IDENTITY_REGISTRY_TOKEN`).
    pub registry_token: Option<String>,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            registry_url: None,
            registry_name: "registry".into(),
            registry_timeout_ms: 5000,
            registry_token: None,
        }
    }
}

impl std::fmt::Debug for IdentityConfig {
    // The token is a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityConfig")
            .field("registry_url", &self.registry_url)
            .field("registry_name", &self.registry_name)
            .field("registry_timeout_ms", &self.registry_timeout_ms)
            .field(
                "registry_token",
                &self.registry_token.as_ref().map(|_| "[set]"),
            )
            .finish()
    }
}

/// The certificate authority (`keys::ca`). Its base URL is always `{issuer}/ca`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaConfig {
    /// Lifetime of a citizen certificate, days.
    pub citizen_validity_days: i64,
    /// The organisation (O) in the CA's names, used when the CA is first created.
    pub organization: String,
}

impl Default for CaConfig {
    fn default() -> Self {
        CaConfig {
            citizen_validity_days: 365,
            organization: "vhod".into(),
        }
    }
}

/// Webhook delivery of signing-request events (`signer::requests::WebhookSettings`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    /// Delay after the first failed attempt, ms; it doubles after each further one.
    pub backoff_base_ms: u64,
    /// Longest delay between two attempts, ms.
    pub backoff_cap_ms: u64,
    /// Attempts after which an event is given up.
    pub max_attempts: i64,
    /// How often each node looks for due events and expired requests, ms.
    pub interval_ms: u64,
    /// How long one POST may take, ms.
    pub timeout_ms: u64,
    /// Whether receivers may be on loopback, private or link-local addresses (off: a
    /// relying party cannot make vhod POST into its own network).
    pub allow_private_networks: bool,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        WebhooksConfig {
            backoff_base_ms: 30_000,
            backoff_cap_ms: 3_600_000,
            max_attempts: 30,
            interval_ms: 5_000,
            timeout_ms: 10_000,
            allow_private_networks: false,
        }
    }
}

impl WebhooksConfig {
    /// The sender's settings.
    pub fn settings(&self) -> signer::requests::WebhookSettings {
        use std::time::Duration;
        signer::requests::WebhookSettings {
            backoff_base: Duration::from_millis(self.backoff_base_ms),
            backoff_cap: Duration::from_millis(self.backoff_cap_ms),
            max_attempts: self.max_attempts,
            interval: Duration::from_millis(self.interval_ms),
            timeout: Duration::from_millis(self.timeout_ms),
            allow_private_networks: self.allow_private_networks,
        }
    }
}

/// Fetching the keys of `private_key_jwt` clients registered with a `jwks_uri`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientJwksConfig {
    /// Seconds a fetched key set is used before it is fetched again.
    pub cache_max_age: u64,
    /// Seconds after a fetch before an assertion naming a key not in the set (the client
    /// rotated) may cause another.
    pub cooldown: u64,
    /// How long one fetch may take, ms.
    pub timeout_ms: u64,
}

impl Default for ClientJwksConfig {
    fn default() -> Self {
        ClientJwksConfig {
            cache_max_age: 600,
            cooldown: 30,
            timeout_ms: 5000,
        }
    }
}

impl ClientJwksConfig {
    /// The fetcher's settings.
    pub fn settings(&self) -> idp::oauth::client_keys::RemoteKeySettings {
        use std::time::Duration;
        idp::oauth::client_keys::RemoteKeySettings {
            cache_max_age: Duration::from_secs(self.cache_max_age),
            cooldown: Duration::from_secs(self.cooldown),
            timeout: Duration::from_millis(self.timeout_ms),
        }
    }
}

/// The longest citizen certificate accepted, days: five years, half the issuing CA's ten,
/// so a certificate issued late in the issuing CA's life still fits inside it for years.
pub const MAX_CITIZEN_VALIDITY_DAYS: i64 = 5 * 365;

/// The whole configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// development or production.
    pub mode: Mode,
    /// Listen address.
    pub listen: SocketAddr,
    /// Issuer URL; default `http://` + listen address.
    pub issuer: Option<String>,
    /// Data directory (SQLite file, development KEK).
    pub data_dir: PathBuf,
    /// Database URL; default a SQLite file in the data directory.
    pub database_url: Option<String>,
    /// Pooled database connections; default 1 for SQLite, 16 for PostgreSQL.
    pub database_max_connections: Option<u32>,
    /// Redis URL for the shared cache; default in-process.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key.
    pub redis_prefix: String,
    /// File holding the key-encryption key (base64 of 32 bytes).
    pub kek_file: Option<PathBuf>,
    /// The KEK itself (environment only: `VHOD_KEK`).
    #[serde(skip)]
    pub kek: Option<String>,
    /// Lifetimes.
    pub lifetimes: Lifetimes,
    /// Signing keys.
    pub keys: KeysConfig,
    /// Log filter (tracing EnvFilter syntax).
    pub log: String,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Serve TLS directly.
    pub tls: Option<TlsConfig>,
    /// Notification transports.
    pub notify: NotifyConfig,
    /// Identity checks.
    pub identity: IdentityConfig,
    /// The certificate authority.
    pub ca: CaConfig,
    /// Webhook delivery.
    pub webhooks: WebhooksConfig,
    /// Every client must push its authorization requests (RFC 9126 §5), not only those
    /// registered with `--require-par`.
    pub require_pushed_authorization_requests: bool,
    /// Every DPoP proof must carry a nonce this server gave (RFC 9449 §8); without it, a
    /// proof is refused with `use_dpop_nonce` and a fresh nonce in `DPoP-Nonce`.
    pub require_dpop_nonce: bool,
    /// Clients' keys fetched from their `jwks_uri`.
    pub client_jwks: ClientJwksConfig,
    /// Authorization requests that start a sign-in or consent at `/authorize`, and device
    /// requests at `/device_authorization`, one client address may make a minute; 0 for no
    /// limit.
    pub authorization_requests_per_minute: u64,
    /// Authorization requests one client may push to `/par` a minute; 0 for no limit.
    pub pushed_requests_per_minute: u64,
    /// The most the in-process cache may hold, MiB (without Redis); past it new sign-ins,
    /// codes and sessions are refused until entries expire, and nothing live is evicted.
    pub cache_max_mb: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::Development,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            issuer: None,
            data_dir: PathBuf::from("./data"),
            database_url: None,
            database_max_connections: None,
            redis_url: None,
            redis_prefix: "vhod:".into(),
            kek_file: None,
            kek: None,
            lifetimes: Lifetimes::default(),
            keys: KeysConfig::default(),
            log: "info".into(),
            trusted_proxies: Vec::new(),
            tls: None,
            notify: NotifyConfig::default(),
            identity: IdentityConfig::default(),
            ca: CaConfig::default(),
            webhooks: WebhooksConfig::default(),
            require_pushed_authorization_requests: false,
            require_dpop_nonce: false,
            client_jwks: ClientJwksConfig::default(),
            authorization_requests_per_minute: idp::oauth::limit::DEFAULT_PER_MINUTE,
            pushed_requests_per_minute: idp::oauth::limit::DEFAULT_PUSHES_PER_MINUTE,
            cache_max_mb: (idp::cache::memory::DEFAULT_MAX_BYTES >> 20) as u64,
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn parse_env<T: std::str::FromStr>(name: &str) -> anyhow::Result<Option<T>> {
    match env(name) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| anyhow::anyhow!("{name}={v:?} is not valid")),
    }
}

impl Config {
    /// Loads the file (if any), then the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| env("VHOD_CONFIG").map(PathBuf::from));
        let mut c = match file {
            Some(f) => {
                let text = std::fs::read_to_string(&f)
                    .with_context(|| format!("reading config {}", f.display()))?;
                toml::from_str(&text).with_context(|| format!("parsing config {}", f.display()))?
            }
            None => Config::default(),
        };
        if let Some(v) = env("VHOD_MODE") {
            c.mode = match v.as_str() {
                "production" => Mode::Production,
                "development" => Mode::Development,
                other => bail!("VHOD_MODE={other:?}: use development or production"),
            };
        }
        if let Some(v) = parse_env("VHOD_LISTEN")? {
            c.listen = v;
        }
        c.issuer = env("VHOD_ISSUER").or(c.issuer);
        if let Some(v) = env("VHOD_DATA_DIR") {
            c.data_dir = v.into();
        }
        c.database_url = env("VHOD_DATABASE_URL").or(c.database_url);
        if let Some(v) = parse_env("VHOD_DATABASE_MAX_CONNECTIONS")? {
            c.database_max_connections = Some(v);
        }
        c.redis_url = env("VHOD_REDIS_URL").or(c.redis_url);
        if let Some(v) = env("VHOD_REDIS_PREFIX") {
            c.redis_prefix = v;
        }
        c.kek_file = env("VHOD_KEK_FILE").map(PathBuf::from).or(c.kek_file);
        c.kek = env("VHOD_KEK");
        c.notify.smtp_url = env("VHOD_SMTP_URL").or(c.notify.smtp_url);
        if let Some(v) = env("VHOD_EMAIL_FROM") {
            c.notify.email_from = v;
        }
        c.notify.sms_url = env("VHOD_SMS_URL").or(c.notify.sms_url);
        c.notify.sms_token = env("VHOD_SMS_TOKEN").or(c.notify.sms_token);
        c.identity.registry_url = env("VHOD_IDENTITY_REGISTRY_URL").or(c.identity.registry_url);
        if let Some(v) = env("VHOD_IDENTITY_REGISTRY_NAME") {
            c.identity.registry_name = v;
        }
        if let Some(v) = parse_env("VHOD_IDENTITY_REGISTRY_TIMEOUT_MS")? {
            c.identity.registry_timeout_ms = v;
        }
        c.identity.registry_token =
            env("VHOD_IDENTITY_REGISTRY_TOKEN").or(c.identity.registry_token);
        if let Some(v) = parse_env("VHOD_CA_CITIZEN_VALIDITY_DAYS")? {
            c.ca.citizen_validity_days = v;
        }
        if let Some(v) = env("VHOD_CA_ORGANIZATION") {
            c.ca.organization = v;
        }
        if let Some(v) = parse_env("VHOD_WEBHOOKS_BACKOFF_BASE_MS")? {
            c.webhooks.backoff_base_ms = v;
        }
        if let Some(v) = parse_env("VHOD_WEBHOOKS_BACKOFF_CAP_MS")? {
            c.webhooks.backoff_cap_ms = v;
        }
        if let Some(v) = parse_env("VHOD_WEBHOOKS_MAX_ATTEMPTS")? {
            c.webhooks.max_attempts = v;
        }
        if let Some(v) = parse_env("VHOD_WEBHOOKS_INTERVAL_MS")? {
            c.webhooks.interval_ms = v;
        }
        if let Some(v) = parse_env("VHOD_WEBHOOKS_TIMEOUT_MS")? {
            c.webhooks.timeout_ms = v;
        }
        if let Some(v) = parse_env("VHOD_WEBHOOKS_ALLOW_PRIVATE_NETWORKS")? {
            c.webhooks.allow_private_networks = v;
        }
        if let Some(v) = env("VHOD_KEY_ALG") {
            c.keys.alg = v;
        }
        if let Some(v) = std::env::var_os("VHOD_KEY_EXTRA_ALGS") {
            c.keys.extra_algs = v
                .to_string_lossy()
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(v) = parse_env("VHOD_KEY_PREPUBLISH_SECS")? {
            c.keys.prepublish = v;
        }
        if let Some(v) = parse_env("VHOD_KEY_ROTATION_DAYS")? {
            c.keys.rotation_days = v;
        }
        if let Some(v) = parse_env("VHOD_KEY_REFRESH_SECS")? {
            c.keys.refresh = v;
        }
        if let Some(v) = parse_env("VHOD_REQUIRE_PAR")? {
            c.require_pushed_authorization_requests = v;
        }
        if let Some(v) = parse_env("VHOD_REQUIRE_DPOP_NONCE")? {
            c.require_dpop_nonce = v;
        }
        if let Some(v) = parse_env("VHOD_CLIENT_JWKS_CACHE_MAX_AGE")? {
            c.client_jwks.cache_max_age = v;
        }
        if let Some(v) = parse_env("VHOD_CLIENT_JWKS_COOLDOWN")? {
            c.client_jwks.cooldown = v;
        }
        if let Some(v) = parse_env("VHOD_CLIENT_JWKS_TIMEOUT_MS")? {
            c.client_jwks.timeout_ms = v;
        }
        if let Some(v) = parse_env("VHOD_AUTHORIZATION_REQUESTS_PER_MINUTE")? {
            c.authorization_requests_per_minute = v;
        }
        if let Some(v) = parse_env("VHOD_PUSHED_REQUESTS_PER_MINUTE")? {
            c.pushed_requests_per_minute = v;
        }
        if let Some(v) = parse_env("VHOD_CACHE_MAX_MB")? {
            c.cache_max_mb = v;
        }
        if let Some(v) = parse_env("VHOD_ACCESS_TOKEN_TTL")? {
            c.lifetimes.access_token = v;
        }
        if let Some(v) = env("VHOD_LOG") {
            c.log = v;
        }
        match (env("VHOD_TLS_CERT"), env("VHOD_TLS_KEY")) {
            (Some(cert), Some(key)) => {
                c.tls = Some(TlsConfig {
                    cert: cert.into(),
                    key: key.into(),
                })
            }
            (None, None) => {}
            _ => bail!("set both VHOD_TLS_CERT and VHOD_TLS_KEY, or neither"),
        }
        if let Some(v) = env("VHOD_TRUSTED_PROXIES") {
            c.trusted_proxies = v
                .split(',')
                .map(|a| {
                    a.trim().parse().map_err(|_| {
                        anyhow::anyhow!("VHOD_TRUSTED_PROXIES: {a:?} is not an IP address")
                    })
                })
                .collect::<anyhow::Result<_>>()?;
        }
        Ok(c)
    }

    /// The issuer: configured, or `http://` + the listen address.
    pub fn issuer(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        self.issuer
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{}", self.listen))
            .trim_end_matches('/')
            .to_owned()
    }

    /// The database URL: configured, or `vhod.db` in the data directory.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("vhod.db").display()
            )
        })
    }

    /// Checks the settings; production refuses what is only fit for development.
    pub fn validate(&self) -> anyhow::Result<()> {
        let issuer = self.issuer();
        let url =
            url::Url::parse(&issuer).with_context(|| format!("issuer {issuer:?} is not a URL"))?;
        if url.query().is_some() || url.fragment().is_some() {
            bail!("issuer {issuer:?} must not have a query or fragment");
        }
        if !(1..=60).contains(&self.lifetimes.code) {
            bail!("lifetimes.code must be between 1 and 60 seconds");
        }
        if !(1..=600).contains(&self.lifetimes.pushed_request) {
            bail!("lifetimes.pushed_request must be between 1 and 600 seconds");
        }
        // Less than 16 MiB would refuse sign-ins at a few thousand; more than 1 TiB is a slip.
        if !(16..=1 << 20).contains(&self.cache_max_mb) {
            bail!("cache_max_mb must be between 16 and 1048576");
        }
        if self.notify.retry_max_attempts < 1 {
            bail!("notify.retry_max_attempts must be at least 1");
        }
        if self
            .database_max_connections
            .is_some_and(|n| !(1..=1000).contains(&n))
        {
            bail!("database_max_connections must be between 1 and 1000");
        }
        if let Some(a) = self
            .keys
            .extra_algs
            .iter()
            .find(|a| !["ES256", "RS256"].contains(&a.as_str()))
        {
            bail!("keys.extra_algs: {a:?} is not ES256 or RS256");
        }
        if !["ES256", "RS256"].contains(&self.keys.alg.as_str()) {
            bail!("keys.alg must be ES256 or RS256");
        }
        if let Some(u) = &self.identity.registry_url {
            let parsed = url::Url::parse(u).context("identity.registry_url is not a URL")?;
            if self.mode == Mode::Production && parsed.scheme() != "https" {
                bail!("production mode needs an https identity registry (identity.registry_url)");
            }
        }
        if !(1..=60_000).contains(&self.identity.registry_timeout_ms) {
            bail!("identity.registry_timeout_ms must be between 1 and 60000");
        }
        if !(1..=MAX_CITIZEN_VALIDITY_DAYS).contains(&self.ca.citizen_validity_days) {
            bail!("ca.citizen_validity_days must be between 1 and {MAX_CITIZEN_VALIDITY_DAYS}");
        }
        let org = self.ca.organization.trim();
        // ub-organization-name (RFC 5280 Appendix A): 64 characters.
        if org.is_empty() || org.chars().count() > 64 || org != self.ca.organization {
            bail!("ca.organization must be 1 to 64 characters without leading or trailing spaces");
        }
        let w = &self.webhooks;
        if !(1..=86_400_000).contains(&w.backoff_base_ms)
            || !(w.backoff_base_ms..=86_400_000).contains(&w.backoff_cap_ms)
        {
            bail!("webhooks.backoff_base_ms must be 1 to 86400000 and webhooks.backoff_cap_ms between it and 86400000");
        }
        if !(1..=1000).contains(&w.max_attempts) {
            bail!("webhooks.max_attempts must be between 1 and 1000");
        }
        if !(10..=3_600_000).contains(&w.interval_ms) {
            bail!("webhooks.interval_ms must be between 10 and 3600000");
        }
        if !(100..=60_000).contains(&w.timeout_ms) {
            bail!("webhooks.timeout_ms must be between 100 and 60000");
        }
        let j = &self.client_jwks;
        if !(1..=86_400).contains(&j.cache_max_age) {
            bail!("client_jwks.cache_max_age must be between 1 and 86400 seconds");
        }
        if !(1..=j.cache_max_age).contains(&j.cooldown) {
            bail!("client_jwks.cooldown must be between 1 second and client_jwks.cache_max_age");
        }
        if !(100..=60_000).contains(&j.timeout_ms) {
            bail!("client_jwks.timeout_ms must be between 100 and 60000");
        }
        if self.mode == Mode::Production {
            if self.kek.is_none() && self.kek_file.is_none() {
                bail!("production mode needs a key-encryption key: set VHOD_KEK or kek_file");
            }
            if url.scheme() != "https" {
                bail!("production mode needs an https issuer (got {issuer})");
            }
            let filter = self.log.to_ascii_lowercase();
            if filter.contains("debug") || filter.contains("trace") {
                bail!("production mode refuses debug or trace logging (log = {:?}): request details could reach the logs", self.log);
            }
            if self.kek_file.as_deref() == Some(self.data_dir.join("kek").as_path()) {
                bail!("production mode refuses the development key-encryption key in the data directory: keep the KEK apart from the data it protects");
            }
            if let Some(u) = &self.notify.smtp_url {
                let parsed = url::Url::parse(u).context("notify.smtp_url")?;
                let loopback = parsed.host_str().is_some_and(|h| {
                    h == "localhost"
                        || h.parse::<std::net::IpAddr>()
                            .is_ok_and(|ip| ip.is_loopback())
                });
                let tls = parsed.scheme() == "smtps"
                    || parsed
                        .query_pairs()
                        .any(|(k, v)| k == "tls" && v == "required");
                if !tls && !loopback {
                    bail!("production mode refuses unencrypted SMTP to a remote relay: use smtps:// or ?tls=required");
                }
            }
            if let Some(u) = &self.notify.sms_url {
                if !u.starts_with("https://") {
                    bail!("production mode needs an https SMS gateway (notify.sms_url)");
                }
            }
            if !self.listen.ip().is_loopback() && self.tls.is_none() {
                bail!(
                    "production mode refuses plain HTTP on the non-loopback address {}: configure tls, or listen on loopback behind a TLS-terminating proxy",
                    self.listen
                );
            }
        }
        Ok(())
    }
}

//! The one application state, built once at start-up and shared by every handler.

use crate::cache::Cache;
use crate::pages::Pages;
use crate::store::{Client, Db, StoreError};
use keys::{Clock, KeyRing};
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Lifetimes and switches of the provider.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The issuer identifier, without a trailing slash.
    pub issuer: String,
    /// Authorization code lifetime, seconds (at most 60).
    pub code_ttl: i64,
    /// Access token lifetime, seconds.
    pub access_token_ttl: i64,
    /// ID token lifetime, seconds.
    pub id_token_ttl: i64,
    /// Refresh token (and grant) lifetime, seconds.
    pub refresh_token_ttl: i64,
    /// Browser session lifetime, seconds.
    pub session_ttl: i64,
    /// How long a login/consent interaction may take, seconds.
    pub interaction_ttl: i64,
    /// How long a pushed authorization request's `request_uri` lasts, seconds (RFC 9126).
    pub par_ttl: i64,
    /// How many authorization requests that start an interaction at `/authorize`, and
    /// device requests at `/device_authorization`, one client address may make a minute; 0
    /// for no limit ([`crate::oauth::limit`]).
    pub authorization_requests_per_minute: u64,
    /// How many authorization requests one client may push a minute (RFC 9126 §2.3); 0 for
    /// no limit ([`crate::oauth::limit`]).
    pub pushed_requests_per_minute: u64,
    /// Every client must push its authorization requests (RFC 9126 §5); the account area,
    /// vhod's own client, is exempt.
    pub require_par: bool,
    /// Every DPoP proof at the token, pushed-request and userinfo endpoints must carry a
    /// nonce this server gave (RFC 9449 §8–9); otherwise only a nonce a proof does carry
    /// is checked.
    pub require_dpop_nonce: bool,
    /// Cookies get `Secure` and the `__Host-` prefix; HSTS is sent (issuer is https).
    pub secure_cookies: bool,
    /// Development mode (relaxed checks, dev-only pages).
    pub development: bool,
    /// Reverse proxies whose `X-Forwarded-For` is believed (the client address is the
    /// last entry they appended); from anyone else the header is ignored.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The identity registry that must confirm the `standard` level, when configured.
    pub registry: Option<crate::registry::RegistrySettings>,
    /// How `private_key_jwt` clients' keys are fetched from their `jwks_uri`.
    pub client_jwks: crate::oauth::client_keys::RemoteKeySettings,
}

impl Settings {
    /// Defaults for an issuer.
    pub fn new(issuer: &str) -> Settings {
        let issuer = issuer.trim_end_matches('/').to_owned();
        Settings {
            secure_cookies: issuer.starts_with("https://"),
            issuer,
            code_ttl: 60,
            access_token_ttl: 600,
            id_token_ttl: 3600,
            refresh_token_ttl: 30 * 86400,
            session_ttl: 12 * 3600,
            interaction_ttl: 1800,
            par_ttl: 60,
            authorization_requests_per_minute: crate::oauth::limit::DEFAULT_PER_MINUTE,
            pushed_requests_per_minute: crate::oauth::limit::DEFAULT_PUSHES_PER_MINUTE,
            require_par: false,
            require_dpop_nonce: false,
            development: true,
            trusted_proxies: Vec::new(),
            registry: None,
            client_jwks: Default::default(),
        }
    }
}

/// Server-side secrets derived from the key-encryption key (shared by every node).
#[derive(Clone)]
pub struct Secrets {
    /// Key of the keyed hash under which client secrets are stored.
    pub client_secret_key: [u8; 32],
    /// Key that seals second-factor secrets (TOTP) at rest.
    pub factor_key: keys::Kek,
    /// Key that seals identity documents (SNILS, passport, INN) at rest.
    pub identity_key: keys::Kek,
    /// Key of the blind indexes that find an identity document without decrypting.
    pub identity_index_key: [u8; 32],
    /// Key of the keyed hashes under which recovery codes are stored.
    pub recovery_key: [u8; 32],
    /// The DPoP nonces every node gives and accepts (RFC 9449 §8).
    pub dpop_nonces: keys::dpop::Nonces,
    /// Makes and reads pairwise subject identifiers (OpenID Connect Core 1.0 §8.1).
    pub pairwise: keys::subject::Pairwise,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets([redacted])")
    }
}

/// Everything a request handler may need.
pub struct App {
    /// Lifetimes and switches.
    pub settings: Settings,
    /// Durable stores.
    pub db: Db,
    /// Short-lived state: codes, sessions, interactions, counters, replay caches.
    pub cache: Arc<dyn Cache>,
    /// Signing keys and the published JWKS.
    pub keys: Arc<KeyRing>,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// Derived server secrets.
    pub secrets: Secrets,
    /// Page templates.
    pub pages: Pages,
    /// E-mail, SMS and the development outbox.
    pub notifier: crate::notify::Notifier,
    /// An argon2id hash verified when the login is unknown, so both cost the same.
    pub dummy_password_hash: String,
    /// The e-signature service (its endpoints are merged into this router; the citizen pages
    /// that sign and the account's certificates call it).
    pub signer: Arc<signer::Signer>,
    /// The tamper-evident audit trail.
    pub audit: keys::audit::Audit,
    /// Key sets fetched from clients' `jwks_uri`.
    pub client_keys: crate::oauth::client_keys::RemoteKeys,
    /// Recently read clients (a second at most: a removed client stops working at once
    /// after that, an added one works at once).
    clients: RwLock<HashMap<String, (Arc<Client>, Instant)>>,
    /// The discovery document, serialised once.
    discovery: std::sync::OnceLock<axum::body::Bytes>,
    /// Access tokens this node issued lately for a citizen's grant, whose signatures need
    /// no checking again.
    pub issued: crate::oauth::tokens::Issued,
    /// Work finished after its request's answer (a failed sign-in's count towards the lock),
    /// waited for at shutdown.
    pub(crate) background: tokio_util::task::TaskTracker,
}

/// How long a looked-up client is reused without asking the database again.
const CLIENT_CACHE_FOR: Duration = Duration::from_secs(1);

impl App {
    /// Builds the application.
    #[expect(
        clippy::too_many_arguments,
        reason = "the composition root hands over each part once"
    )]
    pub fn new(
        settings: Settings,
        db: Db,
        cache: Arc<dyn Cache>,
        keys: Arc<KeyRing>,
        clock: Arc<dyn Clock>,
        secrets: Secrets,
        notifier: crate::notify::Notifier,
        signer: Arc<signer::Signer>,
    ) -> Result<App, crate::pages::PageError> {
        let audit = signer.audit.clone();
        Ok(App {
            client_keys: crate::oauth::client_keys::RemoteKeys::new(settings.client_jwks.clone()),
            settings,
            db,
            cache,
            keys,
            clock,
            secrets,
            pages: Pages::new()?,
            notifier,
            dummy_password_hash: crate::password::dummy_hash(),
            signer,
            audit,
            clients: RwLock::new(HashMap::new()),
            discovery: std::sync::OnceLock::new(),
            issued: crate::oauth::tokens::Issued::default(),
            background: tokio_util::task::TaskTracker::new(),
        })
    }

    /// At shutdown, once no request is being served: waits for the work that requests left
    /// to finish after their answers (failure counts, messages being delivered), at most
    /// `within`. Returns whether all of it finished.
    pub async fn finish_background(&self, within: Duration) -> bool {
        self.background.close();
        let all = async {
            self.background.wait().await;
            self.notifier.finish_detached().await;
        };
        let finished = tokio::time::timeout(within, all).await.is_ok();
        if !finished {
            tracing::warn!(
                within_s = within.as_secs(),
                "work left by requests did not finish before shutdown"
            );
        }
        finished
    }

    /// Unix seconds now.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Looks a client up, through a one-second cache.
    pub async fn client(&self, id: &str) -> Result<Option<Arc<Client>>, StoreError> {
        if let Ok(map) = self.clients.read() {
            if let Some((c, at)) = map.get(id) {
                if at.elapsed() < CLIENT_CACHE_FOR {
                    return Ok(Some(c.clone()));
                }
            }
        }
        let found = self.db.clients().get(id).await?.map(Arc::new);
        if let Ok(mut map) = self.clients.write() {
            if map.len() > 10_000 {
                map.clear();
            }
            match &found {
                Some(c) => {
                    map.insert(id.to_owned(), (c.clone(), Instant::now()));
                }
                None => {
                    map.remove(id);
                }
            }
        }
        Ok(found)
    }

    /// The `sub` that `client` is told for `account_id`: the account's id, or for a client
    /// with pairwise identifiers the one of its sector (OpenID Connect Core 1.0 §8.1).
    pub fn subject(&self, client: &Client, account_id: &str) -> String {
        match &client.sector_identifier {
            Some(sector) => self.secrets.pairwise.subject(sector, account_id),
            None => account_id.to_owned(),
        }
    }

    /// The account whose `sub` at `client` is `sub` (not checked to exist); `None` when
    /// `sub` is not one this provider made for the client's sector.
    pub fn account_of(&self, client: &Client, sub: &str) -> Option<String> {
        match &client.sector_identifier {
            Some(sector) => self.secrets.pairwise.account(sector, sub),
            None => Some(sub.to_owned()),
        }
    }

    /// The serialised discovery document.
    pub fn discovery_json(&self) -> axum::body::Bytes {
        self.discovery
            .get_or_init(|| crate::oauth::discovery::document(self).to_string().into())
            .clone()
    }

    /// An absolute URL of one of our paths.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.settings.issuer, path)
    }
}

/// The shared state handed to every handler.
#[derive(Clone)]
pub struct AppState(pub Arc<App>);

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

/// The signing API's reading of its clients' `sub` (a signing request names its signer so):
/// each client as registered now, pairwise or not.
pub struct SignerSubjects {
    /// Where the clients are registered.
    pub db: Db,
    /// The provider's pairwise identifiers.
    pub pairwise: keys::subject::Pairwise,
}

impl SignerSubjects {
    async fn sector(&self, client_id: &str) -> Result<Option<String>, signer::SubjectError> {
        Ok(self
            .db
            .clients()
            .get(client_id)
            .await?
            .and_then(|c| c.sector_identifier))
    }
}

#[async_trait::async_trait]
impl signer::Subjects for SignerSubjects {
    async fn account(
        &self,
        client_id: &str,
        sub: &str,
    ) -> Result<Option<String>, signer::SubjectError> {
        Ok(match self.sector(client_id).await? {
            Some(sector) => self.pairwise.account(&sector, sub),
            None => Some(sub.to_owned()),
        })
    }

    async fn subject(
        &self,
        client_id: &str,
        account_id: &str,
    ) -> Result<String, signer::SubjectError> {
        Ok(match self.sector(client_id).await? {
            Some(sector) => self.pairwise.subject(&sector, account_id),
            None => account_id.to_owned(),
        })
    }
}

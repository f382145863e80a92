//! The signer service: what its HTTP endpoints, its CLI and the citizen pages share.

use crate::ca_revocation::CaRevocation;
use crate::limit::{LocalLimiter, RateLimiter};
use crate::requests::WebhookSettings;
use crate::validate::{HttpRevocation, ValidationCache};
use keys::audit::Audit;
use keys::ca::Ca;
use keys::{Backend, Clock, KeyRing};
use sqlx::AnyPool;
use std::sync::Arc;

/// The signer on one store. Build it once per process with [`Signer::open`]; share it behind
/// an `Arc`.
pub struct Signer {
    /// The durable store (the same database as the IdP's; the signer's own tables only).
    pub pool: AnyPool,
    /// Which SQL backend `pool` talks to.
    pub backend: Backend,
    /// vhod's certificate authority: citizen certificates, CRL, OCSP, time stamps.
    pub ca: Arc<Ca>,
    /// vhod's signing keys: the JWKS that access tokens are checked against, and the key
    /// that signs webhook payloads.
    pub keys: Arc<KeyRing>,
    /// The clock every decision reads.
    pub clock: Arc<dyn Clock>,
    /// The audit trail.
    pub audit: Audit,
    /// The IdP's issuer URL (access tokens must carry it as `iss`); also the base of every
    /// URL the signer publishes.
    pub issuer: String,
    /// Where validation learns whether a certificate is revoked: vhod's own from `ca`, others
    /// over the network (CRLs cached until their nextUpdate).
    pub revocation: Arc<CaRevocation>,
    /// What validations share: parsed trust anchors (while the set is unchanged) and
    /// certificate links already verified.
    pub validation_cache: Arc<ValidationCache>,
    /// Per-client limits of the public endpoints (validation).
    pub limiter: Arc<dyn RateLimiter>,
    /// How webhook events are delivered and how often expiry is swept.
    pub webhooks: WebhookSettings,
    /// The DPoP nonces the API gives and checks (RFC 9449 §9), when it uses them.
    pub dpop_nonces: Option<DpopNonces>,
    /// How the API's clients name accounts (their `sub`, pairwise or not).
    pub subjects: Arc<dyn crate::Subjects>,
}

/// DPoP nonces at the signer's API: the IdP's, so that a client's nonce is good at both.
#[derive(Clone, Debug)]
pub struct DpopNonces {
    /// Makes and checks them.
    pub nonces: keys::dpop::Nonces,
    /// Every proof must carry one (otherwise only a nonce a proof carries is checked).
    pub required: bool,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// The signer on `pool`, after running its migrations.
    pub async fn open(
        pool: AnyPool,
        backend: Backend,
        ca: Arc<Ca>,
        keys: Arc<KeyRing>,
        clock: Arc<dyn Clock>,
        audit: Audit,
        issuer: String,
    ) -> Result<Signer, sqlx::migrate::MigrateError> {
        migrate(&pool, backend).await?;
        Ok(Signer {
            pool,
            backend,
            revocation: Arc::new(CaRevocation::new(ca.clone(), HttpRevocation::default())),
            limiter: Arc::new(LocalLimiter::default()),
            webhooks: WebhookSettings::default(),
            dpop_nonces: None,
            subjects: Arc::new(crate::PublicSubjects),
            validation_cache: Arc::new(ValidationCache::new()),
            ca,
            keys,
            clock,
            audit,
            issuer: issuer.trim_end_matches('/').to_owned(),
        })
    }

    /// The same signer counting its public endpoints' requests with `limiter` (the shared
    /// cache's, so that every node counts together).
    pub fn with_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Signer {
        self.limiter = limiter;
        self
    }

    /// The same signer giving and checking DPoP nonces (RFC 9449 §9).
    pub fn with_dpop_nonces(mut self, nonces: DpopNonces) -> Signer {
        self.dpop_nonces = Some(nonces);
        self
    }

    /// The same signer reading and writing its clients' `sub` with `subjects`.
    pub fn with_subjects(mut self, subjects: Arc<dyn crate::Subjects>) -> Signer {
        self.subjects = subjects;
        self
    }

    /// The same signer delivering webhooks with `settings`.
    pub fn with_webhooks(mut self, settings: WebhookSettings) -> Signer {
        self.webhooks = settings;
        self
    }

    /// An absolute URL of one of our paths.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
}

/// Creates the signer's tables. Other crates run their own migrators on the same database
/// with other version numbers, hence `ignore_missing`.
pub async fn migrate(pool: &AnyPool, backend: Backend) -> Result<(), sqlx::migrate::MigrateError> {
    let mut m = match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    m.set_ignore_missing(true);
    m.run(pool).await
}

//! vhod's composition root: configuration, wiring the stores, keys and cache into the
//! application, and serving it. `main.rs` is only the command line.

pub mod cli;
pub mod config;
mod signer_cli;

use anyhow::{bail, Context};
use config::{Config, Mode};
use idp::cache::{Cache, MemoryCache, RedisCache};
use idp::store::Db;
use idp::{App, AppState, Secrets, Settings};
use keys::{Alg, Clock, Kek, KeyRing, RotationPolicy, SystemClock};
use std::sync::Arc;
use tokio::net::TcpListener;

/// Resolves the key-encryption key: `VHOD_KEK`, then `kek_file`, then (development only)
/// a key generated once into the data directory.
pub fn load_kek(c: &Config) -> anyhow::Result<Kek> {
    if let Some(k) = &c.kek {
        return Kek::from_base64(k).context("VHOD_KEK is not base64 of 32 bytes");
    }
    if let Some(f) = &c.kek_file {
        return Kek::from_file(f).with_context(|| format!("reading the KEK from {}", f.display()));
    }
    if c.mode == Mode::Production {
        bail!("production mode needs a key-encryption key: set VHOD_KEK or kek_file");
    }
    let path = c.data_dir.join("kek");
    if path.exists() {
        return Kek::from_file(&path)
            .with_context(|| format!("reading the development KEK {}", path.display()));
    }
    std::fs::create_dir_all(&c.data_dir)
        .with_context(|| format!("creating {}", c.data_dir.display()))?;
    let (kek, b64) = Kek::generate();
    write_private(&path, b64.as_bytes())?;
    tracing::warn!(path = %path.display(), "generated a development key-encryption key; production needs VHOD_KEK or kek_file");
    Ok(kek)
}

fn write_private(path: &std::path::Path, data: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(data)?;
    Ok(())
}

/// Opens the database (creating the data directory for SQLite) and runs migrations.
pub async fn open_db(c: &Config) -> anyhow::Result<Db> {
    let url = c.database_url();
    if url.starts_with("sqlite:") && c.database_url.is_none() {
        std::fs::create_dir_all(&c.data_dir)
            .with_context(|| format!("creating {}", c.data_dir.display()))?;
    }
    let db = Db::connect_with(&url, c.database_max_connections)
        .await
        .context("connecting to the database")?;
    db.migrate().await.context("running migrations")?;
    signer::migrate(&db.pool, db.backend)
        .await
        .context("running the signer's migrations")?;
    Ok(db)
}

/// The signing-key policy from the configuration.
pub fn key_policy(c: &Config) -> RotationPolicy {
    let alg = |a: &str| if a == "RS256" { Alg::RS256 } else { Alg::ES256 };
    RotationPolicy {
        alg: alg(&c.keys.alg),
        also: c.keys.extra_algs.iter().map(|a| alg(a)).collect(),
        prepublish_secs: c.keys.prepublish,
        rotation_period_secs: (c.keys.rotation_days > 0).then_some(c.keys.rotation_days * 86400),
        retain_secs: c.lifetimes.id_token.max(c.lifetimes.access_token).max(3600),
    }
}

/// Opens the key ring.
pub async fn open_keys(
    c: &Config,
    db: &Db,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(Arc<KeyRing>, Kek)> {
    let kek = load_kek(c)?;
    let ring = KeyRing::load_or_init(db.pool.clone(), kek.clone(), key_policy(c), clock)
        .await
        .context("loading signing keys")?;
    Ok((ring, kek))
}

/// The notification transports the configuration names (the outbox in development mode).
pub fn open_notifier(c: &Config) -> anyhow::Result<idp::notify::Notifier> {
    idp::notify::Notifier::new(
        c.notify
            .smtp_url
            .clone()
            .map(|url| idp::notify::SmtpSettings {
                url,
                from: c.notify.email_from.clone(),
            }),
        c.notify
            .sms_url
            .clone()
            .map(|url| idp::notify::SmsSettings {
                url,
                token: c.notify.sms_token.clone(),
            }),
        (c.mode == Mode::Development).then(|| idp::notify::Outbox::new(c.data_dir.join("outbox"))),
    )
    .map(|n| n.with_retry(c.notify.retry()))
    .context("notification settings")
}

/// Redis must never drop a key to make room ([`RedisCache::eviction_policy`]): production
/// refuses a server that would, development warns; a server that will not say is a warning.
async fn check_eviction(c: &Config, redis: &RedisCache) -> anyhow::Result<()> {
    let why = "it could drop sessions, one-time codes and the records that keep codes and \
               tokens single-use; set maxmemory-policy noeviction";
    match redis
        .eviction_policy()
        .await
        .context("reading Redis' maxmemory-policy")?
    {
        Some(p) if p == "noeviction" => {}
        Some(p) if c.mode == Mode::Production => {
            bail!("production mode refuses a Redis that evicts keys (maxmemory-policy {p}): {why}")
        }
        Some(p) => tracing::warn!(policy = %p, "Redis evicts keys when full: {why}"),
        None => tracing::warn!(
            "Redis would not tell its maxmemory-policy (CONFIG GET refused); it must be noeviction: {why}"
        ),
    }
    Ok(())
}

/// Builds the application from a configuration, with a given clock.
pub async fn build(c: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Arc<App>> {
    c.validate()?;
    let db = open_db(c).await?;
    let (ring, kek) = open_keys(c, &db, clock.clone()).await?;
    let cache: Arc<dyn Cache> = match &c.redis_url {
        Some(url) => {
            let redis = RedisCache::connect(url, &c.redis_prefix)
                .await
                .context("connecting to Redis")?;
            check_eviction(c, &redis).await?;
            Arc::new(redis)
        }
        None => Arc::new(MemoryCache::with_max_bytes(
            usize::try_from(c.cache_max_mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX),
        )),
    };
    let mut settings = Settings::new(&c.issuer());
    settings.code_ttl = c.lifetimes.code;
    settings.access_token_ttl = c.lifetimes.access_token;
    settings.id_token_ttl = c.lifetimes.id_token;
    settings.refresh_token_ttl = c.lifetimes.refresh_token;
    settings.session_ttl = c.lifetimes.session;
    settings.par_ttl = c.lifetimes.pushed_request;
    settings.authorization_requests_per_minute = c.authorization_requests_per_minute;
    settings.pushed_requests_per_minute = c.pushed_requests_per_minute;
    settings.require_par = c.require_pushed_authorization_requests;
    settings.require_dpop_nonce = c.require_dpop_nonce;
    settings.client_jwks = c.client_jwks.settings();
    settings.development = c.mode == Mode::Development;
    settings.trusted_proxies = c.trusted_proxies.clone();
    settings.registry =
        c.identity
            .registry_url
            .clone()
            .map(|url| idp::registry::RegistrySettings {
                url,
                name: c.identity.registry_name.clone(),
                timeout: std::time::Duration::from_millis(c.identity.registry_timeout_ms),
                token: c.identity.registry_token.clone(),
            });
    let secrets = Secrets {
        client_secret_key: kek.derive_key(b"vhod/client-secret-hash/v1"),
        factor_key: factor_key(&kek),
        identity_key: Kek::from_bytes(kek.derive_key(b"vhod/identity-seal/v1")),
        identity_index_key: kek.derive_key(b"vhod/identity-blind-index/v1"),
        recovery_key: kek.derive_key(b"vhod/recovery-code-hash/v1"),
        pairwise: keys::subject::Pairwise::from_kek(&kek),
        dpop_nonces: dpop_nonces(&kek),
    };
    let notifier = open_notifier(c)?;
    let signer = open_signer(c, &db, ring.clone(), &kek, clock.clone())
        .await?
        .with_limiter(Arc::new(idp::http::CacheLimiter::new(
            cache.clone(),
            c.trusted_proxies.clone(),
        )));
    let app = App::new(
        settings,
        db,
        cache,
        ring,
        clock,
        secrets,
        notifier,
        Arc::new(signer),
    )?;
    idp::account::ensure_client(&app)
        .await
        .context("registering the account area's client")?;
    Ok(Arc::new(app))
}

/// Loads (on first start creates) the certificate authority under `{issuer}/ca`.
pub async fn open_ca(
    c: &Config,
    db: &Db,
    kek: &Kek,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<keys::ca::Ca> {
    keys::ca::Ca::ensure(
        db.pool.clone(),
        db.backend,
        kek.clone(),
        clock,
        keys::ca::CaSettings {
            base_url: format!("{}/ca", c.issuer().trim_end_matches('/')),
            organization: c.ca.organization.clone(),
            citizen_validity_secs: c.ca.citizen_validity_days * 86400,
            ..keys::ca::CaSettings::default()
        },
    )
    .await
    .context("loading the certificate authority")
}

/// The signer on `db`: vhod's CA (created on first start), the audit trail and the signer's
/// own tables.
pub async fn open_signer(
    c: &Config,
    db: &Db,
    ring: Arc<KeyRing>,
    kek: &Kek,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<signer::Signer> {
    let ca = open_ca(c, db, kek, clock.clone()).await?;
    let audit = keys::audit::Audit::new(db.pool.clone(), kek, clock.clone());
    signer::Signer::open(
        db.pool.clone(),
        db.backend,
        Arc::new(ca),
        ring,
        clock,
        audit,
        c.issuer(),
    )
    .await
    .map(|s| {
        s.with_webhooks(c.webhooks.settings())
            .with_subjects(Arc::new(idp::app::SignerSubjects {
                db: db.clone(),
                pairwise: keys::subject::Pairwise::from_kek(kek),
            }))
            .with_dpop_nonces(signer::DpopNonces {
                nonces: dpop_nonces(kek),
                required: c.require_dpop_nonce,
            })
    })
    .context("migrating the signer's tables")
}

/// The DPoP nonces (RFC 9449 §8–9) the IdP and the signer give and accept: one key, derived
/// from the key-encryption key, so that every node and both make and take the same ones.
pub fn dpop_nonces(kek: &Kek) -> keys::dpop::Nonces {
    keys::dpop::Nonces::new(kek.derive_key(b"vhod/dpop-nonce/v1"))
}

/// The key that seals second-factor secrets, derived from the key-encryption key.
pub fn factor_key(kek: &Kek) -> Kek {
    Kek::from_bytes(kek.derive_key(b"vhod/second-factor-secrets/v1"))
}

/// Loads a TLS 1.3-only server configuration (rustls with ring) from PEM files.
pub fn load_tls(t: &config::TlsConfig) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(&t.cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("reading the TLS certificate {}", t.cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(&t.key)
        .with_context(|| format!("reading the TLS key {}", t.key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .context("TLS 1.3")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the TLS certificate and key do not form a usable pair")?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// Serves `app` on `listener` (over TLS when `tls` is given) until the process ends; also
/// keeps the key ring fresh, delivers the signer's webhooks and tries failed notices again.
pub async fn serve_on(
    listener: TcpListener,
    app: Arc<App>,
    key_refresh: std::time::Duration,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> anyhow::Result<()> {
    let _refresher = app.keys.spawn_refresher(key_refresh);
    let _webhooks = app.signer.spawn_webhooks();
    let _notices = idp::notify::spawn_retries(&app);
    let router = idp::router::router(AppState(app.clone()));
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let Some(cfg) = tls else {
        let served = axum::serve(listener, service)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("serving");
        app.finish_background(BACKGROUND_GRACE).await;
        return served;
    };
    let handle = axum_server::Handle::new();
    let h = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        h.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
    });
    let std_listener = listener.into_std().context("listener")?;
    let rustls_config = axum_server::tls_rustls::RustlsConfig::from_config(cfg);
    let served = axum_server::tls_rustls::from_tcp_rustls(std_listener, rustls_config)
        .context("TLS listener")?
        .handle(handle)
        .serve(service)
        .await
        .context("serving TLS");
    app.finish_background(BACKGROUND_GRACE).await;
    served
}

/// How long shutdown waits, once the last request is answered, for the work requests left to
/// finish after their answers (an SMS or e-mail being delivered, a failed sign-in's count).
const BACKGROUND_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// `vhod serve`.
pub async fn serve(c: Config) -> anyhow::Result<()> {
    let tls = c.tls.as_ref().map(load_tls).transpose()?;
    let app = build(&c, Arc::new(SystemClock)).await?;
    let listener = TcpListener::bind(c.listen)
        .await
        .with_context(|| format!("binding {}", c.listen))?;
    tracing::info!(issuer = %app.settings.issuer, listen = %c.listen, "vhod is serving");
    serve_on(
        listener,
        app,
        std::time::Duration::from_secs(c.keys.refresh.max(1)),
        tls,
    )
    .await
}

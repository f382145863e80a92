//! The command line: `vhod serve | migrate | clients ... | users ... | keys ... | audit ... |
//! signer ...`.
//!
//! Every command takes `--config`, `--data-dir` and `--database-url` like `serve`, so a
//! client or user added while `serve` runs on the same store works at once.

use crate::config::Config;
use anyhow::{bail, Context};
use clap::{Args as ClapArgs, Parser, Subcommand};
use idp::oauth::client_auth::new_secret;
use idp::oauth::types::{AuthMethod, GrantType};
use idp::store::{NewAccount, NewClient};
use keys::{Clock, SystemClock};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// The exit code of a command line that cannot be parsed.
pub const USAGE_ERROR: u8 = 3;

/// vhod: a federated identity and e-signature provider.
#[derive(Parser, Debug)]
#[command(name = "vhod", version)]
pub struct Args {
    /// Configuration file (TOML); also `VHOD_CONFIG`.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Data directory (SQLite file, development key); also `VHOD_DATA_DIR`.
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL (sqlite://... or postgres://...); also `VHOD_DATABASE_URL`.
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server.
    Serve,
    /// Run the database migrations and exit.
    Migrate,
    /// Manage relying-party clients.
    #[command(subcommand)]
    Clients(Box<ClientsCmd>),
    /// Manage citizen accounts.
    #[command(subcommand)]
    Users(UsersCmd),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// The e-signature service: validation and its trust anchors.
    #[command(subcommand)]
    Signer(crate::signer_cli::SignerCmd),
}

/// `vhod audit ...`.
#[derive(Subcommand, Debug)]
pub enum AuditCmd {
    /// Check the audit trail's hash chain from its first event; exits 1 if it is broken.
    /// Prints the number of events and the head MAC: compare with a head recorded earlier
    /// to see that nothing was cut off the end.
    Verify {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the latest events, newest first.
    List {
        /// Only events about this subject (an account id, a certificate serial, ...).
        #[arg(long)]
        subject: Option<String>,
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `vhod clients ...`.
#[derive(Subcommand, Debug)]
pub enum ClientsCmd {
    /// Register a client; prints its id and (once) its secret.
    Add(AddClient),
    /// List clients.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change a registered client: only what is given changes (a repeatable option given
    /// once replaces the whole list). Takes effect in a running server within a second.
    Update(UpdateClient),
    /// Remove a client.
    Remove {
        /// The client id.
        id: String,
    },
}

/// `vhod clients update`.
#[derive(ClapArgs, Debug)]
pub struct UpdateClient {
    /// The client id.
    pub id: String,
    /// Display name shown on the consent page.
    #[arg(long)]
    pub name: Option<String>,
    /// Redirect URI (repeatable): replaces the registered ones.
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URI (repeatable): replaces the registered ones.
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    /// Forget every post-logout redirect URI.
    #[arg(long, conflicts_with = "post_logout_redirect_uris")]
    pub no_post_logout_redirect_uris: bool,
    /// Resource server (RFC 8707) the client may ask access tokens for, an absolute URI
    /// (repeatable): replaces the registered ones.
    #[arg(long = "resource")]
    pub resources: Vec<String>,
    /// Forget every resource server.
    #[arg(long, conflicts_with = "resources")]
    pub no_resources: bool,
    /// Grant type (repeatable): replaces the allowed ones.
    #[arg(long = "grant-type")]
    pub grant_types: Vec<String>,
    /// Scopes the client may ask for (space-separated).
    #[arg(long)]
    pub scope: Option<String>,
    /// Sign this client's ID Tokens with ALG, or `default` for keys.alg.
    #[arg(long = "id-token-alg", value_name = "ALG")]
    pub id_token_alg: Option<String>,
    /// Answer this client's UserInfo requests with a JWT signed with ALG, or `none` for
    /// plain JSON.
    #[arg(long = "userinfo-alg", value_name = "ALG")]
    pub userinfo_alg: Option<String>,
    /// Sign the introspection answers this client asks for as JWTs with ALG, or `default`
    /// for RS256.
    #[arg(long = "introspection-alg", value_name = "ALG")]
    pub introspection_alg: Option<String>,
    /// Sign the authorization responses this client asks for in a JWT response mode
    /// (JARM) with ALG, or `default` for RS256.
    #[arg(long = "authorization-alg", value_name = "ALG")]
    pub authorization_alg: Option<String>,
    /// Every sign-in needs a second factor: true or false.
    #[arg(long, value_name = "BOOL")]
    pub require_mfa: Option<bool>,
    /// The lowest account level accepted, or `any`.
    #[arg(long, value_name = "LEVEL")]
    pub min_level: Option<String>,
    /// Sign-ins start only from a pushed authorization request: true or false.
    #[arg(long = "require-par", value_name = "BOOL")]
    pub require_par: Option<bool>,
    /// Every token request must carry a DPoP proof: true or false.
    #[arg(long = "require-dpop", value_name = "BOOL")]
    pub require_dpop: Option<bool>,
    /// Every authorization request must be a Request Object signed with one of the
    /// client's keys: true or false.
    #[arg(long = "require-signed-request-object", value_name = "BOOL")]
    pub require_signed_request_object: Option<bool>,
    /// Tell the client at URL when a session it has tokens from ends (back-channel logout).
    #[arg(long = "backchannel-logout-uri", value_name = "URL")]
    pub backchannel_logout_uri: Option<String>,
    /// Stop telling the client of ended sessions.
    #[arg(long, conflicts_with = "backchannel_logout_uri")]
    pub no_backchannel_logout_uri: bool,
    /// Load the client's page at URL in the logout page (front-channel logout); it must have
    /// the scheme, host and port of one of the client's redirect URIs.
    #[arg(long = "frontchannel-logout-uri", value_name = "URL")]
    pub frontchannel_logout_uri: Option<String>,
    /// Stop loading the client's page in the logout page.
    #[arg(long, conflicts_with = "frontchannel_logout_uri")]
    pub no_frontchannel_logout_uri: bool,
    /// Give the front-channel logout page `iss` and `sid`: true or false.
    #[arg(long = "frontchannel-logout-session-required", value_name = "BOOL")]
    pub frontchannel_logout_session_required: Option<bool>,
    /// `public` or `pairwise` subject identifiers from now on. Every account the client
    /// knows then gets another `sub` at this client: its users are new to it.
    #[arg(long = "subject-type", value_name = "TYPE")]
    pub subject_type: Option<String>,
    /// The sector of a pairwise client's identifiers (a host name). Changing it changes
    /// every `sub` the client is told.
    #[arg(long, value_name = "HOST")]
    pub sector: Option<String>,
    /// Replace a private_key_jwt client's public keys (a JWKS JSON file).
    #[arg(long)]
    pub jwks: Option<PathBuf>,
    /// Fetch a private_key_jwt client's public keys from URL from now on (replaces --jwks).
    #[arg(long = "jwks-uri", value_name = "URL", conflicts_with = "jwks")]
    pub jwks_uri: Option<String>,
    /// Change how the client authenticates: client_secret_basic, client_secret_post,
    /// private_key_jwt (with --jwks or --jwks-uri unless it has keys) or none. A secret is
    /// made (and printed once) when it moves to a secret method from another; leaving the
    /// secret methods drops the secret, leaving private_key_jwt drops the keys.
    #[arg(long = "auth-method", value_name = "M")]
    pub auth_method: Option<String>,
    /// Give the client a new secret (printed once); the old one stops working.
    #[arg(long)]
    pub rotate_secret: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `vhod clients add`.
#[derive(ClapArgs, Debug)]
pub struct AddClient {
    /// Display name shown on the consent page.
    #[arg(long)]
    pub name: String,
    /// Redirect URI (repeatable), matched exactly.
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URI (repeatable).
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    /// Resource server (RFC 8707) the client may ask access tokens for, an absolute URI
    /// (repeatable).
    #[arg(long = "resource")]
    pub resources: Vec<String>,
    /// A public client (no secret; `--auth-method none`).
    #[arg(long)]
    pub public: bool,
    /// client_secret_basic (default), client_secret_post, private_key_jwt or none.
    #[arg(long)]
    pub auth_method: Option<String>,
    /// Grant type (repeatable): authorization_code, refresh_token, client_credentials.
    /// Default: authorization_code and refresh_token.
    #[arg(long = "grant-type")]
    pub grant_types: Vec<String>,
    /// Scopes the client may ask for (space-separated).
    #[arg(
        long,
        default_value = "openid profile email phone address offline_access"
    )]
    pub scope: String,
    /// The client's public keys (a JWKS JSON file) for private_key_jwt.
    #[arg(long)]
    pub jwks: Option<PathBuf>,
    /// Or where the client publishes them (https, or http on a loopback host): fetched when
    /// needed, kept for client_jwks.cache_max_age, fetched again when an assertion names a
    /// key not in the set.
    #[arg(long = "jwks-uri", value_name = "URL", conflicts_with = "jwks")]
    pub jwks_uri: Option<String>,
    /// Sign this client's ID Tokens with ALG (`id_token_signed_response_alg`): ES256 or
    /// RS256, one of keys.alg and keys.extra_algs. Default: keys.alg.
    #[arg(long = "id-token-alg", value_name = "ALG")]
    pub id_token_alg: Option<String>,
    /// Answer this client's UserInfo requests with a JWT signed with ALG
    /// (`userinfo_signed_response_alg`, OpenID Connect Core 1.0 §5.3.2): ES256 or RS256, one
    /// of keys.alg and keys.extra_algs. Default: plain JSON.
    #[arg(long = "userinfo-alg", value_name = "ALG")]
    pub userinfo_alg: Option<String>,
    /// Sign the introspection answers this client (a resource server) asks for as JWTs
    /// (`Accept: application/token-introspection+jwt`, RFC 9701) with ALG
    /// (`introspection_signed_response_alg`): ES256 or RS256, one of keys.alg and
    /// keys.extra_algs. Default: RS256.
    #[arg(long = "introspection-alg", value_name = "ALG")]
    pub introspection_alg: Option<String>,
    /// Sign the authorization responses this client asks for in a JWT response mode
    /// (`response_mode=jwt`, `query.jwt` or `form_post.jwt`; JARM) with ALG
    /// (`authorization_signed_response_alg`): ES256 or RS256, one of keys.alg and
    /// keys.extra_algs. Default: RS256.
    #[arg(long = "authorization-alg", value_name = "ALG")]
    pub authorization_alg: Option<String>,
    /// Every sign-in for this client needs a second factor (accounts without one are told
    /// to add one; `unmet_authentication_requirements`).
    #[arg(long)]
    pub require_mfa: bool,
    /// The lowest account level the client accepts: simplified, standard or confirmed.
    #[arg(long, value_name = "LEVEL")]
    pub min_level: Option<String>,
    /// Sign-ins for this client start only from a pushed authorization request (RFC 9126,
    /// `POST /par`); a plain authorization request is refused with `invalid_request`.
    #[arg(long = "require-par")]
    pub require_par: bool,
    /// Every token request of this client must carry a DPoP proof (RFC 9449,
    /// `dpop_bound_access_tokens`): none of its access tokens is a plain Bearer token.
    #[arg(long = "require-dpop")]
    pub require_dpop: bool,
    /// Every authorization request of this client must be a Request Object signed with one
    /// of its keys (RFC 9101, `require_signed_request_object`), by value or pushed; needs
    /// `--jwks` or `--jwks-uri`.
    #[arg(long = "require-signed-request-object")]
    pub require_signed_request_object: bool,
    /// Where the client is told, with a Logout Token, that a session it has tokens from has
    /// ended (OpenID Connect Back-Channel Logout 1.0): https, or http on a loopback host.
    #[arg(long = "backchannel-logout-uri", value_name = "URL")]
    pub backchannel_logout_uri: Option<String>,
    /// The client's page that logs it out when the provider's logout page loads it in an
    /// iframe (OpenID Connect Front-Channel Logout 1.0): with the scheme, host and port of one
    /// of its redirect URIs; https, or http on a loopback host.
    #[arg(long = "frontchannel-logout-uri", value_name = "URL")]
    pub frontchannel_logout_uri: Option<String>,
    /// Give that page `iss` and `sid`, so that the client can tell which session ended
    /// (`frontchannel_logout_session_required`).
    #[arg(
        long = "frontchannel-logout-session-required",
        requires = "frontchannel_logout_uri"
    )]
    pub frontchannel_logout_session_required: bool,
    /// `public` (default): the client is told each account's own identifier as `sub`;
    /// `pairwise` (OpenID Connect Core 1.0 §8.1): one of its sector's, which clients of other
    /// sectors cannot match with theirs.
    #[arg(long = "subject-type", value_name = "TYPE")]
    pub subject_type: Option<String>,
    /// The sector of a pairwise client's identifiers: a host name, shared by the clients of
    /// one organisation that may know a citizen as the same `sub`. Default: the one host of
    /// the client's redirect URIs (with redirect URIs on several hosts, or none, it must be
    /// named).
    #[arg(long, value_name = "HOST")]
    pub sector: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `vhod users ...`.
#[derive(Subcommand, Debug)]
pub enum UsersCmd {
    /// Create an account; the password is read from standard input.
    Add {
        /// Login (phone, e-mail or a name).
        #[arg(long)]
        login: String,
        /// Read the password from standard input (required: never on the command line).
        #[arg(long)]
        password_stdin: bool,
        /// E-mail address.
        #[arg(long)]
        email: Option<String>,
        /// Phone number.
        #[arg(long)]
        phone: Option<String>,
        /// Full name.
        #[arg(long)]
        name: Option<String>,
        /// Postal address, one line (the `formatted` member of the `address` claim).
        #[arg(long)]
        address: Option<String>,
        /// An authenticator app's TOTP secret (base32, at least 128 bits), for an account
        /// moved in with its second factor: sign-in then always asks for a code.
        #[arg(long, value_name = "BASE32")]
        totp_secret: Option<String>,
        /// Assurance level: simplified (default), standard or confirmed.
        #[arg(long)]
        level: Option<String>,
    },
    /// Unlock an account locked after too many failed sign-ins (after checking who asks).
    Unlock {
        /// The account's login.
        #[arg(long)]
        login: String,
    },
    /// Change an account's assurance level (recorded with the operator as evidence, and
    /// audited); below confirmed, every valid certificate of the account is revoked.
    SetLevel {
        /// The account's login.
        #[arg(long)]
        login: String,
        /// simplified, standard or confirmed.
        #[arg(long)]
        level: String,
    },
}

/// `vhod keys ...`.
#[derive(Subcommand, Debug)]
pub enum KeysCmd {
    /// List signing keys and their state.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Publish a new key; it starts signing after the pre-publication period.
    Rotate,
}

fn config(args: &Args) -> anyhow::Result<Config> {
    let mut c = Config::load(args.config.as_deref())?;
    if let Some(d) = &args.data_dir {
        c.data_dir = d.clone();
    }
    if let Some(u) = &args.database_url {
        c.database_url = Some(u.clone());
    }
    Ok(c)
}

fn init_tracing(filter: &str) {
    let f = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(f)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs a parsed command line.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let c = config(&args)?;
    init_tracing(&c.log);
    match args.command.unwrap_or(Command::Serve) {
        Command::Serve => crate::serve(c).await?,
        Command::Migrate => {
            crate::open_db(&c).await?;
            println!("migrations applied");
        }
        Command::Clients(cmd) => clients(&c, *cmd).await?,
        Command::Users(cmd) => users(&c, cmd).await?,
        Command::Keys(cmd) => keys_cmd(&c, cmd).await?,
        Command::Audit(cmd) => return audit_cmd(&c, cmd).await,
        Command::Signer(cmd) => return Ok(crate::signer_cli::run(&c, cmd).await),
    }
    Ok(ExitCode::SUCCESS)
}

async fn clients(c: &Config, cmd: ClientsCmd) -> anyhow::Result<()> {
    let db = crate::open_db(c).await?;
    let now = SystemClock.now();
    match cmd {
        ClientsCmd::Add(a) => {
            let method: AuthMethod = match (&a.auth_method, a.public) {
                (Some(m), _) => m
                    .parse()
                    .map_err(|e| anyhow::anyhow!("--auth-method: {e}"))?,
                (None, true) => AuthMethod::None,
                (None, false) => AuthMethod::ClientSecretBasic,
            };
            if a.public && method != AuthMethod::None {
                bail!("a --public client authenticates with none");
            }
            let mut grants = parse_grants(&a.grant_types)?;
            if grants.is_empty() {
                grants = vec![GrantType::AuthorizationCode, GrantType::RefreshToken];
            }
            check_shape(
                method,
                &grants,
                &a.redirect_uris,
                &a.post_logout_redirect_uris,
            )?;
            let (jwks, jwks_uri) = match (&a.jwks, &a.jwks_uri, method) {
                (Some(f), None, AuthMethod::PrivateKeyJwt) => (Some(read_jwks(f)?), None),
                (None, Some(u), AuthMethod::PrivateKeyJwt) => (None, Some(jwks_uri_arg(u)?)),
                (None, None, AuthMethod::PrivateKeyJwt) => {
                    bail!("private_key_jwt needs --jwks FILE or --jwks-uri URL")
                }
                (None, None, _) => (None, None),
                _ => bail!("--jwks and --jwks-uri are only for --auth-method private_key_jwt"),
            };
            if let Some(alg) = &a.id_token_alg {
                check_alg(c, "--id-token-alg", alg)?;
            }
            if let Some(alg) = &a.userinfo_alg {
                check_alg(c, "--userinfo-alg", alg)?;
            }
            if let Some(alg) = &a.introspection_alg {
                check_alg(c, "--introspection-alg", alg)?;
            }
            if let Some(alg) = &a.authorization_alg {
                check_alg(c, "--authorization-alg", alg)?;
            }
            if let Some(l) = &a.min_level {
                check_level(l)?;
            }
            let backchannel_logout_uri = a
                .backchannel_logout_uri
                .as_deref()
                .map(backchannel_uri_arg)
                .transpose()?;
            let sector_identifier = sector_arg(
                a.subject_type.as_deref(),
                a.sector.as_deref(),
                None,
                &a.redirect_uris,
            )?;
            let resources = resources_arg(&a.resources)?;
            let kek = crate::load_kek(c)?;
            let (secret, hash) = match method {
                AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost => {
                    let (s, h) = new_secret(&kek.derive_key(b"vhod/client-secret-hash/v1"));
                    (Some(s), Some(h))
                }
                _ => (None, None),
            };
            let id = format!("vhc_{}", idp::crypto::random_token(12));
            let new = NewClient {
                name: a.name.clone(),
                secret_hash: hash,
                auth_method: method,
                redirect_uris: a.redirect_uris.clone(),
                post_logout_redirect_uris: a.post_logout_redirect_uris.clone(),
                grant_types: grants,
                scope: idp::oauth::types::split_list(&a.scope),
                jwks,
                jwks_uri,
                id_token_signed_response_alg: a.id_token_alg.clone(),
                userinfo_signed_response_alg: a.userinfo_alg.clone(),
                introspection_signed_response_alg: a.introspection_alg.clone(),
                authorization_signed_response_alg: a.authorization_alg.clone(),
                require_mfa: a.require_mfa,
                min_level: a.min_level.clone(),
                require_pushed_authorization_requests: a.require_par,
                dpop_bound_access_tokens: a.require_dpop,
                require_signed_request_object: a.require_signed_request_object,
                backchannel_logout_uri,
                frontchannel_logout_uri: a.frontchannel_logout_uri.clone(),
                frontchannel_logout_session_required: a.frontchannel_logout_session_required,
                sector_identifier,
                resources,
            };
            check_together(&new)?;
            db.clients().insert(&id, &new, now).await?;
            audit_client(
                c,
                &db,
                "client.registered",
                &id,
                serde_json::json!({
                    "name": new.name,
                    "auth_method": method.as_str(),
                    "redirect_uris": new.redirect_uris,
                    "post_logout_redirect_uris": new.post_logout_redirect_uris,
                    "grant_types": new.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
                    "scope": new.scope,
                    "jwks_uri": new.jwks_uri,
                    "id_token_signed_response_alg": new.id_token_signed_response_alg,
                    "userinfo_signed_response_alg": new.userinfo_signed_response_alg,
                    "introspection_signed_response_alg": new.introspection_signed_response_alg,
                    "authorization_signed_response_alg": new.authorization_signed_response_alg,
                    "require_mfa": new.require_mfa,
                    "min_level": new.min_level,
                    "require_pushed_authorization_requests": new.require_pushed_authorization_requests,
                    "dpop_bound_access_tokens": new.dpop_bound_access_tokens,
                    "require_signed_request_object": new.require_signed_request_object,
                    "backchannel_logout_uri": new.backchannel_logout_uri,
                    "frontchannel_logout_uri": new.frontchannel_logout_uri,
                    "frontchannel_logout_session_required": new.frontchannel_logout_session_required,
                    "sector_identifier": new.sector_identifier,
                    "resources": new.resources,
                }),
            )
            .await?;
            if a.json {
                println!(
                    "{}",
                    serde_json::json!({ "client_id": id, "client_secret": secret, "token_endpoint_auth_method": method.as_str() })
                );
            } else {
                println!("client_id:     {id}");
                if let Some(s) = secret {
                    println!("client_secret: {s}");
                    println!("(the secret is shown only now; it is stored hashed)");
                }
            }
        }
        ClientsCmd::List { json } => {
            let list = db.clients().list().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                for cl in list {
                    println!(
                        "{}\t{}\t{}\t{}",
                        cl.id,
                        cl.auth_method,
                        cl.name,
                        cl.redirect_uris.join(" ")
                    );
                }
            }
        }
        ClientsCmd::Update(u) => update_client(c, &db, u).await?,
        ClientsCmd::Remove { id } => {
            let name = db.clients().get(&id).await?.map(|cl| cl.name);
            if !db.clients().remove(&id).await? {
                bail!("no client {id}");
            }
            audit_client(
                c,
                &db,
                "client.removed",
                &id,
                serde_json::json!({ "name": name }),
            )
            .await?;
            println!("removed {id}");
        }
    }
    Ok(())
}

/// Records an operator's change to a client registration in the audit trail.
async fn audit_client(
    c: &Config,
    db: &idp::store::Db,
    action: &str,
    id: &str,
    details: serde_json::Value,
) -> anyhow::Result<()> {
    let kek = crate::load_kek(c)?;
    keys::audit::Audit::new(db.pool.clone(), &kek, Arc::new(SystemClock))
        .append(keys::audit::NewEvent {
            actor: "cli",
            action,
            subject: Some(id),
            details,
        })
        .await?;
    Ok(())
}

/// `--resource` values: absolute URIs without fragments (RFC 8707 §2), once each.
fn resources_arg(given: &[String]) -> anyhow::Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for r in given {
        idp::oauth::resource::check_uri(r).map_err(|e| anyhow::anyhow!("--resource {r:?}: {e}"))?;
        if !out.contains(r) {
            out.push(r.clone());
        }
    }
    Ok(out)
}

/// `--grant-type` values.
fn parse_grants(given: &[String]) -> anyhow::Result<Vec<GrantType>> {
    given
        .iter()
        .map(|g| match g.as_str() {
            // RFC 8628's grant type is a URN; the short name is easier to type.
            "device_code" => Ok(GrantType::DeviceCode),
            _ => g
                .parse::<GrantType>()
                .map_err(|e| anyhow::anyhow!("--grant-type: {e}")),
        })
        .collect()
}

/// The `--jwks` file: a JWKS whose every key is usable.
fn read_jwks(f: &std::path::Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
    let set: keys::Jwks = serde_json::from_str(&text).context("--jwks is not a JWKS")?;
    if set.keys.is_empty() {
        bail!("--jwks holds no key");
    }
    for k in &set.keys {
        keys::PublicKey::from_jwk(k).map_err(|e| anyhow::anyhow!("--jwks: unusable key: {e}"))?;
    }
    Ok(text)
}

/// The `--jwks-uri` value, checked.
/// `--backchannel-logout-uri`: held to the rules of a key set's URL.
fn backchannel_uri_arg(u: &str) -> anyhow::Result<String> {
    idp::oauth::client_keys::check_jwks_uri(u)
        .map_err(|why| anyhow::anyhow!("--backchannel-logout-uri {u:?} {why}"))?;
    Ok(u.to_owned())
}

fn jwks_uri_arg(u: &str) -> anyhow::Result<String> {
    idp::oauth::client_keys::check_jwks_uri(u)
        .map_err(|why| anyhow::anyhow!("--jwks-uri {u:?} {why}"))?;
    Ok(u.to_owned())
}

/// What a registration must hold together, whether new or changed:
/// - a client that must sign its Request Objects needs keys to verify them with;
/// - a front-channel logout URI shares its origin with a redirect URI (which an update may
///   have changed) and asks for `iss` and `sid` only when there is one.
fn check_together(c: &NewClient) -> anyhow::Result<()> {
    if c.require_signed_request_object && c.jwks.is_none() && c.jwks_uri.is_none() {
        bail!(
            "--require-signed-request-object needs the client's keys (--auth-method private_key_jwt with --jwks or --jwks-uri)"
        );
    }
    match &c.frontchannel_logout_uri {
        Some(u) => idp::oauth::frontchannel::check_uri(u, &c.redirect_uris)
            .map_err(|why| anyhow::anyhow!("--frontchannel-logout-uri {u:?} {why}"))?,
        None if c.frontchannel_logout_session_required => {
            bail!("--frontchannel-logout-session-required needs a --frontchannel-logout-uri")
        }
        None => {}
    }
    Ok(())
}

fn check_shape(
    method: AuthMethod,
    grants: &[GrantType],
    redirect_uris: &[String],
    post_logout_redirect_uris: &[String],
) -> anyhow::Result<()> {
    if method == AuthMethod::None && grants.contains(&GrantType::ClientCredentials) {
        bail!("a public client cannot use client_credentials");
    }
    if grants.contains(&GrantType::AuthorizationCode) && redirect_uris.is_empty() {
        bail!("the authorization_code grant needs at least one --redirect-uri");
    }
    for u in redirect_uris.iter().chain(post_logout_redirect_uris) {
        let parsed = url::Url::parse(u).with_context(|| format!("{u:?} is not an absolute URI"))?;
        if parsed.fragment().is_some() {
            bail!("{u:?}: redirect URIs must not contain a fragment");
        }
    }
    Ok(())
}

/// `--id-token-alg` and `--userinfo-alg` (named `flag`) must be one the provider keeps a
/// key for.
fn check_alg(c: &Config, flag: &str, alg: &str) -> anyhow::Result<()> {
    let offered: Vec<&str> = crate::key_policy(c)
        .algs()
        .iter()
        .map(|a| a.as_str())
        .collect();
    if !offered.contains(&alg) {
        bail!(
            "{flag} {alg}: this provider signs with {} (keys.alg, keys.extra_algs)",
            offered.join(", ")
        );
    }
    Ok(())
}

/// The sector of a client's pairwise identifiers (OpenID Connect Core 1.0 §8.1), or `None`
/// for public ones, from `--subject-type` and `--sector`. `kept`: the sector a pairwise client
/// has now (an update without either option keeps it, and a client that stays pairwise keeps
/// its sector unless a new one is named, so its identifiers do not change under it).
fn sector_arg(
    subject_type: Option<&str>,
    sector: Option<&str>,
    kept: Option<&str>,
    redirect_uris: &[String],
) -> anyhow::Result<Option<String>> {
    let pairwise = match subject_type {
        None => kept.is_some(),
        Some("public") => false,
        Some("pairwise") => true,
        Some(t) => bail!("--subject-type {t:?}: public or pairwise"),
    };
    if !pairwise {
        if sector.is_some() {
            bail!("--sector is for --subject-type pairwise");
        }
        return Ok(None);
    }
    if let Some(host) = sector {
        return match url::Host::parse(host) {
            Ok(url::Host::Domain(d)) if !d.is_empty() && !d.contains(['/', ':', '@']) => {
                Ok(Some(d.to_ascii_lowercase()))
            }
            Ok(url::Host::Ipv4(ip)) => Ok(Some(ip.to_string())),
            _ => bail!("--sector {host:?}: a host name, such as rp.example"),
        };
    }
    if let Some(k) = kept {
        return Ok(Some(k.to_owned()));
    }
    let mut hosts: Vec<String> = redirect_uris
        .iter()
        .filter_map(|u| {
            url::Url::parse(u)
                .ok()?
                .host_str()
                .map(str::to_ascii_lowercase)
        })
        .collect();
    hosts.sort();
    hosts.dedup();
    match hosts.as_slice() {
        [one] => Ok(Some(one.clone())),
        [] => bail!("--subject-type pairwise: the client has no redirect URI host; name its sector with --sector HOST"),
        several => bail!(
            "--subject-type pairwise: the redirect URIs are on several hosts ({}); name the sector that groups them with --sector HOST",
            several.join(", ")
        ),
    }
}

/// `--min-level` must name a level.
fn check_level(level: &str) -> anyhow::Result<()> {
    if !idp::oauth::discovery::ACR_VALUES.contains(&level) {
        bail!(
            "--min-level must be one of {}",
            idp::oauth::discovery::ACR_VALUES.join(", ")
        );
    }
    Ok(())
}

/// `vhod clients update`: the stored registration with what was given changed, checked as a
/// new one would be, written in one statement.
async fn update_client(c: &Config, db: &idp::store::Db, u: UpdateClient) -> anyhow::Result<()> {
    let Some(old) = db.clients().get(&u.id).await? else {
        bail!("no client {}", u.id);
    };
    let grants = if u.grant_types.is_empty() {
        old.grant_types.clone()
    } else {
        parse_grants(&u.grant_types)?
    };
    let redirect_uris = if u.redirect_uris.is_empty() {
        old.redirect_uris.clone()
    } else {
        u.redirect_uris.clone()
    };
    let post_logout_redirect_uris = if u.no_post_logout_redirect_uris {
        Vec::new()
    } else if u.post_logout_redirect_uris.is_empty() {
        old.post_logout_redirect_uris.clone()
    } else {
        u.post_logout_redirect_uris.clone()
    };
    let resources = if u.no_resources {
        Vec::new()
    } else if u.resources.is_empty() {
        old.resources.clone()
    } else {
        resources_arg(&u.resources)?
    };
    let method: AuthMethod = match &u.auth_method {
        Some(m) => m
            .parse()
            .map_err(|e| anyhow::anyhow!("--auth-method: {e}"))?,
        None => old.auth_method,
    };
    check_shape(method, &grants, &redirect_uris, &post_logout_redirect_uris)?;
    // An algorithm option: absent keeps the old one, its reset word clears it.
    let alg = |given: Option<&str>, reset: &str, flag: &str, old: &Option<String>| match given {
        None => Ok(old.clone()),
        Some(a) if a == reset => Ok(None),
        Some(a) => check_alg(c, flag, a).map(|()| Some(a.to_owned())),
    };
    let [id_token_alg, userinfo_alg, introspection_alg, authorization_alg] = [
        (
            &u.id_token_alg,
            "default",
            "--id-token-alg",
            &old.id_token_signed_response_alg,
        ),
        (
            &u.userinfo_alg,
            "none",
            "--userinfo-alg",
            &old.userinfo_signed_response_alg,
        ),
        (
            &u.introspection_alg,
            "default",
            "--introspection-alg",
            &old.introspection_signed_response_alg,
        ),
        (
            &u.authorization_alg,
            "default",
            "--authorization-alg",
            &old.authorization_signed_response_alg,
        ),
    ]
    .map(|(given, reset, flag, old)| alg(given.as_deref(), reset, flag, old));
    let (id_token_alg, userinfo_alg, introspection_alg, authorization_alg) = (
        id_token_alg?,
        userinfo_alg?,
        introspection_alg?,
        authorization_alg?,
    );
    let min_level = match u.min_level.as_deref() {
        None => old.min_level.clone(),
        Some("any") => None,
        Some(l) => {
            check_level(l)?;
            Some(l.to_owned())
        }
    };
    let backchannel_logout_uri = match (&u.backchannel_logout_uri, u.no_backchannel_logout_uri) {
        (Some(uri), _) => Some(backchannel_uri_arg(uri)?),
        (None, true) => None,
        (None, false) => old.backchannel_logout_uri.clone(),
    };
    let frontchannel_logout_uri = match (&u.frontchannel_logout_uri, u.no_frontchannel_logout_uri) {
        (Some(uri), _) => Some(uri.clone()),
        (None, true) => None,
        (None, false) => old.frontchannel_logout_uri.clone(),
    };
    let sector_identifier = sector_arg(
        u.subject_type.as_deref(),
        u.sector.as_deref(),
        old.sector_identifier.as_deref(),
        &redirect_uris,
    )?;
    let secret_method = |m: AuthMethod| {
        matches!(
            m,
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
        )
    };
    if u.rotate_secret && !secret_method(method) {
        bail!(
            "--rotate-secret: client {} authenticates with {method}, not a secret",
            u.id
        );
    }
    // A new secret when asked for, or when the client comes to a secret method from one
    // without a secret; the store drops the secret of a client leaving the secret methods.
    let secret = if u.rotate_secret || (secret_method(method) && !secret_method(old.auth_method)) {
        let kek = crate::load_kek(c)?;
        Some(new_secret(&kek.derive_key(b"vhod/client-secret-hash/v1")))
    } else {
        None
    };
    // New keys, inline or by URL, replace both the old set and the old URL; a client that
    // leaves private_key_jwt keeps no keys, and one that comes to it needs some.
    let (jwks, jwks_uri) = match (&u.jwks, &u.jwks_uri, method) {
        (None, None, AuthMethod::PrivateKeyJwt) => {
            if old.jwks.is_none() && old.jwks_uri.is_none() {
                bail!("private_key_jwt needs --jwks FILE or --jwks-uri URL");
            }
            (old.jwks.clone(), old.jwks_uri.clone())
        }
        (None, None, _) => (None, None),
        (f, _, m) if m != AuthMethod::PrivateKeyJwt => bail!(
            "{}: client {} authenticates with {m}, not private_key_jwt",
            if f.is_some() { "--jwks" } else { "--jwks-uri" },
            u.id
        ),
        (Some(f), _, _) => (Some(read_jwks(f)?), None),
        (None, Some(uri), _) => (None, Some(jwks_uri_arg(uri)?)),
    };
    let changed = NewClient {
        name: u.name.clone().unwrap_or_else(|| old.name.clone()),
        secret_hash: None,
        auth_method: method,
        redirect_uris,
        post_logout_redirect_uris,
        grant_types: grants,
        scope: match &u.scope {
            Some(s) => idp::oauth::types::split_list(s),
            None => old.scope.clone(),
        },
        jwks,
        jwks_uri,
        id_token_signed_response_alg: id_token_alg,
        userinfo_signed_response_alg: userinfo_alg,
        introspection_signed_response_alg: introspection_alg,
        authorization_signed_response_alg: authorization_alg,
        require_mfa: u.require_mfa.unwrap_or(old.require_mfa),
        min_level,
        require_pushed_authorization_requests: u
            .require_par
            .unwrap_or(old.require_pushed_authorization_requests),
        dpop_bound_access_tokens: u.require_dpop.unwrap_or(old.dpop_bound_access_tokens),
        require_signed_request_object: u
            .require_signed_request_object
            .unwrap_or(old.require_signed_request_object),
        backchannel_logout_uri,
        frontchannel_logout_session_required: match u.frontchannel_logout_session_required {
            Some(b) => b,
            // Without a page to give them to, `iss` and `sid` are not asked for.
            None => frontchannel_logout_uri.is_some() && old.frontchannel_logout_session_required,
        },
        frontchannel_logout_uri,
        sector_identifier,
        resources,
    };
    check_together(&changed)?;
    let hash = secret.as_ref().map(|(_, h)| h.as_str());
    if !db.clients().update(&u.id, &changed, hash).await? {
        bail!("no client {}", u.id);
    }
    // What changed, by name; never a secret or a key.
    let grants = |g: &[GrantType]| g.iter().map(|g| g.as_str()).collect::<Vec<_>>();
    let fields = [
        ("auth_method", old.auth_method != changed.auth_method),
        ("name", old.name != changed.name),
        ("redirect_uris", old.redirect_uris != changed.redirect_uris),
        (
            "post_logout_redirect_uris",
            old.post_logout_redirect_uris != changed.post_logout_redirect_uris,
        ),
        (
            "grant_types",
            grants(&old.grant_types) != grants(&changed.grant_types),
        ),
        ("scope", old.scope != changed.scope),
        (
            "id_token_signed_response_alg",
            old.id_token_signed_response_alg != changed.id_token_signed_response_alg,
        ),
        (
            "userinfo_signed_response_alg",
            old.userinfo_signed_response_alg != changed.userinfo_signed_response_alg,
        ),
        (
            "introspection_signed_response_alg",
            old.introspection_signed_response_alg != changed.introspection_signed_response_alg,
        ),
        (
            "authorization_signed_response_alg",
            old.authorization_signed_response_alg != changed.authorization_signed_response_alg,
        ),
        ("require_mfa", old.require_mfa != changed.require_mfa),
        ("min_level", old.min_level != changed.min_level),
        (
            "require_pushed_authorization_requests",
            old.require_pushed_authorization_requests
                != changed.require_pushed_authorization_requests,
        ),
        (
            "dpop_bound_access_tokens",
            old.dpop_bound_access_tokens != changed.dpop_bound_access_tokens,
        ),
        (
            "require_signed_request_object",
            old.require_signed_request_object != changed.require_signed_request_object,
        ),
        ("jwks", old.jwks != changed.jwks),
        ("jwks_uri", old.jwks_uri != changed.jwks_uri),
        (
            "backchannel_logout_uri",
            old.backchannel_logout_uri != changed.backchannel_logout_uri,
        ),
        (
            "frontchannel_logout_uri",
            old.frontchannel_logout_uri != changed.frontchannel_logout_uri,
        ),
        (
            "frontchannel_logout_session_required",
            old.frontchannel_logout_session_required
                != changed.frontchannel_logout_session_required,
        ),
        (
            "sector_identifier",
            old.sector_identifier != changed.sector_identifier,
        ),
        ("resources", old.resources != changed.resources),
        ("secret", secret.is_some()),
    ];
    let names: Vec<&str> = fields.iter().filter(|(_, c)| *c).map(|(n, _)| *n).collect();
    audit_client(
        c,
        db,
        "client.updated",
        &u.id,
        serde_json::json!({ "changed": names, "name": changed.name }),
    )
    .await?;
    let plain = secret.map(|(s, _)| s);
    if u.json {
        println!(
            "{}",
            serde_json::json!({ "client_id": u.id, "client_secret": plain })
        );
    } else {
        println!("updated {}", u.id);
        if let Some(s) = plain {
            println!("client_secret: {s}");
            println!("(the secret is shown only now; it is stored hashed)");
        }
    }
    Ok(())
}

async fn users(c: &Config, cmd: UsersCmd) -> anyhow::Result<()> {
    if let UsersCmd::SetLevel { login, level } = &cmd {
        return set_level(c, login, level).await;
    }
    if let UsersCmd::Unlock { login } = &cmd {
        let db = crate::open_db(c).await?;
        let Some(a) = db.accounts().by_login(login.trim()).await? else {
            bail!("no account with the login {login:?}");
        };
        db.accounts().clear_failures(&a.id).await?;
        println!("{} unlocked", a.id);
        return Ok(());
    }
    let UsersCmd::Add {
        login,
        password_stdin,
        email,
        phone,
        name,
        address,
        totp_secret,
        level,
    } = cmd
    else {
        return Ok(());
    };
    if let Some(l) = &level {
        if !idp::oauth::discovery::ACR_VALUES.contains(&l.as_str()) {
            bail!(
                "--level must be one of {}",
                idp::oauth::discovery::ACR_VALUES.join(", ")
            );
        }
    }
    let totp = match &totp_secret {
        Some(s) => {
            Some(idp::totp::parse_secret(s).map_err(|e| anyhow::anyhow!("--totp-secret: {e}"))?)
        }
        None => None,
    };
    if !password_stdin {
        bail!("pass the password on standard input with --password-stdin");
    }
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("reading the password")?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    if password.chars().count() < 8 {
        bail!("the password must have at least 8 characters");
    }
    let login = login.trim().to_owned();
    if login.is_empty() || login.len() > 256 {
        bail!("--login must be 1 to 256 characters");
    }
    let db = crate::open_db(c).await?;
    let hash = idp::password::hash_async(password)
        .await
        .map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
    let (given, family) = match name.as_deref().map(|n| n.split_once(' ')) {
        Some(Some((g, f))) => (Some(g.to_owned()), Some(f.to_owned())),
        _ => (name.clone(), None),
    };
    let acc = NewAccount {
        login,
        password_hash: hash,
        email,
        phone,
        name,
        given_name: given,
        family_name: family,
        address: address.map(|a| serde_json::json!({ "formatted": a }).to_string()),
        level,
        // Moved in by an operator: the addresses were not confirmed here.
        email_verified: false,
        phone_verified: false,
        totp_secret: match totp {
            Some(secret) => Some(idp::totp::seal(
                &crate::factor_key(&crate::load_kek(c)?),
                &secret,
            )),
            None => None,
        },
    };
    let id = match db.accounts().insert(&acc, SystemClock.now()).await {
        Ok(id) => id,
        Err(idp::store::StoreError::Conflict(_)) => bail!("the login {:?} is taken", acc.login),
        Err(e) => return Err(e.into()),
    };
    println!("{id}");
    Ok(())
}

/// `vhod users set-level`: the level changes with its evidence, the change is audited, a
/// level below confirmed revokes the account's certificates (`privilegeWithdrawn`), and the
/// citizen is told of both.
async fn set_level(c: &Config, login: &str, level: &str) -> anyhow::Result<()> {
    use idp::account::certificates::follow::{revoke_all, Cause};
    if !idp::oauth::discovery::ACR_VALUES.contains(&level) {
        bail!(
            "--level must be one of {}",
            idp::oauth::discovery::ACR_VALUES.join(", ")
        );
    }
    let db = crate::open_db(c).await?;
    let Some(a) = db.accounts().by_login(login.trim()).await? else {
        bail!("no account with the login {login:?}");
    };
    let kek = crate::load_kek(c)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let audit = keys::audit::Audit::new(db.pool.clone(), &kek, clock.clone());
    let now = clock.now();
    if a.level != level {
        let evidence = serde_json::json!({ "method": "operator", "by": "cli", "from": a.level });
        db.identities()
            .record_level(&a.id, level, &evidence, now)
            .await?;
        audit
            .append(keys::audit::NewEvent {
                actor: "cli",
                action: "account.level_changed",
                subject: Some(&a.id),
                details: serde_json::json!({ "from": a.level, "to": level }),
            })
            .await?;
    }
    let mut revoked = Vec::new();
    if level != "confirmed" {
        let ca = crate::open_ca(c, &db, &kek, clock).await?;
        revoked = revoke_all(&ca, &audit, &a.id, Cause::LevelLowered, "cli", now).await?;
    }
    // The citizen is told, as after a change in the account pages (security notices, sent
    // whatever the settings say about optional ones).
    let mut notices = Vec::new();
    if a.level != level {
        notices.push("level_changed");
    }
    if !revoked.is_empty() {
        notices.push("certificate_revoked");
    }
    if !notices.is_empty() {
        let notifier = crate::open_notifier(c)?;
        let settings = db
            .notification_settings()
            .get(&a.id)
            .await
            .unwrap_or_default();
        let lang = idp::i18n::Lang::of_locale(a.locale.as_deref());
        for kind in notices {
            idp::notify::tell_with(&notifier, &db, &a, kind, lang, &settings, now).await;
        }
    }
    println!(
        "{} level {level}; {} certificate(s) revoked",
        a.id,
        revoked.len()
    );
    Ok(())
}

async fn keys_cmd(c: &Config, cmd: KeysCmd) -> anyhow::Result<()> {
    let db = crate::open_db(c).await?;
    let (ring, _) = crate::open_keys(c, &db, Arc::new(SystemClock)).await?;
    match cmd {
        KeysCmd::List { json } => {
            let list = ring.list().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                for k in list {
                    println!(
                        "{}\t{:?}\t{:?}\tactivates_at={}",
                        k.kid, k.alg, k.status, k.activates_at
                    );
                }
            }
        }
        KeysCmd::Rotate => {
            for k in ring.rotate().await? {
                println!(
                    "new {} key {} published; it signs from unix time {}",
                    k.alg.as_str(),
                    k.kid,
                    k.activates_at
                );
            }
        }
    }
    Ok(())
}

async fn audit_cmd(c: &Config, cmd: AuditCmd) -> anyhow::Result<ExitCode> {
    let db = crate::open_db(c).await?;
    let kek = crate::load_kek(c)?;
    let audit = keys::audit::Audit::new(db.pool.clone(), &kek, Arc::new(SystemClock));
    match cmd {
        AuditCmd::Verify { json } => {
            let v = audit.verify().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else if let Some(b) = &v.broken {
                println!(
                    "BROKEN at event {}: {}; {} events before it verify, head {}",
                    b.seq, b.reason, v.events, v.head
                );
            } else {
                println!("ok: {} events, head {}", v.events, v.head);
            }
            Ok(if v.broken.is_some() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        AuditCmd::List {
            subject,
            limit,
            json,
        } => {
            let list = audit.list(subject.as_deref(), None, limit).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                for e in list {
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        e.seq,
                        e.at,
                        e.actor,
                        e.action,
                        e.subject.unwrap_or_default(),
                        e.details
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

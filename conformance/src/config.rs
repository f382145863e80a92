//! The runner's configuration (TOML, or JSON when the file ends in `.json`): the clients
//! registered at the OP (OIDC Core §9 client authentication methods), the test user, and
//! the rules for driving the OP's login and consent pages.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Token endpoint client authentication (OIDC Core §9).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    #[default]
    ClientSecretBasic,
    ClientSecretPost,
}

/// A client registered at the OP.
#[derive(Debug, Clone, Deserialize)]
pub struct Client {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    #[serde(default)]
    pub auth_method: AuthMethod,
    /// A `post_logout_redirect_uri` registered for this client (RP-Initiated Logout §3.1),
    /// for `oidcc-rp-initiated-logout-certification-test-plan`.
    #[serde(default)]
    pub post_logout_redirect_uri: Option<String>,
    /// The `backchannel_logout_uri` registered for this client (Back-Channel Logout §2.2):
    /// the runner listens on its host and port for the OP's Logout Tokens, for
    /// `oidcc-backchannel-rp-initiated-logout-certification-test-plan`.
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
    /// The `frontchannel_logout_uri` registered for this client, with
    /// `frontchannel_logout_session_required` (Front-Channel Logout §2): the runner listens
    /// on its host and port for the request the OP's logout page makes, for
    /// `oidcc-frontchannel-rp-initiated-logout-certification-test-plan`.
    #[serde(default)]
    pub frontchannel_logout_uri: Option<String>,
    /// `response_mode` sent with every authorization request (the form-post plan sets
    /// `form_post`).
    #[serde(default)]
    pub response_mode: Option<String>,
}

/// The end-user the browser logs in as.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub login: String,
    pub password: String,
}

/// How to fill the OP's pages.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Browser {
    /// Name of the login input of the login form.
    pub login_field: String,
    /// Name of the password input; a form with it is the login form.
    pub password_field: String,
    /// Submit-button values (case-insensitive) that approve consent, most preferred first.
    pub approve_values: Vec<String>,
    /// Submit-button values that confirm a logout (RP-Initiated Logout §2: the OP may ask).
    pub logout_values: Vec<String>,
}

impl Default for Browser {
    fn default() -> Self {
        Self {
            login_field: "login".into(),
            password_field: "password".into(),
            approve_values: vec!["allow".into(), "accept".into(), "yes".into()],
            logout_values: vec!["yes".into(), "logout".into()],
        }
    }
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// The main client.
    pub client: Client,
    /// A second client, for modules that need two.
    pub client2: Option<Client>,
    /// A client using `client_secret_post` (for `oidcc-server-client-secret-post`), when
    /// neither `client` nor `client2` does.
    pub post_client: Option<Client>,
    /// The client of the back-channel logout plan, registered with a
    /// `backchannel_logout_uri` and a `post_logout_redirect_uri`. A client of its own, so
    /// that logouts in other plans (which the OP also reports to a client with such a URI)
    /// never reach the runner's listener.
    #[serde(default)]
    pub backchannel_client: Option<Client>,
    /// The client of the front-channel logout plan, registered with a
    /// `frontchannel_logout_uri` (and `frontchannel_logout_session_required`) and a
    /// `post_logout_redirect_uri`; a client of its own for the same reason.
    #[serde(default)]
    pub frontchannel_client: Option<Client>,
    pub user: User,
    #[serde(default)]
    pub browser: Browser,
    /// A PEM file of CA certificates to trust besides the system's (an OP under test with
    /// its own CA). Relative paths are relative to the configuration file.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The PEM read from `ca_file`.
    #[serde(skip)]
    pub ca_pem: Option<Vec<u8>>,
}

impl Config {
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut cfg: Config = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text)?
        } else {
            toml::from_str(&text)?
        };
        if cfg.client.client_id.is_empty() {
            bail!("client.client_id is empty");
        }
        if let Some(f) = &cfg.ca_file {
            let f = path.parent().map_or(f.clone(), |d| d.join(f));
            let pem = std::fs::read(&f).with_context(|| format!("reading {}", f.display()))?;
            cfg.ca_pem = Some(pem);
        }
        Ok(cfg)
    }

    /// The first configured client authenticating with `client_secret_post`.
    pub fn post_client(&self) -> Option<&Client> {
        [
            self.post_client.as_ref(),
            self.client2.as_ref(),
            Some(&self.client),
        ]
        .into_iter()
        .flatten()
        .find(|c| c.auth_method == AuthMethod::ClientSecretPost)
    }
}

//! The browser driver: follows an authorization request (OIDC Core §3.1.2.1) through the
//! OP's pages like a person would — cookies kept, login form filled, consent approved,
//! hidden inputs (CSRF) submitted — and stops at the redirect URI (§3.1.2.5/§3.1.2.6)
//! without fetching it, including `response_mode=form_post` (OAuth 2.0 Form Post Response
//! Mode §2).

use crate::config;
use crate::html::{self, Form};
use crate::http::{Http, Resp};
use anyhow::{bail, Result};
use std::collections::BTreeMap;
use url::Url;

/// Where the flow ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The OP sent the browser to a stop URL; `params` merges query, fragment and form post.
    Redirect {
        url: String,
        params: BTreeMap<String, String>,
        form_post: bool,
    },
    /// The OP showed a page the driver cannot or should not get past (an error page).
    Page {
        status: u16,
        url: String,
        html: String,
    },
}

/// The end of a flow and what the browser saw on the way.
#[derive(Debug, Clone)]
pub struct Flow {
    pub outcome: Outcome,
    /// The login form was shown (and filled).
    pub login_shown: bool,
    /// A consent (non-login) form, or a logout confirmation, was submitted.
    pub consent_shown: bool,
}

/// A browser profile: its own cookie jar.
pub struct Browser {
    pub http: Http,
    user: config::User,
    rules: config::Browser,
}

/// True when `u` is `target` up to query and fragment.
pub fn same_endpoint(u: &Url, target: &Url) -> bool {
    u.scheme() == target.scheme()
        && u.host_str() == target.host_str()
        && u.port_or_known_default() == target.port_or_known_default()
        && u.path() == target.path()
}

fn params_of(u: &Url) -> BTreeMap<String, String> {
    let mut p: BTreeMap<String, String> = u.query_pairs().into_owned().collect();
    if let Some(f) = u.fragment() {
        p.extend(url::form_urlencoded::parse(f.as_bytes()).into_owned());
    }
    p
}

impl Browser {
    pub fn new(http: Http, user: config::User, rules: config::Browser) -> Self {
        Self { http, user, rules }
    }

    /// Sends the authorization request (GET, or POST when `post`) and drives the pages
    /// until a URL in `stop` is reached or a page cannot be got past.
    pub async fn authorize(&self, start: &Url, post: bool, stop: &[Url]) -> Result<Flow> {
        let resp = if post {
            let mut base = start.clone();
            base.set_query(None);
            let form: Vec<(String, String)> = start.query_pairs().into_owned().collect();
            self.http.post_form(&base, &[], &form).await?
        } else {
            self.http.get(start, &[]).await?
        };
        self.drive(resp, stop, None).await
    }

    /// Opens `start` (an end-session request, RP-Initiated Logout §2) and follows it until a
    /// URL in `stop` or a page. With `confirm`, a logout confirmation form (a submit button
    /// whose value is one of the configured `logout_values`) is submitted, as a person who
    /// wants to log out would; without it the confirmation page is where the flow ends.
    pub async fn logout(&self, start: &Url, stop: &[Url], confirm: bool) -> Result<Flow> {
        let resp = self.http.get(start, &[]).await?;
        self.drive(resp, stop, Some(confirm)).await
    }

    /// Follows redirects and forms from `resp`. `logout`: None for an authorization
    /// request (login and consent forms are filled), Some(confirm) for an end-session one.
    async fn drive(&self, mut resp: Resp, stop: &[Url], logout: Option<bool>) -> Result<Flow> {
        let (mut login_shown, mut consent_shown, mut logins, mut consents) = (false, false, 0, 0);
        for _ in 0..30 {
            if (300..400).contains(&resp.status) {
                let Some(loc) = resp.header("location") else {
                    bail!("HTTP {} from {} without Location", resp.status, resp.url);
                };
                let next = resp.url.join(loc)?;
                if stop.iter().any(|s| same_endpoint(&next, s)) {
                    return Ok(arrived(&next, login_shown, consent_shown));
                }
                resp = self.http.get(&next, &[]).await?;
                continue;
            }
            let page = Outcome::Page {
                status: resp.status,
                url: resp.url.to_string(),
                html: resp.body.clone(),
            };
            let forms = html::forms(&resp.body);
            // form_post: a form targeting a stop URL carries the response.
            for f in &forms {
                let Some(action) = f.action.as_deref().and_then(|a| resp.url.join(a).ok()) else {
                    continue;
                };
                if stop.iter().any(|s| same_endpoint(&action, s)) {
                    let params = f
                        .fields
                        .iter()
                        .filter_map(|i| Some((i.name.clone()?, i.value.clone())))
                        .collect();
                    return Ok(Flow {
                        outcome: Outcome::Redirect {
                            url: action.to_string(),
                            params,
                            form_post: true,
                        },
                        login_shown,
                        consent_shown,
                    });
                }
            }
            // Only a form_post page is acted on whatever its status (a browser runs its
            // auto-submit on an error status too); other non-200 pages end the flow.
            if resp.status != 200 {
                return Ok(Flow {
                    outcome: page,
                    login_shown,
                    consent_shown,
                });
            }
            if logout.is_some() {
                if let Some(next) = self.front_channel(&resp).await? {
                    if stop.iter().any(|s| same_endpoint(&next, s)) {
                        return Ok(arrived(&next, login_shown, consent_shown));
                    }
                    resp = self.http.get(&next, &[]).await?;
                    continue;
                }
            }
            if let Some(confirm) = logout {
                let button = forms.iter().find_map(|f| {
                    let i = f.fields.iter().position(|i| {
                        i.is_submit()
                            && self
                                .rules
                                .logout_values
                                .iter()
                                .any(|v| i.value.eq_ignore_ascii_case(v))
                    })?;
                    Some((f, i))
                });
                consents += 1;
                match button {
                    Some((f, i)) if confirm && consents <= 2 => {
                        consent_shown = true;
                        resp = self.submit(&resp, f, &fill(f, Some(i))).await?;
                        continue;
                    }
                    _ => {
                        return Ok(Flow {
                            outcome: page,
                            login_shown,
                            consent_shown,
                        })
                    }
                }
            }
            let pw = &self.rules.password_field;
            let login = forms
                .iter()
                .find(|f| f.fields.iter().any(|i| i.name.as_deref() == Some(pw)));
            let (form, fields) = if let Some(f) = login {
                logins += 1;
                if logins > 2 {
                    return Ok(Flow {
                        outcome: page,
                        login_shown,
                        consent_shown,
                    });
                }
                login_shown = true;
                let mut fields = fill(f, f.fields.iter().position(|i| i.is_submit()));
                set(&mut fields, &self.rules.login_field, &self.user.login);
                set(&mut fields, pw, &self.user.password);
                (f, fields)
            } else if let Some((f, button)) = self.pick_consent(&forms) {
                consents += 1;
                if consents > 2 {
                    return Ok(Flow {
                        outcome: page,
                        login_shown,
                        consent_shown,
                    });
                }
                consent_shown = true;
                (f, fill(f, button))
            } else {
                return Ok(Flow {
                    outcome: page,
                    login_shown,
                    consent_shown,
                });
            };
            resp = self.submit(&resp, form, &fields).await?;
        }
        bail!("more than 30 steps without reaching the redirect URI")
    }

    /// What a browser that runs no scripts does with a logout page that loads other pages
    /// in iframes (Front-Channel Logout 1.0 §3): it loads each of them, and goes where the
    /// page's `Refresh` header or meta refresh sends it, if anywhere (`None`: the page stays).
    /// An iframe that does not load is the client's affair, not the logout's: its failure is
    /// logged with the exchanges and otherwise ignored.
    async fn front_channel(&self, page: &Resp) -> Result<Option<Url>> {
        for src in html::iframe_sources(&page.body) {
            if let Ok(u) = page.url.join(&src) {
                let _ = self.http.get(&u, &[]).await;
            }
        }
        let next = page
            .header("refresh")
            .and_then(html::refresh_url)
            .or_else(|| html::meta_refresh(&page.body));
        Ok(match next {
            Some(n) => Some(page.url.join(&n)?),
            None => None,
        })
    }

    /// The consent form and button: one whose value approves, else the first form.
    pub fn pick_consent<'a>(&self, forms: &'a [Form]) -> Option<(&'a Form, Option<usize>)> {
        for want in &self.rules.approve_values {
            for f in forms {
                if let Some(i) = f
                    .fields
                    .iter()
                    .position(|i| i.is_submit() && i.value.eq_ignore_ascii_case(want))
                {
                    return Some((f, Some(i)));
                }
            }
        }
        let f = forms.first()?;
        Some((f, f.fields.iter().position(|i| i.is_submit())))
    }

    async fn submit(&self, page: &Resp, form: &Form, fields: &[(String, String)]) -> Result<Resp> {
        let action = page.url.join(form.action.as_deref().unwrap_or(""))?;
        if form.method == "post" {
            self.http.post_form(&action, &[], fields).await
        } else {
            let mut u = action;
            u.query_pairs_mut().clear().extend_pairs(fields);
            self.http.get(&u, &[]).await
        }
    }
}

/// The flow's end when the browser is sent to `stop` URL `next`: the response in its query.
fn arrived(next: &Url, login_shown: bool, consent_shown: bool) -> Flow {
    Flow {
        outcome: Outcome::Redirect {
            url: next.to_string(),
            params: params_of(next),
            form_post: false,
        },
        login_shown,
        consent_shown,
    }
}

/// The successful controls of a form (HTML §4.10.21.4): every named non-button control
/// (checkboxes and radios only when checked), plus the chosen submit button.
pub fn fill(form: &Form, button: Option<usize>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (idx, i) in form.fields.iter().enumerate() {
        let Some(name) = &i.name else { continue };
        let include = if i.is_submit() || i.kind == "reset" || i.kind == "button" {
            Some(idx) == button
        } else if i.kind == "checkbox" || i.kind == "radio" {
            i.checked
        } else {
            true
        };
        if include {
            out.push((name.clone(), i.value.clone()));
        }
    }
    out
}

fn set(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    match fields.iter_mut().find(|(k, _)| k == name) {
        Some(f) => f.1 = value.to_owned(),
        None => fields.push((name.to_owned(), value.to_owned())),
    }
}

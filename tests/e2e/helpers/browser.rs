//! The `Browser` role: a cookie jar that follows redirects by hand (so a test can stop at
//! the client's redirect URI) and fills our forms, CSRF tokens included.

/// A browser: cookies kept, redirects followed by hand so tests can stop at the client.
pub struct Browser {
    /// The underlying client.
    pub http: reqwest::Client,
}

/// Where a browser journey ended.
#[derive(Debug)]
pub enum Landed {
    /// Redirected to a URL outside the server (the client's redirect URI).
    Redirect(url::Url),
    /// A page of ours with its status and HTML.
    Page(u16, String, String),
}

impl Landed {
    /// The redirect URL, or panic with the page.
    pub fn redirect(self) -> url::Url {
        match self {
            Landed::Redirect(u) => u,
            Landed::Page(s, url, html) => {
                panic!("expected a redirect, got {s} page at {url}: {html}")
            }
        }
    }
    /// The page, or panic.
    pub fn page(self) -> (u16, String, String) {
        match self {
            Landed::Page(s, u, h) => (s, u, h),
            Landed::Redirect(u) => panic!("expected a page, got a redirect to {u}"),
        }
    }
    /// A query parameter of the redirect.
    pub fn param(u: &url::Url, k: &str) -> Option<String> {
        u.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
    }
}

/// The value of a hidden input in one of our pages.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let pat = format!("name=\"{name}\" value=\"");
    let start = html.find(&pat)? + pat.len();
    let end = html[start..].find('"')?;
    Some(unescape(&html[start..start + end]))
}

/// Every hidden input (name, value) of a page, unescaped.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<input type=\"hidden\" name=\"") {
        rest = &rest[i + 27..];
        let Some(end) = rest.find('"') else { break };
        let name = rest[..end].to_owned();
        if let Some(v) = hidden(&format!("name=\"{name}\"{}", &rest[end + 1..]), &name) {
            out.push((name, v));
        }
    }
    out
}

/// Undoes the HTML escaping of an attribute value.
pub fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The action of the first form.
pub fn form_action(html: &str) -> Option<String> {
    let start = html.find("action=\"")? + 8;
    let end = html[start..].find('"')?;
    Some(unescape(&html[start..start + end]))
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    /// A new browser with an empty cookie jar.
    pub fn new() -> Browser {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Browser { http }
    }

    /// Follows redirects from a response until a page of ours or a foreign redirect.
    pub async fn land(&self, base: &str, mut resp: reqwest::Response) -> Landed {
        for _ in 0..10 {
            let url = resp.url().clone();
            if resp.status().is_redirection() {
                let loc = resp
                    .headers()
                    .get("location")
                    .and_then(|l| l.to_str().ok())
                    .expect("location")
                    .to_owned();
                let next = url.join(&loc).expect("location url");
                if !next.as_str().starts_with(base) {
                    return Landed::Redirect(next);
                }
                resp = self.http.get(next).send().await.expect("follow");
                continue;
            }
            let status = resp.status().as_u16();
            return Landed::Page(
                status,
                url.to_string(),
                resp.text().await.unwrap_or_default(),
            );
        }
        panic!("redirect loop");
    }

    /// GET a URL and land.
    pub async fn get(&self, base: &str, url: &str) -> Landed {
        let r = self.http.get(url).send().await.expect("get");
        self.land(base, r).await
    }

    /// Submits the page's form with `fields` plus its CSRF token.
    pub async fn submit(&self, base: &str, html: &str, fields: &[(&str, &str)]) -> Landed {
        let action = form_action(html).expect("form action");
        let mut form: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        form.extend(hidden_inputs(html));
        let r = self
            .http
            .post(format!("{base}{action}"))
            .form(&form)
            .send()
            .await
            .expect("post");
        self.land(base, r).await
    }

    /// Submits the form whose action ends with `suffix` (a page may hold several), with
    /// `fields` plus that form's hidden inputs.
    pub async fn submit_form(
        &self,
        base: &str,
        html: &str,
        suffix: &str,
        fields: &[(&str, &str)],
    ) -> Landed {
        let start = html
            .match_indices("<form")
            .map(|(i, _)| i)
            .find(|i| form_action(&html[*i..]).is_some_and(|a| a.ends_with(suffix)))
            .expect("form with that action");
        let end = html[start..]
            .find("</form>")
            .map_or(html.len(), |e| start + e + 7);
        self.submit(base, &html[start..end], fields).await
    }

    /// Submits `fields` on `html`, then allows on the consent page if one follows.
    pub async fn submit_and_allow(
        &self,
        base: &str,
        html: &str,
        fields: &[(&str, &str)],
    ) -> Landed {
        match self.submit(base, html, fields).await {
            Landed::Page(200, _, html) if html.contains("value=\"allow\"") => {
                self.submit(base, &html, &[("decision", "allow")]).await
            }
            other => other,
        }
    }

    /// Opens the authorization request `url` and submits its login page once as `login`
    /// with `password`: where that lands (the consent page, an error page, a redirect).
    pub async fn submit_login_at(
        &self,
        base: &str,
        url: &str,
        login: &str,
        password: &str,
    ) -> Landed {
        let (_, _, html) = self.get(base, url).await.page();
        self.submit(base, &html, &[("login", login), ("password", password)])
            .await
    }

    /// Opens the authorization request `url`, signs in as `login` (allowing on the consent
    /// page if one follows) and returns where the browser was sent: the client's redirect URI.
    pub async fn sign_in_at(&self, base: &str, url: &str, login: &str, password: &str) -> url::Url {
        let start = self.get(base, url).await;
        self.login_and_consent(base, start, login, password)
            .await
            .redirect()
    }

    /// Signs in on a login page and allows on the consent page if one follows.
    pub async fn login_and_consent(
        &self,
        base: &str,
        start: Landed,
        login: &str,
        password: &str,
    ) -> Landed {
        let (_, _, html) = start.page();
        assert!(
            html.contains("name=\"password\""),
            "login page expected: {html}"
        );
        let after = self
            .submit(base, &html, &[("login", login), ("password", password)])
            .await;
        match after {
            Landed::Page(200, _, html) if html.contains("value=\"allow\"") => {
                self.submit(base, &html, &[("decision", "allow")]).await
            }
            other => other,
        }
    }
}

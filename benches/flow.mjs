// Drives complete authorization-code flows against an OpenID provider, as a browser and a
// relying party would: authorize (PKCE S256) → login form → consent form → code → token →
// userinfo. Generic over the provider's HTML: it submits the first form on each page with
// its hidden inputs, fills `login`/`password`, and prefers an allow/accept button.
//
// usage: node flow.mjs ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI LOGIN PASSWORD N [badlogins]
// prints one JSON line: {"flows": N, "ok": K} (or {"badlogins": N} in badlogins mode).
import { createHash, randomBytes } from 'node:crypto';

const [issuer, clientId, secret, redirectUri, login, password, nStr, mode] = process.argv.slice(2);
const n = Number(nStr || 10);
const meta = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
const b64u = (b) => Buffer.from(b).toString('base64url');
const unescape = (s) => s.replace(/&#x2f;/gi, '/').replace(/&#x27;/gi, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const attr = (tag, name) => { const m = tag.match(new RegExp(`\\s${name}="([^"]*)"`, 'i')); return m ? unescape(m[1]) : undefined; };

class Browser {
  constructor() { this.jar = new Map(); }
  cookieHeader() { return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; '); }
  store(res) {
    for (const c of res.headers.getSetCookie()) {
      const [kv, ...attrs] = c.split(';');
      const i = kv.indexOf('=');
      const k = kv.slice(0, i).trim(); const v = kv.slice(i + 1).trim();
      const expired = attrs.some((a) => /max-age=0/i.test(a.trim())) || v === '';
      if (expired) this.jar.delete(k); else this.jar.set(k, v);
    }
  }
  async request(url, init = {}) {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers || {}), cookie: this.cookieHeader() } });
    this.store(res);
    return res;
  }
  // Follows redirects until the client's redirect URI (returns its URL) or a page (returns HTML).
  async land(res, base) {
    for (let i = 0; i < 10; i++) {
      if (res.status >= 300 && res.status < 400) {
        const next = new URL(res.headers.get('location'), base).toString();
        if (next.startsWith(redirectUri)) return { redirect: new URL(next) };
        base = next;
        res = await this.request(next);
        continue;
      }
      return { html: await res.text(), url: base, status: res.status };
    }
    throw new Error('redirect loop');
  }
  async submit(page, fill) {
    const form = page.html.match(/<form[^>]*>[\s\S]*?<\/form>/i);
    if (!form) throw new Error(`no form at ${page.url} (${page.status}): ${page.html.slice(0, 300)}`);
    const open = form[0].match(/<form[^>]*>/i)[0];
    const action = new URL(attr(open, 'action') || page.url, page.url).toString();
    const body = new URLSearchParams();
    for (const tag of form[0].match(/<input[^>]*>/gi) || []) {
      const name = attr(tag, 'name'); if (!name) continue;
      if (name in fill) body.set(name, fill[name]);
      else if ((attr(tag, 'type') || 'text').toLowerCase() === 'hidden') body.set(name, attr(tag, 'value') || '');
    }
    const buttons = (form[0].match(/<button[^>]*>/gi) || []).filter((b) => attr(b, 'name'));
    const allow = buttons.find((b) => /allow|accept|yes/i.test(attr(b, 'value') || '')) || buttons[0];
    if (allow) body.set(attr(allow, 'name'), attr(allow, 'value') || '');
    const res = await this.request(action, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    return this.land(res, action);
  }
}

function authorizeUrl() {
  const verifier = b64u(randomBytes(32));
  const u = new URL(meta.authorization_endpoint);
  const q = { client_id: clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'openid profile email', state: b64u(randomBytes(8)), nonce: b64u(randomBytes(8)), code_challenge: b64u(createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256' };
  for (const [k, v] of Object.entries(q)) u.searchParams.set(k, v);
  return { url: u.toString(), verifier };
}

async function flow() {
  const b = new Browser();
  const { url, verifier } = authorizeUrl();
  let step = await b.land(await b.request(url), url);
  for (let i = 0; i < 4 && !step.redirect; i++) step = await b.submit(step, { login, password });
  if (!step.redirect) throw new Error(`flow did not return to the client: ${step.html.slice(0, 300)}`);
  const code = step.redirect.searchParams.get('code');
  if (!code) throw new Error(`no code: ${step.redirect}`);
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64');
  const tok = await (await fetch(meta.token_endpoint, { method: 'POST', headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }) })).json();
  if (!tok.access_token || !tok.id_token) throw new Error(`token response: ${JSON.stringify(tok)}`);
  const ui = await fetch(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${tok.access_token}` } });
  if (ui.status !== 200) throw new Error(`userinfo ${ui.status}`);
  await ui.json();
}

async function badLogins() {
  // One login form, then n wrong passwords for unknown logins: each costs the server one
  // password-hash check plus the error page.
  const b = new Browser();
  const { url } = authorizeUrl();
  const page = await b.land(await b.request(url), url);
  for (let i = 0; i < n; i++) await b.submit(page, { login: `nobody-${i}-${b64u(randomBytes(4))}`, password: 'wrong password, wrong' });
}

if (mode === 'badlogins') {
  await badLogins();
  console.log(JSON.stringify({ badlogins: n }));
} else {
  let ok = 0;
  for (let i = 0; i < n; i++) { await flow(); ok++; }
  console.log(JSON.stringify({ flows: n, ok }));
}

#!/usr/bin/env python3
"""Interoperability check: vhod against Authlib (unmodified, from PyPI).

discovery -> authorization code + PKCE S256 -> token -> ID token checked against vhod's JWKS
(signature with the same joserfc calls Authlib's own OpenID client uses, claims with
authlib.oidc.core.CodeIDToken) -> userinfo -> refresh (rotation: new token differs, old one
gets invalid_grant) -> userinfo with the refreshed access token -> the replay also revoked
the grant -> Resource Indicators (RFC 8707): a token for the client's API, not taken at
UserInfo.

The RP side is authlib.integrations.requests_client.OAuth2Session; the browser is a plain
requests.Session with redirects off. Authlib has no RFC 9207 support, so `iss` in the
authorization response is checked here.

Environment: INTEROP_ISSUER, INTEROP_CLIENT_ID, INTEROP_CLIENT_SECRET, INTEROP_REDIRECT_URI,
INTEROP_LOGIN, INTEROP_PASSWORD, INTEROP_RESOURCE (the resource server the client registered).
Prints `interop authlib: ok` on success.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import sys
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

LIB = "authlib"
step = "start"


class Failure(Exception):
    pass


def check(cond, msg: str) -> None:
    if not cond:
        raise Failure(msg)


def env(name: str) -> str:
    v = os.environ.get(name)
    if not v:
        raise Failure(f"missing environment variable {name}")
    return v


# --- browser emulation ---------------------------------------------------------------------

FORM_RE = re.compile(r"<form\b[^>]*>.*?</form>", re.I | re.S)
INPUT_RE = re.compile(r"<input\b[^>]*>", re.I)


def attr(tag: str, name: str) -> str | None:
    m = re.search(r'\s' + name + r'="([^"]*)"', tag, re.I)
    return html.unescape(m.group(1)) if m else None


def find_form(page: str, suffix: str, page_url: str):
    """The first <form> whose action ends with `suffix`: (absolute action, hidden inputs)."""
    for m in FORM_RE.finditer(page):
        open_tag = m.group(0)[: m.group(0).index(">") + 1]
        action = attr(open_tag, "action")
        if not action or not action.endswith(suffix):
            continue
        hidden = {}
        for inp in INPUT_RE.findall(m.group(0)):
            if (attr(inp, "type") or "").lower() == "hidden":
                hidden[attr(inp, "name")] = attr(inp, "value") or ""
        return urljoin(page_url, action), hidden
    return None


def authorize(auth_url: str, redirect_uri: str, login: str, password: str) -> str:
    """Drive the authorization endpoint like a user agent; return the redirect-URI URL
    (never fetched)."""
    b = requests.Session()
    b.headers["User-Agent"] = "vhod-interop/1 (authlib)"
    res = b.get(auth_url, allow_redirects=False, timeout=10)
    logged_in = consented = False
    for _ in range(10):
        if res.is_redirect:
            loc = res.headers.get("Location")
            check(loc, f"{res.status_code} from {res.url} without Location")
            nxt = urljoin(res.url, loc)
            if nxt.startswith(redirect_uri + "?") or nxt.startswith(redirect_uri + "#"):
                return nxt
            res = b.get(nxt, allow_redirects=False, timeout=10)
            continue
        form = find_form(res.text, "/login", res.url)
        if form and logged_in:
            m = re.search(r'<p class="error"[^>]*>(.*?)</p>', res.text, re.S)
            raise Failure(f"login rejected ({res.status_code}): "
                          + (html.unescape(m.group(1)).strip() if m else "login form shown again"))
        check(res.status_code == 200, f"unexpected {res.status_code} from {res.url}: {res.text[:300]}")
        if form:
            logged_in = True
            action, hidden = form
            res = b.post(action, data={**hidden, "login": login, "password": password},
                         allow_redirects=False, timeout=10)
            continue
        form = find_form(res.text, "/consent", res.url)
        if form:
            check(not consented, "consent form shown again after allowing")
            consented = True
            action, hidden = form
            res = b.post(action, data={**hidden, "decision": "allow"}, allow_redirects=False, timeout=10)
            continue
        raise Failure(f"no login or consent form on {res.url}: {res.text[:300]}")
    raise Failure("too many steps before reaching the redirect URI")


# --- the RP flow ---------------------------------------------------------------------------


def validate_id_token(id_token: str, jwks: dict, meta: dict, client_id: str, nonce: str | None,
                      access_token: str) -> CodeIDToken:
    key_set = KeySet.import_key_set(jwks)
    token = jwt.decode(
        id_token,
        key=key_set,
        registry=JWSRegistry(algorithms=meta["id_token_signing_alg_values_supported"]),
    )
    params = {"client_id": client_id, "access_token": access_token}
    if nonce is not None:
        params["nonce"] = nonce
    claims = CodeIDToken(
        token.claims,
        token.header,
        {
            "iss": {"essential": True, "value": meta["issuer"]},
            "aud": {"essential": True, "value": client_id},
        },
        params,
    )
    claims.validate(leeway=60)
    return claims


def expect_oauth_error(fn, code: str, what: str) -> None:
    try:
        fn()
    except OAuthError as e:
        check(e.error == code, f"{what}: expected {code}, got {e.error}: {e.description}")
        return
    raise Failure(f"{what}: accepted, expected {code}")


def main() -> None:
    global step
    issuer = env("INTEROP_ISSUER").rstrip("/")
    client_id = env("INTEROP_CLIENT_ID")
    client_secret = env("INTEROP_CLIENT_SECRET")
    redirect_uri = env("INTEROP_REDIRECT_URI")
    login = env("INTEROP_LOGIN")
    password = env("INTEROP_PASSWORD")

    # 1. discovery
    step = "discovery"
    r = requests.get(issuer + "/.well-known/openid-configuration", timeout=10)
    r.raise_for_status()
    meta = r.json()
    check(meta.get("issuer") == issuer, f"discovery issuer {meta.get('issuer')!r} != {issuer!r}")
    check("S256" in meta.get("code_challenge_methods_supported", []), "S256 not advertised")
    r = requests.get(meta["jwks_uri"], timeout=10)
    r.raise_for_status()
    jwks = r.json()
    check(jwks.get("keys"), "empty JWKS")

    rp = OAuth2Session(
        client_id,
        client_secret,
        token_endpoint_auth_method="client_secret_basic",
        scope="openid profile email offline_access",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )

    # 2. authorization request (PKCE S256, state, nonce)
    step = "authorization"
    code_verifier = generate_token(48)
    nonce = generate_token(20)
    auth_url, state = rp.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=code_verifier, nonce=nonce, prompt="consent"
    )
    check("code_challenge_method=S256" in auth_url, f"no PKCE S256 in {auth_url}")
    callback = authorize(auth_url, redirect_uri, login, password)
    q = parse_qs(urlsplit(callback).query)
    check("code" in q, f"no code in redirect: {callback}")
    # RFC 9207: Authlib does not check `iss`, so the RP does.
    check(q.get("iss") == [issuer], f"iss in the authorization response {q.get('iss')} != {issuer!r}")

    # 3. token (Authlib checks state; PKCE verifier sent)
    step = "token (authorization_code)"
    tokens = rp.fetch_token(
        meta["token_endpoint"], authorization_response=callback, state=state, code_verifier=code_verifier
    )
    for k in ("access_token", "refresh_token", "id_token"):
        check(tokens.get(k), f"token response without {k}")
    claims = validate_id_token(tokens["id_token"], jwks, meta, client_id, nonce, tokens["access_token"])
    sub = claims["sub"]

    # 4. userinfo (OAuth2Session sends the bearer token)
    step = "userinfo"
    r = rp.get(meta["userinfo_endpoint"], timeout=10)
    check(r.status_code == 200, f"userinfo {r.status_code}: {r.headers.get('WWW-Authenticate')} {r.text[:200]}")
    ui = r.json()
    check(ui.get("sub") == sub, "userinfo sub mismatch")
    check(ui.get("email") and ui.get("name"), f"userinfo without email/name: {ui}")

    # 5. refresh with rotation
    step = "refresh"
    old_rt = tokens["refresh_token"]
    refreshed = rp.refresh_token(meta["token_endpoint"], refresh_token=old_rt)
    check(refreshed.get("access_token"), "refresh: no access_token")
    check(refreshed.get("refresh_token"), "refresh: no new refresh_token (rotation expected)")
    check(refreshed["refresh_token"] != old_rt, "refresh: refresh token was not rotated")
    if refreshed.get("id_token"):
        rc = validate_id_token(refreshed["id_token"], jwks, meta, client_id, None, refreshed["access_token"])
        check(rc["sub"] == sub, "refresh: ID token sub changed")

    # 6. userinfo with the refreshed access token (the session now holds the new token). This
    #    comes before the replay: vhod revokes the whole grant when a rotated refresh token is
    #    presented again (Security BCP 4.14.2), which voids the new tokens as well.
    step = "userinfo (refreshed access token)"
    check(rp.token["access_token"] == refreshed["access_token"], "session did not take the refreshed token")
    r = rp.get(meta["userinfo_endpoint"], timeout=10)
    check(r.status_code == 200, f"userinfo {r.status_code}: {r.headers.get('WWW-Authenticate')} {r.text[:200]}")
    check(r.json().get("sub") == sub, "userinfo (refreshed) sub mismatch")

    # 7. the old refresh token is refused
    step = "reuse of the old refresh token"
    expect_oauth_error(lambda: rp.refresh_token(meta["token_endpoint"], refresh_token=old_rt),
                       "invalid_grant", "old refresh token after rotation")

    # 8. ...and that replay revoked the grant
    step = "grant revoked after replay"
    expect_oauth_error(lambda: rp.refresh_token(meta["token_endpoint"], refresh_token=refreshed["refresh_token"]),
                       "invalid_grant", "new refresh token after the old one was replayed")
    r = requests.get(meta["userinfo_endpoint"],
                     headers={"Authorization": f"Bearer {refreshed['access_token']}"}, timeout=10)
    check(r.status_code == 401 and "invalid_token" in r.headers.get("WWW-Authenticate", ""),
          f"revoked access token at userinfo: {r.status_code} {r.headers.get('WWW-Authenticate')}")

    # 9. Resource Indicators (RFC 8707): the client (registered with --resource) names its API
    #    at the authorization and token endpoints; the access token is for that API alone
    #    (its aud), UserInfo does not take it, and a refresh for another resource is refused.
    step = "resource indicators"
    api = env("INTEROP_RESOURCE")
    rp = OAuth2Session(
        client_id,
        client_secret,
        token_endpoint_auth_method="client_secret_basic",
        scope="openid offline_access",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )
    code_verifier = generate_token(48)
    auth_url, state = rp.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=code_verifier, prompt="consent", resource=api
    )
    callback = authorize(auth_url, redirect_uri, login, password)
    tokens = rp.fetch_token(
        meta["token_endpoint"], authorization_response=callback, state=state, code_verifier=code_verifier,
        resource=api,
    )

    def aud_of(jwt: str):
        payload = jwt.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["aud"]

    check(aud_of(tokens["access_token"]) == api, f"resource: access token aud {aud_of(tokens['access_token'])!r}")
    check(aud_of(tokens["id_token"]) == client_id, "resource: the ID token is not the client's")
    r = rp.get(meta["userinfo_endpoint"], timeout=10)
    check(r.status_code == 401 and "invalid_token" in r.headers.get("WWW-Authenticate", ""),
          f"resource: userinfo took a token for {api}: {r.status_code}")
    refreshed = rp.refresh_token(meta["token_endpoint"], refresh_token=tokens["refresh_token"], resource=api)
    check(aud_of(refreshed["access_token"]) == api, f"resource: refreshed aud {aud_of(refreshed['access_token'])!r}")
    expect_oauth_error(
        lambda: rp.refresh_token(meta["token_endpoint"], refresh_token=refreshed["refresh_token"],
                                 resource="https://elsewhere.example/"),
        "invalid_target", "refresh for a resource the grant was not given")

    print(f"interop {LIB}: ok")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - one clear line whatever failed
        detail = f"{type(e).__name__}: {e}"
        print(f"interop {LIB}: FAILED at {step}: {detail}", file=sys.stderr)
        sys.exit(1)

// Interoperability check: vhod against panva's openid-client (unmodified, from npm).
//
// discovery -> authorization code + PKCE S256 -> token (ID token signature checked against
// vhod's JWKS) -> userinfo -> refresh (rotation: new token differs, old one gets invalid_grant)
// -> userinfo with the refreshed access token -> the replay also revoked the grant -> a pushed
// request -> DPoP-bound tokens (code bound by dpop_jkt, userinfo and refresh with proofs; with
// INTEROP_DPOP_NONCE=required, vhod requires its nonces and the library's retry is checked) ->
// a private_key_jwt client's signed Request Objects (RFC 9101), sent by value and pushed ->
// that client's signed UserInfo Response (it registered userinfo_signed_response_alg ES256)
// for the pairwise sub it is told (it registered pairwise subject identifiers) -> JWT Secured
// Authorization Responses (JARM, response_mode=jwt), plain and pushed -> the Device
// Authorization Grant (RFC 8628) for a public client, approved in the emulated browser ->
// Resource Indicators (RFC 8707): a token for the client's API, not taken at UserInfo.
//
// The browser is emulated with plain fetch (manual redirects, a tiny path-aware cookie jar);
// everything an RP does is done by openid-client itself.
//
// Environment: INTEROP_ISSUER, INTEROP_CLIENT_ID, INTEROP_CLIENT_SECRET, INTEROP_REDIRECT_URI,
// INTEROP_LOGIN, INTEROP_PASSWORD, INTEROP_JAR_CLIENT_ID and INTEROP_JAR_KEY (a private_key_jwt
// client and its private JWK), INTEROP_DEVICE_CLIENT_ID (a public device client),
// INTEROP_RESOURCE (the resource server the first client registered). Prints `interop openid-client: ok` on success.

import { readFileSync } from 'node:fs'
import * as client from 'openid-client'

const LIB = 'openid-client'
let step = 'start'

function env(name) {
  const v = process.env[name]
  if (!v) throw new Error(`missing environment variable ${name}`)
  return v
}

async function refused(fn) {
  try {
    await fn()
  } catch (e) {
    return e
  }
  return undefined
}

function describe(e) {
  let d = e && e.message ? e.message : String(e)
  if (e && e.error) d += ` [error=${e.error}${e.error_description ? `: ${e.error_description}` : ''}]`
  if (e && e.status) d += ` [status=${e.status}]`
  if (e && e.code) d += ` [code=${e.code}]`
  if (e && e.cause && typeof e.cause === 'object' && !e.error) {
    try { d += ` [cause=${JSON.stringify(e.cause)}]` } catch { /* ignore */ }
  }
  return d
}

function check(cond, msg) {
  if (!cond) throw new Error(msg)
}

// --- browser emulation -------------------------------------------------------------------

class Browser {
  constructor() {
    this.cookies = [] // { name, value, path }
  }

  cookieHeader(url) {
    const path = new URL(url).pathname
    return this.cookies
      .filter((c) => path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : c.path + '/'))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ')
  }

  store(url, res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim())
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq)
      const value = pair.slice(eq + 1)
      let path = '/'
      for (const a of attrs) {
        const [k, v] = a.split('=')
        if (k.toLowerCase() === 'path' && v) path = v
      }
      this.cookies = this.cookies.filter((c) => !(c.name === name && c.path === path))
      if (value !== '' && !/max-age=0\b/i.test(line)) this.cookies.push({ name, value, path })
    }
  }

  async request(method, url, form) {
    const headers = { 'user-agent': 'vhod-interop/1 (openid-client)' }
    const cookie = this.cookieHeader(url)
    if (cookie) headers.cookie = cookie
    let body
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      body = new URLSearchParams(form).toString()
    }
    const res = await fetch(url, { method, headers, body, redirect: 'manual' })
    this.store(url, res)
    const text = await res.text()
    return { status: res.status, location: res.headers.get('location'), text, url }
  }
}

function unescapeHtml(s) {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#([0-9]+);/g, (_, d) => String.fromCodePoint(parseInt(d, 10)))
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}

function attr(tag, name) {
  const m = tag.match(new RegExp(`\\s${name}="([^"]*)"`, 'i'))
  return m ? unescapeHtml(m[1]) : undefined
}

// The first <form> whose action ends with `suffix`, with its hidden inputs.
function findForm(html, suffix, pageUrl) {
  for (const m of html.matchAll(/<form\b[^>]*>([\s\S]*?)<\/form>/gi)) {
    const open = m[0].slice(0, m[0].indexOf('>') + 1)
    const action = attr(open, 'action')
    if (!action || !action.endsWith(suffix)) continue
    const hidden = {}
    for (const inp of m[1].matchAll(/<input\b[^>]*>/gi)) {
      if ((attr(inp[0], 'type') || '').toLowerCase() === 'hidden') {
        hidden[attr(inp[0], 'name')] = attr(inp[0], 'value') ?? ''
      }
    }
    return { action: new URL(action, pageUrl).href, hidden }
  }
  return undefined
}

// Drives the authorization endpoint like a user agent until it is sent to the redirect URI;
// returns that URL (never fetched).
async function authorize(authUrl, redirectUri, login, password) {
  const b = new Browser()
  let res = await b.request('GET', authUrl.href)
  let loggedIn = false
  let consented = false
  for (let step = 0; step < 10; step++) {
    if (res.status >= 300 && res.status < 400) {
      check(res.location, `${res.status} from ${res.url} without Location`)
      const next = new URL(res.location, res.url).href
      if (next.startsWith(redirectUri + '?') || next.startsWith(redirectUri + '#')) return new URL(next)
      res = await b.request('GET', next)
      continue
    }
    const loginForm = findForm(res.text, '/login', res.url)
    if (loginForm && loggedIn) {
      const m = res.text.match(/<p class="error"[^>]*>([\s\S]*?)<\/p>/)
      throw new Error(`login rejected (${res.status}): ${m ? unescapeHtml(m[1]).trim() : 'login form shown again'}`)
    }
    check(res.status === 200, `unexpected ${res.status} from ${res.url}: ${res.text.slice(0, 300)}`)
    if (loginForm) {
      loggedIn = true
      res = await b.request('POST', loginForm.action, { ...loginForm.hidden, login, password })
      continue
    }
    const consentForm = findForm(res.text, '/consent', res.url)
    if (consentForm) {
      check(!consented, 'consent form shown again after allowing')
      consented = true
      res = await b.request('POST', consentForm.action, { ...consentForm.hidden, decision: 'allow' })
      continue
    }
    throw new Error(`no login or consent form on ${res.url}: ${res.text.slice(0, 300)}`)
  }
  throw new Error('too many steps before reaching the redirect URI')
}

// The person's side of the device authorization grant (RFC 8628): opens the verification
// URI the device shows, types the user code, signs in and allows; returns the final page.
async function approveDevice(verificationUri, userCode, login, password) {
  const b = new Browser()
  let res = await b.request('GET', verificationUri)
  for (let step = 0; step < 10; step++) {
    if (res.status >= 300 && res.status < 400) {
      res = await b.request('GET', new URL(res.location, res.url).href)
      continue
    }
    check(res.status === 200, `device: unexpected ${res.status} from ${res.url}: ${res.text.slice(0, 300)}`)
    const codeForm = res.text.includes('name="user_code"') && findForm(res.text, '', res.url)
    const loginForm = findForm(res.text, '/login', res.url)
    const consentForm = findForm(res.text, '/consent', res.url)
    if (loginForm) {
      res = await b.request('POST', loginForm.action, { ...loginForm.hidden, login, password })
    } else if (consentForm) {
      check(res.text.includes('id="device-warning"'), 'device: the consent page does not warn about codes from others')
      res = await b.request('POST', consentForm.action, { ...consentForm.hidden, decision: 'allow' })
    } else if (codeForm) {
      res = await b.request('POST', codeForm.action, { ...codeForm.hidden, user_code: userCode })
    } else {
      return res
    }
  }
  throw new Error('device: too many steps')
}

// --- the RP flow -------------------------------------------------------------------------

// One sign-in through the library with a fresh PKCE verifier, state and nonce: `params` go into
// the authorization request (pushed through PAR with `push`), the browser signs in, and the
// code is redeemed with `options` (e.g. a DPoP handle); the ID token is checked as usual.
// Returns the URL the browser was sent to, the one it came back to, and the tokens.
async function signIn(config, user, params, { push = false, jar, options } = {}) {
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const request = {
    redirect_uri: user.redirectUri,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  }
  // With `jar` (a signing key), the request goes as a signed Request Object (RFC 9101),
  // pushed as such with `push`.
  const signed = jar && (await client.buildAuthorizationUrlWithJAR(config, request, jar)).searchParams
  const url = push
    ? await client.buildAuthorizationUrlWithPAR(config, signed || request, options)
    : signed ? new URL(`${config.serverMetadata().authorization_endpoint}?${signed}`)
      : client.buildAuthorizationUrl(config, request)
  const callback = await authorize(url, user.redirectUri, user.login, user.password)
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  }, undefined, options)
  return { url, callback, tokens }
}

async function main() {
  const issuer = new URL(env('INTEROP_ISSUER'))
  const clientId = env('INTEROP_CLIENT_ID')
  const clientSecret = env('INTEROP_CLIENT_SECRET')
  const redirectUri = env('INTEROP_REDIRECT_URI')
  const login = env('INTEROP_LOGIN')
  const password = env('INTEROP_PASSWORD')

  // 1. discovery (http issuer on loopback: allowInsecureRequests); ID token signatures are
  step = 'discovery'
  //    verified against the JWKS (enableNonRepudiationChecks).
  const config = await client.discovery(
    issuer,
    clientId,
    { redirect_uris: [redirectUri], response_types: ['code'] },
    client.ClientSecretBasic(clientSecret),
    { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] },
  )
  // Answers that asked for a DPoP nonce (RFC 9449 §8-9), seen on the wire.
  const nonceRefusals = []
  config[client.customFetch] = async (url, options) => {
    const r = await fetch(url, options)
    const www = r.headers.get('www-authenticate') || ''
    const asked = (r.status === 400 && (await r.clone().text()).includes('"use_dpop_nonce"')) ||
      (r.status === 401 && www.includes('use_dpop_nonce'))
    if (asked) {
      check(r.headers.get('dpop-nonce'), `a use_dpop_nonce answer from ${url} without DPoP-Nonce`)
      nonceRefusals.push(new URL(url).pathname)
    }
    return r
  }
  const meta = config.serverMetadata()
  check(meta.issuer === issuer.href.replace(/\/$/, ''), `discovery issuer ${meta.issuer} != ${issuer.href}`)
  check(meta.authorization_response_iss_parameter_supported === true,
    'discovery does not advertise authorization_response_iss_parameter_supported')

  // 2. authorization request with PKCE S256, state and nonce
  step = 'authorization'
  const codeVerifier = client.randomPKCECodeVerifier()
  const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier)
  const state = client.randomState()
  const nonce = client.randomNonce()
  const authUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email offline_access',
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    state,
    nonce,
    prompt: 'consent', // offline_access needs consent (OIDC Core 11)
  })

  const callback = await authorize(authUrl, redirectUri, login, password)
  check(callback.searchParams.has('code'), `no code in redirect: ${callback.href}`)
  check(callback.searchParams.has('iss'), `no iss in redirect (RFC 9207): ${callback.href}`)

  // 3. token: openid-client checks state, iss (RFC 9207), PKCE, nonce and the ID token
  step = 'token (authorization_code)'
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  })
  check(tokens.access_token, 'no access_token')
  check(tokens.refresh_token, 'no refresh_token (offline_access)')
  check(tokens.id_token, 'no id_token')
  const claims = tokens.claims()
  check(claims && claims.sub, 'ID token without sub')
  check(claims.nonce === nonce, 'ID token nonce mismatch')
  // The JWKS has been fetched (the signature was verified against it).
  const jwks = client.getJwksCache(config)
  check(jwks && jwks.jwks && jwks.jwks.keys.length > 0, 'JWKS was not fetched: ID token signature not verified')

  // 4. userinfo
  step = 'userinfo'
  const ui = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
  check(ui.sub === claims.sub, 'userinfo sub mismatch')
  check(ui.email, `userinfo without email: ${JSON.stringify(ui)}`)
  check(ui.name, `userinfo without name: ${JSON.stringify(ui)}`)

  // 5. refresh with rotation
  step = 'refresh'
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
  check(refreshed.access_token, 'refresh: no access_token')
  check(refreshed.refresh_token, 'refresh: no new refresh_token (rotation expected)')
  check(refreshed.refresh_token !== tokens.refresh_token, 'refresh: refresh token was not rotated')
  if (refreshed.id_token) {
    const rc = refreshed.claims()
    check(rc.sub === claims.sub, 'refresh: ID token sub changed')
  }

  // 6. userinfo with the refreshed access token. This comes before the replay below: vhod
  //    treats a replayed refresh token as theft and revokes the whole grant (Security BCP
  //    §4.14.2, README "presenting a rotated token revokes the whole grant"), which also
  //    voids the tokens just issued.
  step = 'userinfo (refreshed access token)'
  const ui2 = await client.fetchUserInfo(config, refreshed.access_token, claims.sub)
  check(ui2.sub === claims.sub, 'userinfo (refreshed) sub mismatch')
  check(ui2.email === ui.email, 'userinfo (refreshed) email changed')

  // 7. the old refresh token is now refused with invalid_grant
  step = 'reuse of the old refresh token'
  const oldErr = await refused(() => client.refreshTokenGrant(config, tokens.refresh_token))
  check(oldErr, 'old refresh token was accepted after rotation')
  check(oldErr instanceof client.ResponseBodyError && oldErr.error === 'invalid_grant',
    `old refresh token: expected invalid_grant, got ${describe(oldErr)}`)

  // 8. ...and the replay revoked the grant: the new refresh token and access token are dead too
  step = 'grant revoked after replay'
  const newErr = await refused(() => client.refreshTokenGrant(config, refreshed.refresh_token))
  check(newErr, 'new refresh token still works after the old one was replayed (grant not revoked)')
  check(newErr instanceof client.ResponseBodyError && newErr.error === 'invalid_grant',
    `new refresh token after replay: expected invalid_grant, got ${describe(newErr)}`)
  const atErr = await refused(() => client.fetchUserInfo(config, refreshed.access_token, claims.sub))
  check(atErr, 'refreshed access token still accepted at userinfo after the grant was revoked')
  check(atErr instanceof client.WWWAuthenticateChallengeError &&
      atErr.cause.some((c) => c.scheme === 'bearer' && c.parameters.error === 'invalid_token'),
    `revoked access token: expected a Bearer invalid_token challenge, got ${describe(atErr)}`)

  // 9. a pushed authorization request (RFC 9126): the library pushes the request to the
  //    endpoint discovery names and sends the browser with client_id and request_uri only
  step = 'pushed authorization request'
  check(meta.pushed_authorization_request_endpoint, 'discovery names no pushed_authorization_request_endpoint')
  const user = { redirectUri, login, password }
  const { url: parUrl, tokens: parTokens } =
    await signIn(config, user, { scope: 'openid email' }, { push: true })
  check([...parUrl.searchParams.keys()].sort().join(' ') === 'client_id request_uri',
    `the pushed authorization URL carries more than client_id and request_uri: ${parUrl.href}`)
  check(parTokens.claims().sub === claims.sub, 'pushed request: ID token for another subject')
  check(parTokens.scope === 'openid email', `pushed request: scope ${parTokens.scope}`)

  // 10. DPoP (RFC 9449): the library makes its own key, binds the code to it (dpop_jkt),
  //     proves it at the token endpoint, at userinfo and on refresh; vhod answers with
  //     DPoP-bound tokens and refuses the access token when it comes without a proof.
  step = 'DPoP'
  check((meta.dpop_signing_alg_values_supported || []).includes('ES256'),
    'discovery lists no ES256 in dpop_signing_alg_values_supported')
  const dpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'))
  const { tokens: dTokens } = await signIn(config, user, {
    scope: 'openid email offline_access',
    prompt: 'consent',
    dpop_jkt: await dpop.calculateThumbprint(),
  }, { options: { DPoP: dpop } })
  check(dTokens.token_type === 'dpop', `DPoP: token_type ${dTokens.token_type}`)
  const dUi = await client.fetchUserInfo(config, dTokens.access_token, claims.sub, { DPoP: dpop })
  check(dUi.sub === claims.sub && dUi.email === ui.email, 'DPoP: userinfo mismatch')
  const bareErr = await refused(() => client.fetchUserInfo(config, dTokens.access_token, claims.sub))
  check(bareErr instanceof client.WWWAuthenticateChallengeError &&
      bareErr.cause.some((c) => c.scheme === 'dpop'),
    `DPoP: the bound access token without a proof: expected a DPoP challenge, got ${describe(bareErr)}`)
  const dRefreshed = await client.refreshTokenGrant(config, dTokens.refresh_token, undefined, { DPoP: dpop })
  check(dRefreshed.token_type === 'dpop', `DPoP refresh: token_type ${dRefreshed.token_type}`)
  const dUi2 = await client.fetchUserInfo(config, dRefreshed.access_token, claims.sub, { DPoP: dpop })
  check(dUi2.sub === claims.sub, 'DPoP: userinfo with the refreshed token')
  // With nonces required, the first proof (the code's redemption) was refused with a nonce,
  // the library tried again with it, and kept using the nonces vhod gave: no other refusal.
  if (process.env.INTEROP_DPOP_NONCE === 'required') {
    check(nonceRefusals.join(' ') === '/token',
      `DPoP nonces: expected one use_dpop_nonce answer, at /token; saw [${nonceRefusals.join(', ')}]`)
  } else {
    check(nonceRefusals.length === 0, `DPoP nonces: unexpected use_dpop_nonce at ${nonceRefusals}`)
  }

  // 11. Request Objects (RFC 9101): a private_key_jwt client signs its authorization request
  //     with its registered key; the browser carries only client_id and the object, or the
  //     object is pushed (RFC 9126 §3). vhod uses the object's parameters (state, nonce...).
  step = 'request object'
  check(meta.request_parameter_supported === true, 'discovery: request_parameter_supported is not true')
  check((meta.request_object_signing_alg_values_supported || []).includes('ES256'),
    'discovery lists no ES256 in request_object_signing_alg_values_supported')
  const jarJwk = JSON.parse(readFileSync(env('INTEROP_JAR_KEY'), 'utf8'))
  const jarKey = {
    key: await crypto.subtle.importKey('jwk', jarJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']),
    kid: jarJwk.kid,
  }
  const jarConfig = await client.discovery(
    issuer,
    env('INTEROP_JAR_CLIENT_ID'),
    { redirect_uris: [redirectUri], response_types: ['code'], userinfo_signed_response_alg: 'ES256' },
    client.PrivateKeyJwt(jarKey),
    { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] },
  )
  const { url: jarUrl, tokens: jarTokens } = await signIn(jarConfig, user, { scope: 'openid email' }, { jar: jarKey })
  check([...jarUrl.searchParams.keys()].sort().join(' ') === 'client_id request',
    `the Request Object URL carries more than client_id and request: ${jarUrl.href}`)
  // This client is registered with pairwise subject identifiers (OIDC Core §8.1): alice is
  // another sub to it, the same in each of its tokens.
  const jarSub = jarTokens.claims().sub
  check(jarSub && jarSub !== claims.sub, `pairwise client told the public sub ${jarSub}`)
  check(jarTokens.scope === 'openid email', `Request Object: scope ${jarTokens.scope}`)
  const { url: jarParUrl, tokens: jarParTokens } =
    await signIn(jarConfig, user, { scope: 'openid' }, { jar: jarKey, push: true })
  check([...jarParUrl.searchParams.keys()].sort().join(' ') === 'client_id request_uri',
    `the pushed Request Object's URL carries more than client_id and request_uri: ${jarParUrl.href}`)
  check(jarParTokens.claims().sub === jarSub, 'pushed Request Object: ID token for another subject')

  // 12. A signed UserInfo Response (OIDC Core §5.3.2): the same client registered with
  //     userinfo_signed_response_alg ES256; openid-client requires application/jwt and checks
  //     the signature against vhod's JWKS, iss and aud.
  step = 'signed userinfo'
  check((meta.userinfo_signing_alg_values_supported || []).includes('ES256'),
    'discovery lists no ES256 in userinfo_signing_alg_values_supported')
  const signedUi = await client.fetchUserInfo(jarConfig, jarTokens.access_token, jarSub)
  check(signedUi.sub === jarSub, 'signed userinfo: another subject')
  check(signedUi.aud === env('INTEROP_JAR_CLIENT_ID'), `signed userinfo: aud ${JSON.stringify(signedUi.aud)}`)
  check(signedUi.email === 'alice@example.com', `signed userinfo without email: ${JSON.stringify(signedUi)}`)

  // 13. JWT Secured Authorization Response Mode (JARM): a client configured for it asks for
  //     response_mode=jwt, and the code, state and issuer come back as one JWT, `response`,
  //     which openid-client verifies against vhod's JWKS with iss, aud and exp. The client
  //     registered no authorization_signed_response_alg, so the library expects RS256,
  //     JARM's default (vhod keeps an RS256 key by default); pushed (RFC 9126) as well.
  step = 'JARM'
  check((meta.response_modes_supported || []).includes('jwt'), 'discovery lists no jwt response mode')
  check((meta.authorization_signing_alg_values_supported || []).includes('RS256'),
    'discovery lists no RS256 in authorization_signing_alg_values_supported')
  const jarmConfig = await client.discovery(
    issuer,
    clientId,
    { redirect_uris: [redirectUri], response_types: ['code'], authorization_signed_response_alg: 'RS256' },
    client.ClientSecretBasic(clientSecret),
    { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] },
  )
  client.useJwtResponseMode(jarmConfig)
  const jarm = await signIn(jarmConfig, user, { scope: 'openid email' })
  check(jarm.url.searchParams.get('response_mode') === 'jwt', `JARM: the library did not ask for it: ${jarm.url.href}`)
  check([...jarm.callback.searchParams.keys()].join(' ') === 'response',
    `JARM: the redirect carries more than the response JWT: ${jarm.callback.href}`)
  check(jarm.tokens.claims().sub === claims.sub, 'JARM: ID token for another subject')
  const jarmPar = await signIn(jarmConfig, user, { scope: 'openid', response_mode: 'jwt' }, { push: true })
  check([...jarmPar.callback.searchParams.keys()].join(' ') === 'response',
    `JARM (pushed): the redirect carries more than the response JWT: ${jarmPar.callback.href}`)
  check(jarmPar.tokens.claims().sub === claims.sub, 'JARM (pushed): ID token for another subject')

  // 14. Device Authorization Grant (RFC 8628) for a public client without a redirect URI:
  //     the library asks for the codes and polls (authorization_pending, at the interval it
  //     was given) while the person approves in a browser; the ID token is checked as usual.
  step = 'device authorization grant'
  check(meta.device_authorization_endpoint === `${meta.issuer}/device_authorization`,
    `discovery device_authorization_endpoint: ${meta.device_authorization_endpoint}`)
  const tvConfig = await client.discovery(
    issuer,
    env('INTEROP_DEVICE_CLIENT_ID'),
    {},
    client.None(),
    { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] },
  )
  const device = await client.initiateDeviceAuthorization(tvConfig, { scope: 'openid email' })
  check(/^[A-Z]{4}-[A-Z]{4}$/.test(device.user_code), `device: user_code ${device.user_code}`)
  check(device.verification_uri === `${meta.issuer}/device`, `device: verification_uri ${device.verification_uri}`)
  const polled = client.pollDeviceAuthorizationGrant(tvConfig, device)
  const done = await approveDevice(device.verification_uri_complete, device.user_code, login, password)
  check(done.text.includes('id="device-approved"'), `device: not approved: ${done.text.slice(0, 300)}`)
  const tvTokens = await polled
  check(tvTokens.claims().sub === claims.sub, 'device: ID token for another subject')
  check(tvTokens.claims().aud === env('INTEROP_DEVICE_CLIENT_ID'), 'device: ID token for another audience')
  const tvInfo = await client.fetchUserInfo(tvConfig, tvTokens.access_token, claims.sub)
  check(tvInfo.email === 'alice@example.com', `device: userinfo ${JSON.stringify(tvInfo)}`)

  // 15. Resource Indicators (RFC 8707): the client (registered with --resource) names its
  //     API at the authorization and token endpoints; the access token is for that API
  //     alone (its aud), so UserInfo does not take it; a refresh keeps it.
  step = 'resource indicators'
  const api = env('INTEROP_RESOURCE')
  const rVerifier = client.randomPKCECodeVerifier()
  const rState = client.randomState()
  const rUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(rVerifier),
    code_challenge_method: 'S256',
    state: rState,
    prompt: 'consent',
    resource: api,
  })
  const rCallback = await authorize(rUrl, redirectUri, login, password)
  const rTokens = await client.authorizationCodeGrant(
    config, rCallback, { pkceCodeVerifier: rVerifier, expectedState: rState, idTokenExpected: true },
    { resource: api },
  )
  const audOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()).aud
  check(audOf(rTokens.access_token) === api, `resource: access token aud ${audOf(rTokens.access_token)}`)
  check(rTokens.claims().aud === clientId, 'resource: the ID token is not the client\'s')
  const notForUs = await refused(() => client.fetchUserInfo(config, rTokens.access_token, claims.sub))
  check(notForUs && (notForUs.status === 401 || notForUs.error === 'invalid_token'),
    `resource: userinfo took a token for ${api}: ${notForUs ? describe(notForUs) : 'no error'}`)
  const rRefreshed = await client.refreshTokenGrant(config, rTokens.refresh_token, { resource: api })
  check(audOf(rRefreshed.access_token) === api, `resource: refreshed aud ${audOf(rRefreshed.access_token)}`)
  const widened = await refused(() => client.refreshTokenGrant(config, rRefreshed.refresh_token,
    { resource: 'https://elsewhere.example/' }))
  check(widened && widened.error === 'invalid_target',
    `resource: a resource not granted: ${widened ? describe(widened) : 'no error'}`)

  console.log(`interop ${LIB}: ok`)
}

main().catch((e) => {
  console.error(`interop ${LIB}: FAILED at ${step}: ${describe(e)}`)
  process.exit(1)
})

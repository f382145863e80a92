// Helpers of the browser test (flow.mjs): what a person's authenticator app and a relying
// party do, in plain node:crypto / node:http / fetch, and the page helpers.
//
// - totp(): RFC 6238 (HMAC-SHA1, 30-second steps, 6 digits) over RFC 4226 dynamic truncation,
//   checked against the RFC 6238 Appendix B vector before use.
// - pkce(): RFC 7636 S256 pair.
// - callbackServer(): the relying party's redirect URI; next() resolves with a request's URL;
//   requests to /fc (its front-channel logout page) are kept apart in frontChannel.
// - tokenRequest(): the token endpoint with client_secret_basic (RFC 6749 §2.3.1).
// - verifyIdToken(): an ID token's signature against the JWKS (ES256 or RS256) and the OIDC
//   Core §3.1.3.7 claims the test relies on (iss, aud, nonce, exp).
// - virtualAuthenticator(): a CTAP2 platform authenticator with user verification, added to
//   a page through the Chrome DevTools Protocol's WebAuthn domain, standing in for a
//   phone's or laptop's passkey store.
// - shoot(): full-page screenshots at phone (390×844) and desktop (1280×800) widths, failing
//   when content sticks out of the card or the page scrolls sideways.

import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import http from 'node:http'
import path from 'node:path'

// --- TOTP (RFC 6238) ---------------------------------------------------------------------

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** RFC 4648 base32 as authenticator apps accept it (case, spaces and padding forgiven). */
export function base32Decode(text) {
  const out = []
  let bits = 0
  let acc = 0
  for (const ch of text.replace(/[\s=]/g, '').toUpperCase()) {
    const v = BASE32.indexOf(ch)
    if (v < 0) throw new Error(`not base32: ${JSON.stringify(ch)}`)
    acc = ((acc << 5) | v) & 0xffff
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out.push((acc >>> bits) & 0xff)
    }
  }
  return Buffer.from(out)
}

/** The 6-digit code of `secret` for 30-second step number `step`. */
export function totp(secret, step) {
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(step))
  const mac = crypto.createHmac('sha1', secret).update(counter).digest()
  const offset = mac[mac.length - 1] & 0x0f
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000
  return String(n).padStart(6, '0')
}

// RFC 6238 Appendix B, SHA-1 seed, T = 59 s: 94287082 (its last six digits).
assert.equal(totp(Buffer.from('12345678901234567890'), Math.floor(59 / 30)), '287082')

/** The current 30-second step. */
export const stepNow = () => Math.floor(Date.now() / 1000 / 30)

// --- the relying party -------------------------------------------------------------------

const b64url = (buf) => Buffer.from(buf).toString('base64url')

/** A PKCE S256 verifier and its challenge (RFC 7636 §4.1-4.2). */
export function pkce() {
  const verifier = b64url(crypto.randomBytes(32))
  const challenge = b64url(crypto.createHash('sha256').update(verifier).digest())
  return { verifier, challenge }
}

/** A random `state` or `nonce`. */
export const random = () => b64url(crypto.randomBytes(16))

/**
 * Listens on 127.0.0.1:`port` as the client's redirect URI. `next()` resolves with the URL
 * of the next request; the browser gets a small page saying where it is.
 */
export async function callbackServer(port) {
  const waiting = []
  const frontChannel = []
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, `http://127.0.0.1:${port}`)
    // The front-channel logout page (loaded in the provider's logout page, in an iframe) is
    // recorded apart: it must not pass for the callback a step is waiting for.
    if (url.pathname === '/fc') {
      frontChannel.push(url)
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      res.end('<!doctype html><title>Test client</title><p>Signed out of the test client.')
      return
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end('<!doctype html><title>Test client</title><h1>Test client: callback</h1>')
    for (const w of waiting.splice(0)) w(url)
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', resolve)
  })
  return {
    next: () => new Promise((resolve) => waiting.push(resolve)),
    /** The front-channel logout requests so far, oldest first; `clear()` forgets them. */
    frontChannel,
    clear: () => frontChannel.splice(0),
    close: () => new Promise((resolve) => server.close(resolve)),
  }
}

/** POSTs `params` to the token endpoint with client_secret_basic; `{ status, body }`. */
export async function tokenRequest(endpoint, clientId, secret, params) {
  const basic = Buffer.from(
    `${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`,
  ).toString('base64')
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${basic}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(params),
  })
  return { status: res.status, body: await res.json() }
}

/** Checks an ID token's signature against `jwks` and its claims; returns the claims. */
export function verifyIdToken(idToken, jwks, { issuer, clientId, nonce }) {
  const [h, p, s] = idToken.split('.')
  const header = JSON.parse(Buffer.from(h, 'base64url'))
  const claims = JSON.parse(Buffer.from(p, 'base64url'))
  const jwk = jwks.keys.find((k) => k.kid === header.kid)
  assert.ok(jwk, `no key ${header.kid} in the JWKS`)
  const algs = { ES256: 'ieee-p1363', RS256: undefined }
  assert.ok(header.alg in algs, `unexpected ID token alg ${header.alg}`)
  const ok = crypto.verify(
    'sha256',
    Buffer.from(`${h}.${p}`),
    { key: crypto.createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: algs[header.alg] },
    Buffer.from(s, 'base64url'),
  )
  assert.ok(ok, 'the ID token signature does not verify against the JWKS')
  assert.equal(claims.iss, issuer)
  assert.ok([claims.aud].flat().includes(clientId), 'the ID token is not for this client')
  assert.equal(claims.nonce, nonce)
  assert.ok(claims.exp > Date.now() / 1000, 'the ID token has expired')
  return claims
}

// --- passkeys -----------------------------------------------------------------------------

/**
 * Adds a virtual authenticator to `page` (CDP `WebAuthn.addVirtualAuthenticator`: CTAP2,
 * internal transport, resident keys, user verification that always succeeds). Resolves with
 * `credentials()`, the credentials it holds.
 */
export async function virtualAuthenticator(page) {
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('WebAuthn.enable')
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  })
  return {
    credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
  }
}

// --- pages -------------------------------------------------------------------------------

export const PHONE = { width: 390, height: 844 }
export const DESKTOP = { width: 1280, height: 800 }

/**
 * Full-page PNGs of `page` as `<dir>/<name>-phone.png` and `-desktop.png`. Fails when at
 * either width something sticks out of the card (`main`) or the page scrolls sideways.
 * Leaves the phone size.
 */
export async function shoot(page, dir, name) {
  for (const [label, size] of [['desktop', DESKTOP], ['phone', PHONE]]) {
    await page.setViewportSize(size)
    await page.screenshot({ path: path.join(dir, `${name}-${label}.png`), fullPage: true })
    const [pageWide, cardWide, card] = await page.evaluate(() => {
      const m = document.querySelector('main')
      return [document.documentElement.scrollWidth, m.scrollWidth, m.clientWidth]
    })
    assert.ok(pageWide <= size.width, `${name}: the page is ${pageWide}px wide at ${size.width}px`)
    assert.ok(cardWide <= card, `${name}: ${cardWide}px of content in a ${card}px card at ${size.width}px`)
  }
}

/** The page's `<h1>`, once it shows `text` (waits for the navigation to land). */
export async function heading(page, text) {
  const h1 = page.locator('h1')
  await h1.filter({ hasText: text }).waitFor({ timeout: 15_000 })
  assert.equal((await h1.innerText()).trim(), text)
}

/** Clicks the button named `name` and waits for the page it leads to. */
export async function press(page, name) {
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'load', timeout: 15_000 }),
    page.getByRole('button', { name, exact: true }).click(),
  ])
}

/** The visible text of `selector` (the first match). */
export const text = async (page, selector) => (await page.locator(selector).first().innerText()).trim()

// vhod as a person uses it, in a real Chromium (Debian's, driven by playwright-core):
//
//   1. registers with an e-mail address (the code read from the development outbox page),
//      is refused a too-short password, then chooses a 15+ character one;
//   2. signs in to the personal account, turns on an authenticator app (the RFC 6238 code
//      computed here from the key shown on the page) and sees ten recovery codes;
//   3. in a fresh browser, signs in to a test client with password, then an app code (a code
//      already used is refused: replay protection), sees the consent page naming the client
//      and what it will read, allows it; the client redeems the code (PKCE S256, ID token
//      signature and nonce checked) and refreshes once;
//   4. views the account pages (overview, services, sessions, history, identity), sees the
//      client among the services and revokes it there; the client's refresh token then gets
//      `invalid_grant` and its access token is refused at userinfo;
//   5. with a virtual authenticator (Chrome DevTools Protocol, CTAP2 with user verification)
//      adds a passkey at /account/passkeys (the password asked again; /static/passkey.js runs
//      the WebAuthn ceremony), signs out, and signs in to the client with the passkey alone
//      from the login page: the ID token's `amr` has `hwk` and no `pwd`;
//   6. a newcomer sent by the client follows the sign-in page's link to create an account,
//      confirms an address and chooses a password, and goes straight on to the consent page
//      and back to the client, signed in with the new account (`amr` `pwd`);
//   7. a television's app (a public client of RFC 8628's device authorization grant) shows
//      a code; signed in on the phone, the person opens /device, types it in lower case,
//      sees the consent page name the television and warn about codes from others, allows,
//      and is told to go back to the device, whose next poll gets an ID token for them;
//   8. the client signs the newcomer out (RP-initiated logout): the logout page loads the
//      client's front-channel logout page with `iss` and `sid` in an iframe, then goes back to
//      the client with `state`, and the account page asks for a sign-in again.
//
// Every main page is shot full-page at phone and desktop widths into BROWSER_SCREENSHOTS, and
// must not scroll sideways on the phone. The pages are in Russian, the default language, so
// the assertions quote the Russian texts (idp/src/i18n.rs).
//
// Environment: VHOD_BIN (the vhod binary; server.mjs starts a fresh one), BROWSER_SCREENSHOTS
// (a directory), CHROMIUM (default /usr/bin/chromium), BROWSER_KEEP=1 keeps vhod's temporary
// data directory. Prints `browser test: ok` on success; on failure, the step, the page and the
// end of vhod's log, and exits 1.

import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { chromium } from 'playwright-core'
import * as t from './lib.mjs'
import { DEVICE_CLIENT_NAME, startVhod } from './server.mjs'

function env(name) {
  const v = process.env[name]
  if (!v) throw new Error(`missing environment variable ${name}`)
  return v
}

const SHOTS = env('BROWSER_SCREENSHOTS')
const CLIENT_NAME = 'Городская библиотека'
let ISSUER, CLIENT_ID, CLIENT_SECRET, DEVICE_CLIENT_ID, REDIRECT_URI // set once vhod is up (main)
const EMAIL = `citizen-${Date.now()}@example.com`
const PASSWORD = 'зелёный трамвай едет к морю'
const used = new Set() // TOTP steps the server has seen (each is accepted once)
/** A token response for a failure message: the error, or which fields came (never tokens). */
const told = (r) => `HTTP ${r.status}: ${r.body.error ? `${r.body.error} ${r.body.error_description ?? ''}` : Object.keys(r.body).join(', ')}`
const literally = (s) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))

let step = 'start'
let page // the page in use, for the failure screenshot
const shot = (name) => t.shoot(page, SHOTS, name)

/** A code the server has not seen yet: this step's, or the next one's (±1 step is allowed). */
function freshCode(secret) {
  let s = t.stepNow()
  while (used.has(s)) s += 1
  used.add(s)
  return t.totp(secret, s)
}

/** The newest registration code sent to `to`, as the development outbox page shows it. */
async function outboxCode(context, to) {
  const p = await context.newPage()
  try {
    await p.goto(`${ISSUER}/dev/outbox`)
    const msg = p.locator('section.outbox-message', { hasText: to }).filter({ hasText: 'registration_code' })
    const body = await msg.first().locator('pre').innerText()
    const m = body.match(/\b(\d{6})\b/)
    assert.ok(m, `no 6-digit code in the outbox message: ${body}`)
    return m[1]
  } finally {
    await p.close()
  }
}

/** On the registration page: gives `email` and the code sent to it. */
async function confirmAddress(context, email) {
  await t.heading(page, 'Регистрация')
  await page.getByLabel('Телефон или электронная почта').fill(email)
  await t.press(page, 'Получить код')

  step = 'register: code'
  assert.match(await t.text(page, 'main'), literally(`Код отправлен на ${email}`))
  await page.getByLabel('Код из сообщения').fill(await outboxCode(context, email))
  await t.press(page, 'Подтвердить')
}

async function register(context) {
  step = 'register: address'
  await page.goto(`${ISSUER}/register`)
  await shot('register')
  await confirmAddress(context, EMAIL)

  step = 'register: password'
  assert.match(await t.text(page, 'main'), /не короче 15 символов/)
  await page.getByLabel('Пароль', { exact: true }).fill('мой пароль')
  await page.getByLabel('Пароль ещё раз').fill('мой пароль')
  await t.press(page, 'Создать учётную запись')
  assert.equal(await t.text(page, '[role=alert]'), 'Пароль должен быть не короче 15 символов.')
  await page.getByLabel('Пароль', { exact: true }).fill(PASSWORD)
  await page.getByLabel('Пароль ещё раз').fill(PASSWORD)
  await t.press(page, 'Создать учётную запись')
  assert.match(await t.text(page, 'main'), literally(`Учётная запись создана. Войдите, указав ${EMAIL}`))
}

async function signIn(expectClient) {
  await t.heading(page, 'Вход в учётную запись')
  assert.equal(await t.text(page, 'main p.muted strong'), expectClient)
  await page.getByLabel('Телефон, e-mail или логин').fill(EMAIL)
  await page.getByLabel('Пароль', { exact: true }).fill(PASSWORD)
}

async function enrolTotp() {
  step = 'account: sign in'
  // The page that says the account is ready leads on to the personal account.
  await page.getByRole('link', { name: 'Войти в личный кабинет' }).click()
  await signIn('vhod')
  await shot('login')
  await t.press(page, 'Войти')
  await t.heading(page, 'Личный кабинет')
  const main = await t.text(page, 'main')
  assert.match(main, literally(EMAIL))
  assert.match(main, /Второй фактор\s+не подключён/)

  step = 'account: authenticator app'
  await page.getByRole('link', { name: 'Подключить приложение-аутентификатор' }).click()
  await t.heading(page, 'Приложение-аутентификатор')
  assert.equal(await page.locator('.qr svg').count(), 1, 'no QR code on the enrolment page')
  await shot('totp-enrol')
  const secret = t.base32Decode(await t.text(page, '#secret'))
  assert.ok(secret.length >= 16, 'the key shown is shorter than 128 bits')
  await page.getByLabel('Код', { exact: true }).fill(freshCode(secret))
  await t.press(page, 'Подключить')
  await t.heading(page, 'Приложение-аутентификатор')
  const codes = await page.locator('ol.recovery-codes li').allInnerTexts()
  assert.equal(codes.length, 10, 'ten recovery codes are shown')
  for (const c of codes) assert.match(c.trim(), /^[0-9A-Z]{5}-[0-9A-Z]{5}$/)
  assert.equal(new Set(codes).size, 10, 'the recovery codes differ')
  await shot('recovery-codes')
  await page.getByRole('link', { name: 'Личный кабинет' }).click()
  await t.heading(page, 'Личный кабинет')
  assert.match(await t.text(page, 'main'), /Второй фактор\s+приложение-аутентификатор/)
  return secret
}

/** Sends the browser to the client's authorization request; what the client keeps. */
async function startAuthorization() {
  step = 'client: authorization request'
  const meta = await (await fetch(`${ISSUER}/.well-known/openid-configuration`)).json()
  const { verifier, challenge } = t.pkce()
  const state = t.random()
  const nonce = t.random()
  const auth = new URL(meta.authorization_endpoint)
  auth.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile email offline_access',
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  })
  await page.goto(auth.href)
  return { meta, verifier, state, nonce }
}

/**
 * On the consent page: checks it, allows, and as the client checks the callback, redeems the
 * code and verifies the ID token. Resolves with the token response and the ID token claims.
 */
async function consentAndRedeem(rp, { meta, verifier, state, nonce }, shotName) {
  step = 'client: consent'
  await t.heading(page, 'Разрешить доступ')
  const main = await t.text(page, 'main')
  assert.ok(main.includes(CLIENT_NAME), 'the consent page names the client')
  assert.deepEqual(await page.locator('ul.claims li').allInnerTexts(), [
    'Ваш идентификатор в системе',
    'Имя, фамилия и другие данные профиля',
    'Адрес электронной почты',
    'Доступ, пока вы не в сети (долгосрочный)',
  ])
  if (shotName) await shot(shotName)
  const landed = rp.next()
  await t.press(page, 'Разрешить')
  const cb = await landed
  await t.heading(page, 'Test client: callback')
  assert.equal(cb.pathname, '/cb')
  assert.equal(cb.searchParams.get('state'), state)
  assert.equal(cb.searchParams.get('iss'), ISSUER)
  const code = cb.searchParams.get('code')
  assert.ok(code, `no code at the callback: ${cb}`)

  step = 'client: token'
  const tok = await t.tokenRequest(meta.token_endpoint, CLIENT_ID, CLIENT_SECRET, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: verifier,
  })
  assert.equal(tok.status, 200, told(tok))
  assert.ok(tok.body.access_token && tok.body.refresh_token && tok.body.id_token, told(tok))
  const jwks = await (await fetch(meta.jwks_uri)).json()
  const claims = t.verifyIdToken(tok.body.id_token, jwks, { issuer: ISSUER, clientId: CLIENT_ID, nonce })
  return { tok, claims }
}

async function signInToClient(secret, rp) {
  const pending = await startAuthorization()

  step = 'client: password'
  await signIn(CLIENT_NAME)
  await t.press(page, 'Войти')

  step = 'client: app code'
  await t.heading(page, 'Код из приложения')
  assert.equal(await t.text(page, 'main p.muted strong'), CLIENT_NAME)
  await shot('totp')
  // The code that turned the app on was used once; it is refused (replayed, or too old).
  const first = [...used][0]
  await page.getByLabel('Код', { exact: true }).fill(t.totp(secret, first))
  await t.press(page, 'Подтвердить')
  assert.equal(await t.text(page, '[role=alert]'), 'Неверный или уже использованный код.')
  await page.getByLabel('Код', { exact: true }).fill(freshCode(secret))
  await t.press(page, 'Подтвердить')

  const { tok, claims } = await consentAndRedeem(rp, pending, 'consent')
  const { meta } = pending
  assert.ok(claims.amr.includes('otp'), `amr ${claims.amr} lacks otp`)

  step = 'client: refresh'
  const ref = await t.tokenRequest(meta.token_endpoint, CLIENT_ID, CLIENT_SECRET, {
    grant_type: 'refresh_token',
    refresh_token: tok.body.refresh_token,
  })
  assert.equal(ref.status, 200, told(ref))
  assert.ok(ref.body.access_token && ref.body.refresh_token, told(ref))
  assert.notEqual(ref.body.refresh_token, tok.body.refresh_token, 'the refresh token rotates')
  const ui = await userinfo(meta, ref.body.access_token)
  assert.equal(ui.status, 200)
  assert.equal(ui.body.email, EMAIL)
  // The rotated refresh token is not used again before the revocation, so only the
  // revocation can make it fail below.
  return { meta, refreshToken: ref.body.refresh_token, accessToken: ref.body.access_token }
}

async function userinfo(meta, accessToken) {
  const res = await fetch(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${accessToken}` } })
  return { status: res.status, body: res.status === 200 ? await res.json() : await res.text() }
}

async function accountPages(tokens) {
  step = 'account: overview'
  await page.goto(`${ISSUER}/account`)
  await t.heading(page, 'Личный кабинет')
  await shot('account')

  step = 'account: sessions'
  await page.getByRole('link', { name: 'Активные входы' }).click()
  await t.heading(page, 'Активные входы')
  assert.match(await t.text(page, 'section.session'), /этот браузер/)
  await shot('sessions')
  await page.getByRole('link', { name: 'Личный кабинет' }).click()

  step = 'account: history'
  await page.getByRole('link', { name: 'История входов' }).click()
  await t.heading(page, 'История входов')
  const rows = await page.locator('table.history tbody tr').allInnerTexts()
  assert.ok(rows.length >= 2, `two sign-ins at least, got ${rows.length}`)
  assert.ok(rows.some((r) => /otp/.test(r)), 'the sign-in with the app code is listed')
  await shot('history')

  step = 'account: identity'
  await page.goto(`${ISSUER}/account/identity`)
  await t.heading(page, 'Паспорт и СНИЛС')
  await shot('identity')
  await page.goto(`${ISSUER}/account`)

  step = 'account: services'
  await page.getByRole('link', { name: 'Сервисы с доступом' }).click()
  await t.heading(page, 'Сервисы с доступом')
  const service = page.locator(`section.service[data-client="${CLIENT_ID}"]`)
  assert.equal(await service.locator('h2').innerText(), CLIENT_NAME)
  assert.ok((await service.locator('li').allInnerTexts()).includes('Адрес электронной почты'))
  assert.match(await service.locator('p.muted').innerText(), /^Разрешено: \d{4}-\d\d-\d\d \d\d:\d\d$/)
  await shot('services')
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    service.getByRole('button', { name: 'Отозвать доступ' }).click(),
  ])
  await t.heading(page, 'Сервисы с доступом')
  assert.equal(await page.locator('section.service').count(), 0)
  assert.match(await t.text(page, 'main'), /Вы пока не давали доступ ни одному сервису\./)

  step = 'client: after revocation'
  const ref = await t.tokenRequest(tokens.meta.token_endpoint, CLIENT_ID, CLIENT_SECRET, {
    grant_type: 'refresh_token',
    refresh_token: tokens.refreshToken,
  })
  assert.equal(ref.status, 400, told(ref))
  assert.equal(ref.body.error, 'invalid_grant')
  const ui = await userinfo(tokens.meta, tokens.accessToken)
  assert.equal(ui.status, 401, `userinfo after revocation: ${ui.status} ${JSON.stringify(ui.body)}`)
}

async function passkeys(rp) {
  step = 'passkeys: virtual authenticator'
  const authenticator = await t.virtualAuthenticator(page)

  step = 'passkeys: add'
  await page.goto(`${ISSUER}/account`)
  await page.getByRole('link', { name: 'Ключи доступа' }).click()
  await t.heading(page, 'Ключи доступа')
  assert.match(await t.text(page, 'main'), /Ключей доступа пока нет\./)
  await page.getByLabel('Название', { exact: true }).fill('Ноутбук')
  await page.getByLabel('Пароль', { exact: true }).fill(PASSWORD)
  await t.press(page, 'Продолжить')
  await t.heading(page, 'Ключи доступа')
  await shot('passkey-add')
  // /static/passkey.js runs navigator.credentials.create() and posts the answer.
  await t.press(page, 'Создать ключ доступа')
  await t.heading(page, 'Ключи доступа')
  const row = await page.locator('table tr', { hasText: 'Ноутбук' }).first().innerText()
  assert.match(row, /ещё не использовался/)
  const held = await authenticator.credentials()
  assert.equal(held.length, 1, 'the authenticator holds one passkey')
  assert.ok(held[0].isResidentCredential, 'the passkey is discoverable')
  await shot('passkeys')

  step = 'passkeys: sign out'
  await page.goto(`${ISSUER}/account`)
  await t.press(page, 'Выйти')
  await t.heading(page, 'Выход')
  assert.match(await t.text(page, 'main'), /Вы вышли из учётной записи\./)

  step = 'passkeys: passwordless sign-in'
  const pending = await startAuthorization()
  await t.heading(page, 'Вход в учётную запись')
  await page.getByRole('link', { name: 'Войти с ключом доступа' }).click()
  await t.heading(page, 'Ключ доступа')
  assert.equal(await t.text(page, 'main p.muted strong'), CLIENT_NAME)
  await shot('passkey-sign-in')
  // navigator.credentials.get() with no allowed list: the discoverable passkey names the
  // account, so neither the login nor the password is typed.
  await t.press(page, 'Использовать ключ доступа')
  // The client's access was revoked above, so the consent is asked again.
  const { claims } = await consentAndRedeem(rp, pending)
  assert.ok(claims.amr.includes('hwk'), `amr ${claims.amr} lacks hwk`)
  assert.ok(!claims.amr.includes('pwd'), `amr ${claims.amr}: no password was given`)

  step = 'passkeys: last use shown'
  await page.goto(`${ISSUER}/account/passkeys`)
  await t.heading(page, 'Ключи доступа')
  const used = await page.locator('table tr', { hasText: 'Ноутбук' }).first().innerText()
  assert.doesNotMatch(used, /ещё не использовался/)
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true })
  const vhod = await startVhod(env('VHOD_BIN'), CLIENT_NAME)
  ;({ issuer: ISSUER, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, deviceClientId: DEVICE_CLIENT_ID } = vhod)
  REDIRECT_URI = `http://127.0.0.1:${vhod.callbackPort}/cb`
  let browser, rp
  try {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      // Chromium's sandbox refuses to run as root.
      chromiumSandbox: process.getuid?.() !== 0,
    })
    rp = await t.callbackServer(vhod.callbackPort)
    await people(browser, rp)
  } catch (e) {
    console.error(`browser: failed; last server log lines:\n${vhod.logTail(30)}`)
    throw e
  } finally {
    await rp?.close()
    await browser?.close()
    await vhod.stop()
  }
  console.log(`browser test: ok (screenshots in ${SHOTS})`)
}

/** Steps 1-8 (above), each in the browser context a person would have. */
async function people(browser, rp) {
  const options = { locale: 'ru-RU', viewport: t.PHONE }
  try {
    // One browser registers and turns the app on...
    const first = await browser.newContext(options)
    page = await first.newPage()
    await register(first)
    const secret = await enrolTotp()
    await first.close()
    // ... a fresh one (nobody signed in) signs in to the client and manages the account.
    const second = await browser.newContext(options)
    page = await second.newPage()
    const tokens = await signInToClient(secret, rp)
    await accountPages(tokens)
    // ... adds a passkey there, signs out, and signs in to the client with it alone.
    await passkeys(rp)
    await second.close()
    // ... and a newcomer registers on the way to the client.
    const third = await browser.newContext(options)
    page = await third.newPage()
    const newcomerSession = await newcomer(third, rp)
    // ... and, signed in on the phone, lets a television in.
    await device()
    // ... and the client signs them out, in its own pages too.
    await frontChannelLogout(rp, newcomerSession)
    await third.close()
  } catch (e) {
    let where = ''
    try {
      where = ` at ${page.url()}`
      await page.screenshot({ path: path.join(SHOTS, 'failure.png'), fullPage: true })
      where += ` (page text: ${JSON.stringify((await page.locator('body').innerText()).slice(0, 600))})`
    } catch {
      // the page itself may be gone
    }
    throw new Error(`browser test failed at step "${step}"${where}`, { cause: e })
  }
}

/** Step 6: a newcomer registers from the client's sign-in page and goes on to the client. */
async function newcomer(context, rp) {
  step = 'newcomer: the sign-in page links to registration'
  const pending = await startAuthorization()
  await t.heading(page, 'Вход в учётную запись')
  await page.getByRole('link', { name: 'Создать учётную запись' }).click()
  const email = `newcomer-${Date.now()}@example.com`
  await confirmAddress(context, email)
  step = 'newcomer: password'
  await page.getByLabel('Пароль', { exact: true }).fill(PASSWORD)
  await page.getByLabel('Пароль ещё раз').fill(PASSWORD)
  await t.press(page, 'Создать учётную запись')
  // No second sign-in: the consent page for the client comes next.
  const { tok, claims } = await consentAndRedeem(rp, pending)
  assert.deepEqual(claims.amr, ['pwd'])
  assert.equal(claims.acr, 'simplified')
  const ui = await userinfo(pending.meta, tok.body.access_token)
  assert.equal(ui.status, 200)
  assert.equal(ui.body.email, email)
  return { idToken: tok.body.id_token, sid: claims.sid }
}

/**
 * Step 8: the client signs the newcomer out (RP-initiated logout with `id_token_hint`). The
 * logout page loads the client's front-channel logout page in an iframe, with `iss` and the
 * session's `sid`, then the browser goes back to the client's post-logout page with `state`.
 */
async function frontChannelLogout(rp, { idToken, sid }) {
  step = 'front-channel logout'
  assert.ok(sid, 'the ID token names its session')
  rp.clear()
  const meta = await (await fetch(`${ISSUER}/.well-known/openid-configuration`)).json()
  assert.equal(meta.frontchannel_logout_supported, true)
  assert.equal(meta.frontchannel_logout_session_supported, true)
  const state = t.random()
  const logout = new URL(meta.end_session_endpoint)
  logout.search = new URLSearchParams({
    id_token_hint: idToken,
    post_logout_redirect_uri: new URL('/bye', REDIRECT_URI).href,
    state,
  })
  const back = rp.next()
  await page.goto(logout.href)
  const bye = await back
  assert.equal(bye.pathname, '/bye')
  assert.equal(bye.searchParams.get('state'), state)
  await t.heading(page, 'Test client: callback')
  assert.equal(rp.frontChannel.length, 1, `front-channel requests: ${rp.frontChannel.join(' ')}`)
  const fc = rp.frontChannel[0]
  assert.equal(fc.searchParams.get('iss'), ISSUER)
  assert.equal(fc.searchParams.get('sid'), sid)

  step = 'front-channel logout: signed out'
  await page.goto(`${ISSUER}/account`)
  await t.heading(page, 'Вход в учётную запись')
}

/** Step 7: the device authorization grant, with the person already signed in on the phone. */
async function device() {
  step = 'device: the television asks for codes'
  const meta = await (await fetch(`${ISSUER}/.well-known/openid-configuration`)).json()
  const form = (params) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: DEVICE_CLIENT_ID, ...params }),
  })
  const asked = await fetch(meta.device_authorization_endpoint, form({ scope: 'openid profile' }))
  assert.equal(asked.status, 200)
  const codes = await asked.json()
  const poll = async () => {
    const r = await fetch(meta.token_endpoint, form({
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: codes.device_code,
    }))
    return { status: r.status, body: await r.json() }
  }
  const pending = await poll()
  assert.equal(pending.body.error, 'authorization_pending', told(pending))

  step = 'device: the person types the code'
  await page.goto(codes.verification_uri)
  await t.heading(page, 'Вход на устройстве')
  await shot('device-code')
  await page.getByLabel('Код с устройства').fill(codes.user_code.toLowerCase())
  await t.press(page, 'Продолжить')

  step = 'device: consent'
  await t.heading(page, 'Разрешить доступ')
  const main = await t.text(page, 'main')
  assert.ok(main.includes(DEVICE_CLIENT_NAME), 'the consent page names the television')
  assert.match(main, literally('Продолжайте, только если код на нём вы получили сами'))
  await shot('device-consent')
  await t.press(page, 'Разрешить')
  await t.heading(page, 'Вход на устройстве')
  assert.match(await t.text(page, 'main'), literally('Вернитесь к устройству'))
  await shot('device-done')

  step = 'device: the television polls'
  const tok = await poll()
  assert.equal(tok.status, 200, told(tok))
  const jwks = await (await fetch(meta.jwks_uri)).json()
  const claims = t.verifyIdToken(tok.body.id_token, jwks, { issuer: ISSUER, clientId: DEVICE_CLIENT_ID })
  assert.deepEqual(claims.amr, ['pwd'])
  const ui = await userinfo(meta, tok.body.access_token)
  assert.equal(ui.status, 200)
  assert.equal(ui.body.sub, claims.sub)
}

for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130))
await main()

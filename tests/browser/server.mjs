// A fresh vhod for the browser test: a temporary data directory, a test client (with a
// post-logout redirect URI and a front-channel logout page on its callback port) and a device
// client registered with the CLI (`vhod clients add --json`), then `vhod serve` in development mode (so the
// outbox page /dev/outbox exists) on a free loopback port, ready once /readyz answers 200.
// The issuer is `http://localhost:PORT`: passkeys need a host name (browsers refuse an IP
// address as a WebAuthn RP ID), and localhost is a secure context over plain HTTP.
// stop() ends the server and removes the directory (kept with BROWSER_KEEP=1).

import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

/** A loopback port nobody listens on right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** The name of the device client `startVhod` registers. */
export const DEVICE_CLIENT_NAME = 'Телевизор в гостиной'

/**
 * Starts `bin` with a client named `clientName` whose redirect URI is on another free port.
 * Also registers a public device client (`DEVICE_CLIENT_NAME`). Resolves with
 * `{ issuer, clientId, clientSecret, deviceClientId, callbackPort, logTail(n), stop() }`.
 */
export async function startVhod(bin, clientName) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vhod-browser.'))
  const data = path.join(work, 'data')
  const logFile = path.join(work, 'vhod.log')
  const port = await freePort()
  const callbackPort = await freePort()
  const issuer = `http://localhost:${port}`
  const env = {
    ...process.env,
    VHOD_MODE: 'development',
    VHOD_LISTEN: `127.0.0.1:${port}`,
    VHOD_ISSUER: issuer,
  }

  const added = execFileSync(
    bin,
    ['clients', 'add', '--data-dir', data, '--name', clientName,
      '--redirect-uri', `http://127.0.0.1:${callbackPort}/cb`,
      '--post-logout-redirect-uri', `http://127.0.0.1:${callbackPort}/bye`,
      '--frontchannel-logout-uri', `http://127.0.0.1:${callbackPort}/fc`,
      '--frontchannel-logout-session-required', '--json'],
    { env, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const { client_id: clientId, client_secret: clientSecret } = JSON.parse(added)
  // A television's app: a public client of the device authorization grant (RFC 8628).
  const device = execFileSync(
    bin,
    ['clients', 'add', '--data-dir', data, '--name', DEVICE_CLIENT_NAME, '--public',
      '--grant-type', 'device_code', '--json'],
    { env, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const { client_id: deviceClientId } = JSON.parse(device)

  const log = fs.openSync(logFile, 'w')
  const child = spawn(bin, ['serve', '--data-dir', data], { env, stdio: ['ignore', log, log] })
  fs.closeSync(log)
  // However this process ends (an uncaught error, a signal handler's exit), vhod ends too.
  process.once('exit', () => exited === null && child.kill('SIGTERM'))
  let exited = null
  const done = new Promise((resolve) => child.once('exit', (code, signal) => {
    exited = signal ?? code
    resolve()
  }))

  const logTail = (n) => fs.readFileSync(logFile, 'utf8').split('\n').slice(-n - 1).join('\n')
  const stop = async () => {
    if (exited === null) {
      child.kill('SIGTERM')
      await done
    }
    if (process.env.BROWSER_KEEP === '1') console.error(`browser: kept ${work}`)
    else fs.rmSync(work, { recursive: true, force: true })
  }

  for (let i = 0; i < 100; i += 1) {
    if (exited !== null) {
      const tail = logTail(50)
      await stop()
      throw new Error(`vhod exited (${exited}) before becoming ready:\n${tail}`)
    }
    const ok = await fetch(`${issuer}/readyz`).then((r) => r.ok, () => false)
    if (ok) return { issuer, clientId, clientSecret, deviceClientId, callbackPort, logTail, stop }
    await sleep(200)
  }
  const tail = logTail(50)
  await stop()
  throw new Error(`vhod not ready at ${issuer}/readyz after 20 s:\n${tail}`)
}

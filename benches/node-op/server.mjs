// node-oidc-provider with a configuration of its own, for benches/load.sh: a confidential
// client_credentials client receiving ES256 JWT access tokens, and a code-flow client
// (PKCE required) using the built-in development login and consent forms.
//
// The development login accepts any login and password. For the account `carol` it is made to
// check the password as a real deployment's login would, and as vhod does: argon2id with
// OWASP's parameters (19 MiB, 2 passes, 1 lane), through @node-rs/argon2. Its verification is
// synchronous, on the main thread, so the process CPU time read around it is the check's own
// (plus anything another thread of the process ran meanwhile); the running total is served at
// GET /bench/password-check-cpu (seconds) for the benchmark to subtract. Other logins keep the
// development behaviour: no password check.
import { generateKeyPairSync } from 'node:crypto';
import { Algorithm, hashSync, verifySync } from '@node-rs/argon2';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 3000);
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...privateKey.export({ format: 'jwk' }), alg: 'ES256', use: 'sig', kid: 'bench-es256' };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'cc',
      client_secret: 'cc-secret-0123456789abcdef0123456789abcdef',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: 'web',
      client_secret: 'web-secret-0123456789abcdef0123456789abcdef',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1:9/cb'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [jwk] },
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
  enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
  pkce: { required: () => true },
  cookies: { keys: ['bench-cookie-signing-key-0123456789'] },
  scopes: ['openid', 'profile', 'email', 'api'],
  claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (ctx, client) => (client?.clientId === 'cc' ? 'urn:bench:api' : undefined),
      useGrantedResource: () => false,
      getResourceServerInfo: () => ({
        scope: 'api',
        audience: 'urn:bench:api',
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, name: 'Alice Example', email: 'alice@example.com', email_verified: true };
      },
    };
  },
});
const passwords = new Map([
  ['carol', hashSync('bench password, long enough', { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 })],
]);
let checkMicros = 0;
provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path === '/bench/password-check-cpu') {
    ctx.type = 'text/plain';
    ctx.body = String(checkMicros / 1e6);
    return;
  }
  if (ctx.method === 'POST' && /^\/interaction\/[^/]+$/.test(ctx.path) && ctx.is('application/x-www-form-urlencoded')) {
    const chunks = [];
    for await (const chunk of ctx.req) chunks.push(chunk);
    const raw = Buffer.concat(chunks).toString('utf8');
    // node-oidc-provider parses a body an upstream middleware has read (selective_body.js).
    ctx.request.body = raw;
    const form = new URLSearchParams(raw);
    const stored = form.get('prompt') === 'login' && passwords.get(form.get('login'));
    if (stored) {
      const before = process.cpuUsage();
      const ok = verifySync(stored, form.get('password') || '');
      const used = process.cpuUsage(before);
      checkMicros += used.user + used.system;
      if (!ok) {
        ctx.status = 401;
        ctx.body = 'wrong password';
        return;
      }
    }
  }
  await next();
});
provider.listen(port, '127.0.0.1', () => console.log(`node-oidc-provider listening on ${issuer}`));

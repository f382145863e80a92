// node-oidc-provider, an OpenID Certified OP, with a configuration of its own, for
// conformance/calibrate.sh: the runner's plans must find no FAILED module here, or the runner
// is wrong. Served over TLS (certificate from conformance/tls.sh); PKCE required; the
// built-in development login and consent pages; four static clients (one told of logouts
// over the back channel); every standard claim.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `https://127.0.0.1:${port}`;
const redirect = 'http://127.0.0.1:9/cb';
const common = {
  redirect_uris: [redirect],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
};

const provider = new Provider(issuer, {
  clients: [
    {
      ...common,
      client_id: 'conf',
      client_secret: 'conf-secret-0123456789abcdef0123456789abcdef',
      token_endpoint_auth_method: 'client_secret_basic',
      post_logout_redirect_uris: ['http://127.0.0.1:9/logged-out'],
    },
    {
      ...common,
      client_id: 'conf2',
      client_secret: 'conf2-secret-0123456789abcdef0123456789abcdef',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      ...common,
      client_id: 'conf-post',
      client_secret: 'conf-post-secret-0123456789abcdef0123456789ab',
      token_endpoint_auth_method: 'client_secret_post',
    },
    {
      ...common,
      client_id: 'conf-bc',
      client_secret: 'conf-bc-secret-0123456789abcdef0123456789abcd',
      token_endpoint_auth_method: 'client_secret_basic',
      post_logout_redirect_uris: ['http://127.0.0.1:9/logged-out'],
      backchannel_logout_uri: process.env.BACKCHANNEL_LOGOUT_URI,
      backchannel_logout_session_required: true,
    },
  ],
  pkce: { required: () => true },
  // The provider refuses outgoing requests to loopback and private addresses (SSRF
  // protection, through the dispatcher it passes here); the runner's back-channel logout
  // listener is on 127.0.0.1, so this harness lets requests go there.
  fetch: (url, options) => {
    delete options.dispatcher;
    return fetch(url, options);
  },
  // The authorization endpoint also answers POST (oidcc-ensure-post-request-succeeds); the
  // provider then needs its session cookie sent on cross-site POSTs.
  enableHttpPostMethods: true,
  cookies: { keys: ['calibration-cookie-key-0123456789abcdef'], long: { sameSite: 'none' } },
  scopes: ['openid', 'offline_access', 'profile', 'email', 'address', 'phone'],
  claims: {
    acr: null,
    auth_time: null,
    sid: null,
    address: ['address'],
    email: ['email', 'email_verified'],
    phone: ['phone_number', 'phone_number_verified'],
    profile: ['name', 'family_name', 'given_name', 'preferred_username', 'locale', 'updated_at'],
  },
  features: {
    devInteractions: { enabled: true },
    claimsParameter: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    backchannelLogout: { enabled: true },
  },
  // Refresh tokens for every client allowed the grant (the default also needs offline_access).
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          name: 'Alice Example',
          given_name: 'Alice',
          family_name: 'Example',
          preferred_username: id,
          locale: 'en',
          updated_at: 1700000000,
          email: 'alice@example.com',
          email_verified: true,
          phone_number: '+79990001122',
          phone_number_verified: true,
          address: { formatted: '1 Tverskaya St, Moscow 125009, Russia', country: 'RU' },
        };
      },
    };
  },
});

// Back-channel logout deliveries in the log (the provider only emits them).
provider.on('backchannel.success', (ctx, client) =>
  console.log(`back-channel logout delivered to ${client.clientId}`),
);
provider.on('backchannel.error', (ctx, err, client) =>
  console.error(`back-channel logout to ${client.clientId} failed: ${err.message} ${err.cause ?? ""}`),
);

const tls = { cert: readFileSync(process.env.TLS_CERT), key: readFileSync(process.env.TLS_KEY) };
createServer(tls, provider.callback()).listen(port, '127.0.0.1', () =>
  console.log(`node-oidc-provider listening on ${issuer}`),
);

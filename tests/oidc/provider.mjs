// A real OpenID provider for Outloud's OpenID Connect tests
// (tests/integration/oidc*.rs): panva's `oidc-provider` (pinned in
// package.json) on 127.0.0.1, with one confidential client, PKCE required,
// and accounts read from a JSON file at every request, so a test can move a
// person between groups (or delete them) between two sign-ins.
//
//   node provider.mjs PORT
//
// Environment:
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET   the client
//   OIDC_REDIRECT_URIS                   its redirect URIs, space-separated
//   OIDC_STATE                           path of a JSON file:
//     { "accounts": { "<sub>": { "preferred_username": "...", "email": "...",
//                                "email_verified": true, "groups": [...] } },
//       "tamper": "none" | "forged" | "expired" | "audience" | "nonce" }
//
// "tamper" rewrites the `id_token` of /token answers: `forged` re-signs it
// with a key the provider never published; `expired`, `audience` and
// `nonce` re-sign it with the provider's own key but an `exp` an hour ago,
// another client as `aud`, or another `nonce`. Outloud must refuse each.
//
// Interactions are this file's own, for a program to drive: GET
// /interaction/:uid answers a small form; POST /interaction/:uid/login
// with `login=<sub>` signs that account in. Consent is implied (the one
// client is first-party), by `loadExistingGrant`.
//
// Prints `listening <issuer>` on stdout once it accepts connections.

import Provider from 'oidc-provider';
import { generateKeyPairSync, createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';

const port = Number(process.argv[2] || process.env.OIDC_PORT);
if (!port) {
  console.error('usage: node provider.mjs PORT');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

function state() {
  return JSON.parse(readFileSync(process.env.OIDC_STATE, 'utf8'));
}

function rsaKey(kid) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, jwk: { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' } };
}
const signing = rsaKey('provider-key');
const stranger = rsaKey('provider-key'); // same kid, never published

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
function sign(header, payload, privateKey) {
  const input = `${b64(header)}.${b64(payload)}`;
  const signature = createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url');
  return `${input}.${signature}`;
}
function tamper(idToken, mode) {
  const [h, p] = idToken.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const payload = JSON.parse(Buffer.from(p, 'base64url'));
  if (mode === 'forged') {
    return sign(header, payload, stranger.privateKey);
  }
  if (mode === 'expired') {
    const now = Math.floor(Date.now() / 1000);
    return sign(header, { ...payload, iat: now - 7200, exp: now - 3600 }, signing.privateKey);
  }
  if (mode === 'audience') {
    return sign(header, { ...payload, aud: 'another-client' }, signing.privateKey);
  }
  if (mode === 'nonce') {
    return sign(header, { ...payload, nonce: 'not-the-nonce-sent' }, signing.privateKey);
  }
  return idToken;
}

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.OIDC_CLIENT_ID,
    client_secret: process.env.OIDC_CLIENT_SECRET,
    redirect_uris: (process.env.OIDC_REDIRECT_URIS || '').split(' ').filter(Boolean),
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  }],
  jwks: { keys: [signing.jwk] },
  cookies: { keys: ['outloud-test-provider-cookie-key'] },
  pkce: { required: () => true },
  // The scopes' claims go into the ID token itself (Outloud reads groups
  // there), not only into userinfo.
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name', 'groups'],
    email: ['email', 'email_verified'],
  },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const grant = await ctx.oidc.provider.Grant.find(grantId);
      if (grant) return grant;
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile email offline_access');
    await grant.save();
    return grant;
  },
  async findAccount(_ctx, sub) {
    const account = state().accounts[sub];
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        // Read again: the test may have changed the groups since.
        return { sub, ...(state().accounts[sub] || {}) };
      },
    };
  },
});
provider.proxy = false;

provider.use(async (ctx, next) => {
  const interaction = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (interaction && ctx.method === 'GET' && !interaction[2]) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    ctx.type = 'html';
    ctx.body = `<!doctype html><title>Test provider</title><link rel="icon" href="data:,">
<form method="post" action="/interaction/${details.uid}/login">
<input name="login" placeholder="account"><button>Sign in</button></form>`;
    return;
  }
  if (interaction && ctx.method === 'POST' && interaction[2]) {
    const body = await new Promise((resolve) => {
      let data = '';
      ctx.req.on('data', (chunk) => { data += chunk; });
      ctx.req.on('end', () => resolve(new URLSearchParams(data)));
    });
    const login = body.get('login');
    const result = state().accounts[login]
      ? { login: { accountId: login } }
      : { error: 'access_denied', error_description: 'no such test account' };
    await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.respond = false;
    return;
  }
  await next();
  if (ctx.path === '/token' && ctx.body && ctx.body.id_token) {
    const mode = state().tamper || 'none';
    if (mode !== 'none') {
      ctx.body = { ...ctx.body, id_token: tamper(ctx.body.id_token, mode) };
    }
  }
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});

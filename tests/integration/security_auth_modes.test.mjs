// Authentication is on unless switched off explicitly: --no-auth serves
// anonymous requests but says so loudly on stderr; a server with auth on and
// no keys at all still starts, and refuses every generation with 401; a
// JWT-only server takes its HS256 secret from the environment.
import crypto from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startServer, check, finish, modelId, request, isOpenAIError, requireClient } from './serve_lib.mjs';
import { complete, exportLog, sleep, createKey } from './security_lib.mjs';

// --no-auth: anonymous requests are served, with a warning.
{
  const srv = await startServer(['--no-auth'], { apiKey: null });
  try {
    const { url, ca, state } = srv;
    check(/WARNING: authentication is DISABLED/.test(srv.stderr()), `loud warning on stderr: ${srv.stderr()}`);
    const model = await modelId(url, ca).catch(() => null);
    check(model !== null, 'GET /v1/models without a key');
    const r = await complete(url, ca, model, '');
    check(r.status === 200, `completion without a key: ${r.status} ${r.body.slice(0, 200)}`);
    const junk = await complete(url, ca, model, 'anything-at-all');
    check(junk.status === 200, `completion with a junk key: ${junk.status}`);
    const rows = await (async () => {
      for (let i = 0; i < 100; i++) {
        const got = exportLog(`sqlite:${path.join(state, 'requests.db')}`);
        if (got.length >= 2) return got;
        await sleep(100);
      }
      return [];
    })();
    check(rows.length === 2 && rows.every((x) => x.principal === 'anonymous'), `rows logged as anonymous: ${JSON.stringify(rows.map((x) => x.principal))}`);
  } finally {
    const code = await srv.stop();
    check(code === 0, `--no-auth server exited ${code} on SIGTERM`);
  }
}

// Auth on, no static key, no JWT, an empty key file: starts, refuses.
{
  const srv = await startServer([], { apiKey: null });
  try {
    const { url, ca, state } = srv;
    check(!/authentication is DISABLED/.test(srv.stderr()), 'no auth-disabled warning when auth is on');
    const models = await request(url, ca, { path: '/v1/models', key: '' });
    check(models.status === 401 && isOpenAIError(models.body), `GET /v1/models without a key: ${models.status}`);
    const health = await request(url, ca, { path: '/health', key: '' });
    check(health.status === 200, `/health needs no key: ${health.status}`);
    for (const [name, key] of [['no key', ''], ['a made-up key', 'sk-made-up-0123456789abcdef']]) {
      const r = await complete(url, ca, 'whatever', key);
      check(r.status === 401 && isOpenAIError(r.body) && JSON.parse(r.body).error.code === 'invalid_api_key',
        `${name} with no keys configured: ${r.status} ${r.body.slice(0, 200)}`);
    }
    // A key created while the server runs works at once (no restart).
    const k = createKey(state, ['--name', 'late']);
    const withKey = await request(url, ca, { path: '/v1/models', key: k.key });
    check(withKey.status === 200, `a key created after start works: ${withKey.status}`);
    if (withKey.status === 200) {
      const id = JSON.parse(withKey.body).data[0].id;
      const r = await complete(url, ca, id, k.key);
      check(r.status === 200, `completion with the new key: ${r.status}`);
    }
  } finally {
    const code = await srv.stop();
    check(code === 0, `auth-on server exited ${code} on SIGTERM`);
  }
}
// JWT only, HS256 with a secret from the environment (never on the command
// line): a token signed with it is served, one signed with another secret is
// not; a server whose secret variable is unset refuses to start.
{
  const jose = await import(pathToFileURL(requireClient.resolve('jose')).href);
  // Environment variables are text: a base64 secret, used as its bytes.
  const secret = Buffer.from(crypto.randomBytes(32).toString('base64'));
  const sign = (key, sub) => new jose.SignJWT({ sub }).setProtectedHeader({ alg: 'HS256' })
    .setIssuer('iss-hs').setAudience('aud-hs').setIssuedAt().setExpirationTime('5m').sign(key);
  const jwtArgs = ['--jwt-enabled', 'true', '--jwt-issuer', 'iss-hs', '--jwt-audience', 'aud-hs',
    '--jwt-secret-env', 'TROUPE_E2E_HS_SECRET'];

  delete process.env.TROUPE_E2E_HS_SECRET;
  const refused = await startServer(jwtArgs, { apiKey: null }).then(
    (s) => s.stop().then(() => 'started'), (e) => String(e));
  check(/TROUPE_E2E_HS_SECRET.*not set/.test(refused), `unset secret variable stops the start: ${refused.slice(0, 200)}`);

  process.env.TROUPE_E2E_HS_SECRET = secret.toString();
  const srv = await startServer(jwtArgs, { apiKey: null });
  delete process.env.TROUPE_E2E_HS_SECRET;
  try {
    const { url, ca } = srv;
    const good = await sign(secret, 'hs-user');
    const models = await request(url, ca, { path: '/v1/models', key: good });
    check(models.status === 200, `HS256 token: ${models.status} ${models.body.slice(0, 200)}`);
    if (models.status === 200) {
      const r = await complete(url, ca, JSON.parse(models.body).data[0].id, good);
      check(r.status === 200, `completion with an HS256 token: ${r.status}`);
    }
    const forged = await sign(Buffer.from(crypto.randomBytes(32).toString('base64')), 'hs-user');
    const bad = await request(url, ca, { path: '/v1/models', key: forged });
    check(bad.status === 401, `HS256 token signed with another secret: ${bad.status}`);
  } finally {
    const code = await srv.stop();
    check(code === 0, `JWT-only server exited ${code} on SIGTERM`);
  }
}
finish();

// Authentication is on unless switched off explicitly: --no-auth serves
// anonymous requests but says so loudly on stderr; a server with auth on and
// no keys at all still starts, and refuses every generation with 401.
import path from 'node:path';
import { startServer, check, finish, modelId, request, isOpenAIError } from './serve_lib.mjs';
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
finish();

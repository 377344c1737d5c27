// Failed authentications are throttled per client address: after its burst,
// an address gets 429 + Retry-After (an OpenAI error body) even for a good
// key, while the same good key from another address is served at once (an
// attacker cannot lock a real key out). Loopback addresses 127.0.0.1 and
// 127.0.0.2 play the two sources.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, check, finish, isOpenAIError, API_KEY, skip } from './serve_lib.mjs';

if (process.env.TROUPE_TEST_URL) skip('starts its own server with a small failure budget');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'troupe-throttle-'));
const cfg = path.join(dir, 'troupe.toml');
fs.writeFileSync(cfg, '[limits]\nmax_auth_failures = 5\nauth_failure_refill_ms = 60000\n');
const srv = await startServer(['--config', cfg]);
const { url, ca } = srv;
const mod = url.startsWith('https') ? await import('node:https') : await import('node:http');
const caPem = ca ? fs.readFileSync(ca) : undefined;

function get(p, key, localAddress) {
  return new Promise((resolve, reject) => {
    const headers = key ? { authorization: `Bearer ${key}` } : {};
    mod.get(new URL(p, url), { ca: caPem, agent: false, headers, localAddress }, (res) => {
      let body = ''; res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    }).on('error', reject);
  });
}

for (let i = 0; i < 5; i++) {
  const r = await get('/v1/models', `sk-guess-${i}`, '127.0.0.1');
  check(r.status === 401, `failure ${i + 1} of the burst: 401 (${r.status})`);
}
const refused = await get('/v1/models', 'sk-guess-6', '127.0.0.1');
check(refused.status === 429, `past the burst: 429 (${refused.status})`);
check(isOpenAIError(refused.body) && JSON.parse(refused.body).error.code === 'too_many_auth_failures',
  `429 carries an OpenAI error body (${refused.body.slice(0, 120)})`);
const wait = Number(refused.headers['retry-after']);
check(wait >= 1 && wait <= 60, `Retry-After in seconds (${refused.headers['retry-after']})`);

// The throttled address is refused before its credential is looked at.
const sameAddress = await get('/v1/models', API_KEY, '127.0.0.1');
check(sameAddress.status === 429, `the throttled address is refused even with a good key (${sameAddress.status})`);
// The real key from another address is not affected.
const other = await get('/v1/models', API_KEY, '127.0.0.2');
check(other.status === 200, `the good key from another address: 200 (${other.status})`);
const otherBad = await get('/v1/models', 'sk-wrong', '127.0.0.2');
check(otherBad.status === 401, `another address still has its own budget: 401 (${otherBad.status})`);
// Unauthenticated routes stay open to the throttled address.
const health = await get('/health', '', '127.0.0.1');
check(health.status === 200, `/health still answers the throttled address (${health.status})`);
const metrics = await get('/metrics', '', '127.0.0.2');
const m = /^troupe:auth_throttled_total (\d+)$/m.exec(metrics.body);
check(m && Number(m[1]) >= 2, `troupe:auth_throttled_total counts the refusals (${m && m[1]})`);

const code = await srv.stop();
fs.rmSync(dir, { recursive: true, force: true });
check(code === 0, `serve exits 0 (${code})`);
finish();

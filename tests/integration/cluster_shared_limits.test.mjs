// Keys and rate limits that hold across gateways: two `troupe gateway`s in
// front of one worker share API keys and token buckets in a real PostgreSQL
// server ([auth] keys_db and [limits] shared_url). A key allowed 6 requests
// a minute gets exactly 6 in total, whichever gateway each request reaches,
// with x-ratelimit-remaining counting down across both; a key revoked once
// is refused by both within the key cache TTL; a key created after start
// works on both; with the database gone a rate-limited request is refused
// with 503, never admitted unchecked.
import { check, finish } from './serve_lib.mjs';
import { binAndModel, freePort, startGateway, startWorker, waitFor } from './cluster_lib.mjs';
import { createKey, revokeKey, startPostgres } from './pg_lib.mjs';

const { bin } = binAndModel();
const pg = startPostgres();
const limited = createKey(bin, pg.url, ['--name', 'limited', '--rpm', '6']);
const plain = createKey(bin, pg.url, ['--name', 'plain']);

async function complete(url, key) {
  const res = await fetch(new URL('/v1/completions', url), {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'In the beginning', max_tokens: 1, temperature: 0 }),
  });
  await res.text();
  return { status: res.status, remaining: res.headers.get('x-ratelimit-remaining-requests'),
    retryAfter: res.headers.get('retry-after') };
}

const port = await freePort();
const worker = await startWorker(port);
const shared = ['--keys-db', pg.url, '--limits.shared-url', pg.url, '--key-cache-ttl-ms', '300'];
let g1 = null;
let g2 = null;
try {
  g1 = await startGateway([port], { extra: shared });
  g2 = await startGateway([port], { extra: shared });
  check(!/troupe@/.test(g1.stderr()), 'the PostgreSQL URL is not printed');
  for (const g of [g1, g2]) {
    await waitFor(async () => (await complete(g.url, plain.key)).status === 200, 'a gateway to serve a key from PostgreSQL');
  }

  // Six admissions in total, alternating gateways, counting down together.
  const seen = [];
  for (let i = 0; i < 6; ++i) seen.push(await complete(i % 2 ? g2.url : g1.url, limited.key));
  check(seen.every((r) => r.status === 200), `six requests admitted: ${JSON.stringify(seen)}`);
  check(JSON.stringify(seen.map((r) => r.remaining)) === JSON.stringify(['5', '4', '3', '2', '1', '0']),
    `x-ratelimit-remaining-requests counts down across both gateways: ${seen.map((r) => r.remaining)}`);
  const over = [await complete(g1.url, limited.key), await complete(g2.url, limited.key)];
  check(over.every((r) => r.status === 429 && Number(r.retryAfter) >= 1),
    `the seventh and eighth are refused on both gateways: ${JSON.stringify(over)}`);

  // Concurrent requests from both gateways for a fresh key: exactly its limit.
  const burst = createKey(bin, pg.url, ['--name', 'burst', '--rpm', '5']);
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => complete(i % 2 ? g2.url : g1.url, burst.key)));
  const admitted = results.filter((r) => r.status === 200).length;
  check(admitted === 5 && results.every((r) => r.status === 200 || r.status === 429),
    `12 concurrent requests over two gateways: exactly 5 admitted (got ${admitted}: ${results.map((r) => r.status)})`);

  // A revocation made once reaches both gateways within the cache TTL.
  revokeKey(bin, pg.url, plain.id);
  await new Promise((r) => setTimeout(r, 600));
  const revoked = [await complete(g1.url, plain.key), await complete(g2.url, plain.key)];
  check(revoked.every((r) => r.status === 401), `a revoked key is refused by both gateways: ${revoked.map((r) => r.status)}`);

  // The database gone: the shared limiter refuses rather than admits.
  pg.stop();
  const down = await complete(g2.url, limited.key);
  check(down.status === 503 && down.retryAfter === '1', `with PostgreSQL down a request is refused with 503: ${JSON.stringify(down)}`);
  check(/shared rate limit check failed|API key lookup failed/.test(g2.stderr()), 'the failure is logged');
} catch (e) {
  check(false, `${e.stack}\ngateway stderr: ${g1 ? g1.stderr() : ''}`);
} finally {
  if (g1) await g1.stop();
  if (g2) await g2.stop();
  await worker.stop();
  pg.cleanup();
}
finish();

// Per-key rate limits through the real `troupe serve`: a key made with
// `troupe keys create --rpm R` may burst R requests, then gets 429 with
// Retry-After and OpenAI's x-ratelimit-* headers; a client that sleeps
// Retry-After succeeds on the retry. Successful responses (plain and
// streamed) carry the x-ratelimit-* headers too. A --tpm key refuses a
// request whose prompt + max_tokens cannot fit, and charges a stream the
// client abandons for what it got. Server-wide defaults apply to principals
// without their own limits.
import { startServer, check, finish, modelId, request, isOpenAIError } from './serve_lib.mjs';
import { createKey, complete, sleep, metrics, streamRequest } from './security_lib.mjs';

const RPM = 12;          // burst of 12, then one request every 5 s
const TPM_FOR_RPM_KEY = 100000;
const TPM = 300;         // the token-limited key

const srv = await startServer([]);
let ok = false;
try {
  const { url, ca, state } = srv;
  const model = await modelId(url, ca);
  const rpmKey = createKey(state, ['--name', 'rpm', '--rpm', String(RPM), '--tpm', String(TPM_FOR_RPM_KEY)]);
  const tpmKey = createKey(state, ['--name', 'tpm', '--tpm', String(TPM)]);
  const before = await metrics(url, ca);

  // Burst until refused. The bucket refills at RPM/60 per second while we
  // go, so a slow machine may get a few more than RPM before the 429.
  let refused = null;
  let lastRemaining = Infinity;
  let admitted = 0;
  const t0 = Date.now();
  for (let i = 0; i < 3 * RPM && !refused; i++) {
    const r = await complete(url, ca, model, rpmKey.key, { max_tokens: 1 });
    if (r.status === 429) { refused = r; break; }
    check(r.status === 200, `burst request ${i}: ${r.status} ${r.body.slice(0, 200)}`);
    admitted++;
    const h = r.headers;
    check(h['x-ratelimit-limit-requests'] === String(RPM), `200 carries x-ratelimit-limit-requests ${h['x-ratelimit-limit-requests']}`);
    check(h['x-ratelimit-limit-tokens'] === String(TPM_FOR_RPM_KEY), `200 carries x-ratelimit-limit-tokens ${h['x-ratelimit-limit-tokens']}`);
    check(/^\d+$/.test(h['x-ratelimit-remaining-tokens'] || ''), '200 carries x-ratelimit-remaining-tokens');
    check(/^[\dhms.]+$/.test(h['x-ratelimit-reset-requests'] || ''), `200 carries x-ratelimit-reset-requests '${h['x-ratelimit-reset-requests']}'`);
    check(/^[\dhms.]+$/.test(h['x-ratelimit-reset-tokens'] || ''), `200 carries x-ratelimit-reset-tokens '${h['x-ratelimit-reset-tokens']}'`);
    const remaining = Number(h['x-ratelimit-remaining-requests']);
    check(Number.isInteger(remaining) && remaining < RPM, `x-ratelimit-remaining-requests ${h['x-ratelimit-remaining-requests']}`);
    if (i === 0) check(remaining === RPM - 1, `first request leaves ${RPM - 1} (got ${remaining})`);
    lastRemaining = remaining;
  }
  const burstSeconds = (Date.now() - t0) / 1000;
  check(refused !== null, `a 429 came within ${3 * RPM} requests`);
  // Admitted = the burst plus what refilled meanwhile (RPM/60 per second).
  check(admitted >= RPM && admitted <= RPM + Math.ceil(burstSeconds * RPM / 60) + 1,
    `admitted ${admitted} before the 429 in ${burstSeconds.toFixed(1)} s (limit ${RPM}/min)`);
  check(lastRemaining === 0, `the last admitted request left 0 (got ${lastRemaining})`);
  if (refused) {
    const h = refused.headers;
    check(isOpenAIError(refused.body), '429: OpenAI error body');
    const e = JSON.parse(refused.body).error;
    check(e.type === 'rate_limit_error' && e.code === 'rate_limit_exceeded', `429: type ${e.type}, code ${e.code}`);
    check(/requests per min/i.test(e.message), `429 message names the request limit: ${e.message}`);
    const retryAfter = Number(h['retry-after']);
    check(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= Math.ceil(60 / RPM),
      `Retry-After ${h['retry-after']} in [1, ${Math.ceil(60 / RPM)}]`);
    check(Number(h['retry-after-ms']) > 0 && Number(h['retry-after-ms']) <= retryAfter * 1000, `retry-after-ms ${h['retry-after-ms']}`);
    check(h['x-ratelimit-limit-requests'] === String(RPM), '429 carries x-ratelimit-limit-requests');
    check(h['x-ratelimit-remaining-requests'] === '0', `429 remaining-requests ${h['x-ratelimit-remaining-requests']}`);
    check(typeof h['x-ratelimit-reset-requests'] === 'string', '429 carries x-ratelimit-reset-requests');
    check(typeof h['x-ratelimit-limit-tokens'] === 'string' && typeof h['x-ratelimit-remaining-tokens'] === 'string' &&
      typeof h['x-ratelimit-reset-tokens'] === 'string', '429 carries the x-ratelimit-*-tokens headers');
    check(h['x-should-retry'] !== 'false', '429 for a full bucket may be retried');

    // An immediate retry is refused again; one after Retry-After succeeds.
    const again = await complete(url, ca, model, rpmKey.key, { max_tokens: 1 });
    check(again.status === 429, `immediate retry: ${again.status}, want 429`);
    await sleep(Number(again.headers['retry-after'] || retryAfter) * 1000);
    const retried = await complete(url, ca, model, rpmKey.key, { max_tokens: 1 });
    check(retried.status === 200, `retry after Retry-After: ${retried.status} ${retried.body.slice(0, 200)}`);
  }

  // A streamed response carries the headers as well (sent before the first event).
  {
    await sleep(Math.ceil(60 / RPM) * 1000 + 500);  // one request refilled, with slack
    const r = await request(url, ca, {
      method: 'POST', path: '/v1/chat/completions', key: rpmKey.key,
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, stream: true }),
    });
    check(r.status === 200, `streamed request: ${r.status} ${r.body.slice(0, 200)}`);
    check(r.headers['x-ratelimit-limit-requests'] === String(RPM), 'streamed 200 carries x-ratelimit-limit-requests');
    check(typeof r.headers['x-ratelimit-remaining-requests'] === 'string', 'streamed 200 carries x-ratelimit-remaining-requests');
  }

  // Tokens per minute: prompt + max_tokens over the whole budget can never
  // fit (429, do not retry); one that fits is served; the next one that no
  // longer fits waits for the bucket.
  {
    const big = await complete(url, ca, model, tpmKey.key, { max_tokens: TPM * 2 });
    check(big.status === 429, `max_tokens ${TPM * 2} against tpm ${TPM}: ${big.status}, want 429 (${big.body.slice(0, 200)})`);
    if (big.status === 429) {
      const e = JSON.parse(big.body).error;
      check(e.type === 'rate_limit_error' && /tokens per min/i.test(e.message), `TPM 429 message: ${e.message}`);
      check(big.headers['x-should-retry'] === 'false', 'a request larger than the whole TPM budget says x-should-retry: false');
      check(big.headers['x-ratelimit-limit-tokens'] === String(TPM), 'TPM 429 carries x-ratelimit-limit-tokens');
      check(big.headers['x-ratelimit-limit-requests'] === undefined, 'no request headers for a key without an RPM limit');
    }
    const fits = await complete(url, ca, model, tpmKey.key, { max_tokens: 200, ignore_eos: true });
    check(fits.status === 200, `max_tokens 200 against tpm ${TPM}: ${fits.status} ${fits.body.slice(0, 200)}`);
    check(fits.headers['x-ratelimit-limit-tokens'] === String(TPM), '200 carries x-ratelimit-limit-tokens');
    const remaining = Number(fits.headers['x-ratelimit-remaining-tokens']);
    check(remaining < TPM - 200, `remaining tokens ${remaining} < ${TPM - 200} after reserving prompt + 200`);
    const next = await complete(url, ca, model, tpmKey.key, { max_tokens: 200 });
    check(next.status === 429, `second max_tokens 200 within the minute: ${next.status}, want 429`);
    if (next.status === 429) {
      check(next.headers['x-should-retry'] !== 'false', 'a request that fits later may be retried');
      check(Number(next.headers['retry-after']) >= 1, `TPM Retry-After ${next.headers['retry-after']}`);
    }
  }

  // A stream the client abandons is charged for the tokens it got, not
  // refunded its whole reservation (else streaming and hanging up would
  // dodge the TPM limit).
  {
    const ABANDON_TPM = 600;  // refills 10 tokens/s
    const k = createKey(state, ['--name', 'abandon', '--tpm', String(ABANDON_TPM)]);
    const t0 = Date.now();
    const s = await streamRequest(url, ca, '/v1/completions', k.key,
      { model, prompt: 'Hello', stream: true, ignore_eos: true, max_tokens: 400 }, { abortAfterEvents: 40 });
    check(s.status === 200 && s.events.length >= 40, `abandoned stream: ${s.status}, ${s.events.length} events`);
    const seenTokens = s.events.length;  // at least one token per event
    await sleep(1000);  // the server notices the hang-up and settles the bucket
    const r = await complete(url, ca, model, k.key, { max_tokens: 1 });
    check(r.status === 200, `request after the abandoned stream: ${r.status}`);
    const remaining = Number(r.headers['x-ratelimit-remaining-tokens']);
    const refill = Math.ceil(((Date.now() - t0) / 1000) * ABANDON_TPM / 60);
    check(remaining <= ABANDON_TPM - seenTokens + refill,
      `remaining tokens ${remaining} after an abandoned stream that delivered ${seenTokens} tokens (refill ≤ ${refill})`);
  }

  const after = await metrics(url, ca);
  const limited = (after.get('troupe:rate_limited_total') || 0) - (before.get('troupe:rate_limited_total') || 0);
  check(limited === 4, `troupe:rate_limited_total rose by ${limited}, want 4`);
  ok = true;
} finally {
  const exitCode = await srv.stop();
  check(exitCode === 0, `troupe serve exited ${exitCode} on SIGTERM`);
  if (!ok) console.error(srv.stderr());
}
// Server-wide defaults (--requests-per-minute / --tokens-per-minute) apply to
// principals without their own limit (here the static --api-key); a key's
// own --rpm overrides them.
{
  const srv2 = await startServer(['--requests-per-minute', '2', '--tokens-per-minute', '5000']);
  let ok2 = false;
  try {
    const { url, ca, state } = srv2;
    const model = await modelId(url, ca);
    // modelId used no bucket: only generations are rate limited.
    for (let i = 0; i < 2; i++) {
      const r = await complete(url, ca, model, undefined, { max_tokens: 1 });
      check(r.status === 200, `default limit, request ${i}: ${r.status}`);
      check(r.headers['x-ratelimit-limit-requests'] === '2' && r.headers['x-ratelimit-limit-tokens'] === '5000',
        `default limits in the headers: ${r.headers['x-ratelimit-limit-requests']} / ${r.headers['x-ratelimit-limit-tokens']}`);
    }
    const third = await complete(url, ca, model, undefined, { max_tokens: 1 });
    check(third.status === 429, `third request within the minute at --requests-per-minute 2: ${third.status}`);
    check(Number(third.headers['retry-after']) >= 1 && Number(third.headers['retry-after']) <= 30,
      `Retry-After ${third.headers['retry-after']} (one request per 30 s)`);
    const own = createKey(state, ['--name', 'own', '--rpm', '5']);
    const r = await complete(url, ca, model, own.key, { max_tokens: 1 });
    check(r.status === 200 && r.headers['x-ratelimit-limit-requests'] === '5',
      `a key's own --rpm overrides the default: ${r.status} ${r.headers['x-ratelimit-limit-requests']}`);
    ok2 = true;
  } finally {
    const exitCode = await srv2.stop();
    check(exitCode === 0, `second troupe serve exited ${exitCode} on SIGTERM`);
    if (!ok2) console.error(srv2.stderr());
  }
}
finish();

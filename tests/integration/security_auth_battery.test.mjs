// Every kind of bad credential, through the real `troupe serve`: missing,
// empty and garbage bearers, a key revoked with `troupe keys revoke`, a key
// for another model, and forged or invalid JWTs (signed here with jose and
// Node's crypto, independent of the server's OpenSSL code). Each gets 401/403
// with an OpenAI error body that never echoes the token; a good key and a
// good JWT keep working after each; a JWT's troupe_models / troupe_rpm /
// troupe_tpm claims take effect; /metrics counts the failures by reason;
// the WebSocket upgrade refuses a bad key too; a rotated JWKS file takes
// effect without a restart.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startServer, check, finish, modelId, request, isOpenAIError, requireClient } from './serve_lib.mjs';
import { createKey, revokeKey, metrics, complete, sleep } from './security_lib.mjs';

const jose = await import(pathToFileURL(requireClient.resolve('jose')).href);
const WebSocket = requireClient('ws');

const ISS = 'https://issuer.test';
const AUD = 'troupe-e2e';
const KID = 'k1';
const CACHE_TTL_MS = 300;
const JWKS_RELOAD_MS = 250;

// The identity provider's side: an RS256 key pair, its public half as a JWKS
// file for the server, and as SPKI PEM for the key-confusion attack.
const { publicKey, privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await jose.exportJWK(publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
const publicPem = await jose.exportSPKI(publicKey);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'troupe-jwks-'));
const jwksPath = path.join(dir, 'jwks.json');
fs.writeFileSync(jwksPath, JSON.stringify({ keys: [jwk] }));

const now = () => Math.floor(Date.now() / 1000);
async function signed(claims = {}, header = {}) {
  const base = { iss: ISS, aud: AUD, sub: 'user-1', iat: now(), exp: now() + 600 };
  return new jose.SignJWT({ ...base, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'JWT', ...header })
    .sign(privateKey);
}
const b64u = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const validClaims = () => ({ iss: ISS, aud: AUD, sub: 'attacker', iat: now(), exp: now() + 600 });

const srv = await startServer(['--key-cache-ttl-ms', String(CACHE_TTL_MS), '--jwt-enabled',
  '--jwt-issuer', ISS, '--jwt-audience', AUD, '--jwt-jwks-file', jwksPath,
  '--jwt-jwks-reload-ms', String(JWKS_RELOAD_MS)]);
let code = 1;
try {
  const { url, ca, state } = srv;
  const model = await modelId(url, ca);
  const good = createKey(state, ['--name', 'good']);
  const doomed = createKey(state, ['--name', 'doomed']);
  const otherModel = createKey(state, ['--name', 'elsewhere', '--models', 'other-model']);
  const goodJwt = await signed();

  async function stillServing(after) {
    const k = await complete(url, ca, model, good.key);
    check(k.status === 200, `good API key still served after ${after}: ${k.status} ${k.body.slice(0, 200)}`);
    const j = await complete(url, ca, model, goodJwt);
    check(j.status === 200, `good JWT still served after ${after}: ${j.status} ${j.body.slice(0, 200)}`);
  }

  async function expectRefused(name, authorization, status, secret, reason) {
    const r = await request(url, ca, {
      method: 'POST', path: '/v1/completions', key: '',
      headers: authorization === null ? {} : { authorization },
      body: JSON.stringify({ model, prompt: 'Hello', max_tokens: 2 }),
    });
    check(r.status === status, `${name}: status ${r.status}, want ${status} (${r.body.slice(0, 200)})`);
    check(isOpenAIError(r.body), `${name}: OpenAI error body (${r.body.slice(0, 200)})`);
    const e = isOpenAIError(r.body) ? JSON.parse(r.body).error : {};
    if (status === 401) {
      check(e.code === 'invalid_api_key' && e.type === 'invalid_request_error', `${name}: code ${e.code}, type ${e.type}`);
      check(/bearer/i.test(r.headers['www-authenticate'] || ''), `${name}: WWW-Authenticate: Bearer`);
    } else {
      check(e.type === 'permission_error' && e.param === 'model', `${name}: type ${e.type}, param ${e.param}`);
    }
    // Neither the token nor any long piece of it comes back.
    if (secret) {
      const pieces = [secret, ...secret.split('.').filter((p) => p.length >= 8)];
      for (const p of pieces) check(!r.body.includes(p) && !JSON.stringify(r.headers).includes(p), `${name}: response echoes the token`);
    }
    if (reason) expected.set(reason, (expected.get(reason) || 0) + 1);
    await stillServing(name);
  }
  const expected = new Map();  // auth failure reason → count we caused

  await stillServing('start');
  const before = await metrics(url, ca);

  await expectRefused('no Authorization header', null, 401, null, 'missing');
  await expectRefused('empty bearer', 'Bearer ', 401, null, 'not_bearer');
  await expectRefused('not a bearer scheme', `Basic ${Buffer.from('u:p').toString('base64')}`, 401, null, 'not_bearer');
  await expectRefused('garbage bearer', 'Bearer garbage-token-1234567890', 401, 'garbage-token-1234567890', 'unknown_key');
  await expectRefused('well-formed unknown key', `Bearer ${good.key.slice(0, -4)}AAAA`, 401, good.key.slice(0, -4), 'unknown_key');

  // Revocation reaches a running server within the key cache TTL.
  {
    const ok = await complete(url, ca, model, doomed.key);
    check(ok.status === 200, `key works before revoke: ${ok.status}`);
    const rv = revokeKey(state, doomed.id);
    check(rv.code === 0, `troupe keys revoke: ${rv.stderr}`);
    await sleep(CACHE_TTL_MS * 3);
    await expectRefused('revoked key', `Bearer ${doomed.key}`, 401, doomed.key, 'revoked_key');
  }
  await expectRefused('key for another model', `Bearer ${otherModel.key}`, 403, otherModel.key, null);

  // JWT attacks.
  const noneToken = `${b64u({ alg: 'none', typ: 'JWT' })}.${b64u(validClaims())}.`;
  await expectRefused('alg none', `Bearer ${noneToken}`, 401, noneToken, 'jwt_unsupported_alg');
  {
    // HS256 "signed" with the RS256 public key as the HMAC secret (key confusion).
    const input = `${b64u({ alg: 'HS256', typ: 'JWT', kid: KID })}.${b64u(validClaims())}`;
    const sig = crypto.createHmac('sha256', publicPem).update(input).digest('base64url');
    const t = `${input}.${sig}`;
    await expectRefused('HS256 with the RS256 public key as secret', `Bearer ${t}`, 401, t, 'jwt_alg_mismatch');
  }
  {
    const t = await signed({ iat: now() - 7200, exp: now() - 3600 });
    await expectRefused('expired JWT', `Bearer ${t}`, 401, t, 'jwt_expired');
  }
  {
    const t = await signed({ nbf: now() + 3600 });
    await expectRefused('JWT not yet valid (nbf)', `Bearer ${t}`, 401, t, 'jwt_not_yet_valid');
  }
  {
    const t = await signed({ aud: 'someone-else' });
    await expectRefused('JWT for another audience', `Bearer ${t}`, 401, t, 'jwt_wrong_audience');
  }
  {
    const t = await signed({ iss: 'https://evil.test' });
    await expectRefused('JWT from another issuer', `Bearer ${t}`, 401, t, 'jwt_wrong_issuer');
  }
  {
    const t = await signed({}, { kid: 'k-unknown' });
    await expectRefused('JWT with an unknown kid', `Bearer ${t}`, 401, t, 'jwt_unknown_kid');
  }
  {
    // The signature's last bytes dropped (re-encoded, so still canonical base64url).
    const [h, c, sig] = (await signed()).split('.');
    const cut = `${h}.${c}.${Buffer.from(sig, 'base64url').subarray(0, -3).toString('base64url')}`;
    await expectRefused('JWT with a truncated signature', `Bearer ${cut}`, 401, cut, 'jwt_bad_signature');
  }
  {
    const t = await signed({ pad: 'x'.repeat(9000) });
    check(t.length > 8192, 'oversized token is over 8 KiB');
    await expectRefused('oversized JWT (> 8 KiB)', `Bearer ${t}`, 401, t, 'too_large');
  }

  // A JWT's own claims: troupe_models limits the models (403), troupe_rpm /
  // troupe_tpm set the subject's limits (seen in the x-ratelimit-* headers).
  {
    const t = await signed({ sub: 'user-limited', troupe_models: ['other-model'] });
    await expectRefused('JWT whose troupe_models excludes the model', `Bearer ${t}`, 403, t, null);
    const lim = await signed({ sub: 'user-rpm', troupe_rpm: 7, troupe_tpm: 7000 });
    const r = await complete(url, ca, model, lim);
    check(r.status === 200 && r.headers['x-ratelimit-limit-requests'] === '7' && r.headers['x-ratelimit-limit-tokens'] === '7000',
      `JWT troupe_rpm/troupe_tpm claims: ${r.status} ${r.headers['x-ratelimit-limit-requests']} ${r.headers['x-ratelimit-limit-tokens']}`);
  }

  // The failure counters moved by exactly what we caused.
  const after = await metrics(url, ca);
  for (const [reason, n] of expected) {
    const k = `troupe:auth_failures_total{reason="${reason}"}`;
    const delta = (after.get(k) || 0) - (before.get(k) || 0);
    check(delta === n, `${k} rose by ${delta}, want ${n}`);
  }
  const forbidden = (after.get('troupe:forbidden_total') || 0) - (before.get('troupe:forbidden_total') || 0);
  check(forbidden === 2, `troupe:forbidden_total rose by ${forbidden}, want 2`);

  // The WebSocket path refuses a bad key: an error event, then close 1008.
  for (const [name, key] of [['bad key', 'sk-not-a-key'], ['expired JWT', await signed({ iat: now() - 7200, exp: now() - 3600 })]]) {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/responses`, {
      headers: { authorization: `Bearer ${key}` }, ca: ca ? fs.readFileSync(ca) : undefined,
    });
    const got = await new Promise((resolve) => {
      const frames = [];
      const timer = setTimeout(() => resolve({ frames, close: 'timeout' }), 30000);
      ws.on('message', (m) => frames.push(String(m)));
      ws.on('close', (c) => { clearTimeout(timer); resolve({ frames, close: c }); });
      ws.on('error', () => {});
    });
    const ev = got.frames.length ? JSON.parse(got.frames[0]) : {};
    check(ev.type === 'error', `WebSocket ${name}: error event (${got.frames[0]})`);
    check(JSON.stringify(ev).includes('invalid_api_key'), `WebSocket ${name}: invalid_api_key`);
    check(!got.frames.join('').includes(key), `WebSocket ${name}: event echoes the token`);
    check(got.close === 1008, `WebSocket ${name}: close code ${got.close}, want 1008`);
  }
  {
    // …while a good JWT opens a socket that stays open.
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/responses`, {
      headers: { authorization: `Bearer ${goodJwt}` }, ca: ca ? fs.readFileSync(ca) : undefined,
    });
    const opened = await new Promise((resolve) => {
      ws.on('open', () => resolve(true));
      ws.on('error', () => resolve(false));
      ws.on('close', () => resolve(false));
    });
    check(opened, 'WebSocket with a good JWT opens');
    await sleep(300);
    check(ws.readyState === WebSocket.OPEN, 'WebSocket with a good JWT stays open');
    ws.close();
  }
  await stillServing('the WebSocket refusals');

  // Key rotation: the server re-reads the JWKS file; a token from a new key
  // works once it is published, and one from a withdrawn key stops working.
  {
    const next = await jose.generateKeyPair('RS256', { extractable: true });
    const jwk2 = { ...(await jose.exportJWK(next.publicKey)), kid: 'k2', alg: 'RS256', use: 'sig' };
    const publish = (keys) => {
      fs.writeFileSync(`${jwksPath}.tmp`, JSON.stringify({ keys }));
      fs.renameSync(`${jwksPath}.tmp`, jwksPath);  // never a half-written file
    };
    const tokenK2 = await new jose.SignJWT({ iss: ISS, aud: AUD, sub: 'user-2' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k2' }).setIssuedAt().setExpirationTime('10m').sign(next.privateKey);
    const before2 = await complete(url, ca, model, tokenK2);
    check(before2.status === 401, `a token from an unpublished key: ${before2.status}`);
    publish([jwk, jwk2]);
    await sleep(JWKS_RELOAD_MS * 4);
    const after2 = await complete(url, ca, model, tokenK2);
    check(after2.status === 200, `a token from a newly published key: ${after2.status} ${after2.body.slice(0, 200)}`);
    publish([jwk2]);
    await sleep(JWKS_RELOAD_MS * 4);
    const old = await complete(url, ca, model, goodJwt);
    check(old.status === 401, `a token from a withdrawn key: ${old.status}`);
  }
  code = 0;
} finally {
  const exitCode = await srv.stop();
  check(exitCode === 0, `troupe serve exited ${exitCode} on SIGTERM`);
  if (code !== 0) console.error(srv.stderr());
  fs.rmSync(dir, { recursive: true, force: true });
}
finish();

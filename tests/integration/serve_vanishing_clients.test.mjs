// 1,000 clients vanish mid-stream (in bounded waves on loopback); afterwards
// every request has been cancelled: /metrics shows the KV pool back at its
// initial free block count and nothing running.
import fs from 'node:fs';
import { withServer, check, finish, modelId, request, API_KEY } from './serve_lib.mjs';

const { url, ca } = await withServer(import.meta.url);
const model = await modelId(url, ca);
const mod = url.startsWith('https') ? await import('node:https') : await import('node:http');
const caPem = ca ? fs.readFileSync(ca) : undefined;
const TOTAL = 1000, WAVE = 50, DEADLINE_MS = 240000;

function gauge(text, name) {
  const m = text.match(new RegExp(`^${name.replace(/[:]/g, '[:]')}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm'));
  return m ? Number(m[1]) : NaN;
}
const metrics = async () => (await request(url, ca, { path: '/metrics', key: '' })).body;

const before = await metrics();
const total = gauge(before, 'troupe:kv_total_blocks');
const free0 = gauge(before, 'troupe:kv_free_blocks');
check(!Number.isNaN(total) && !Number.isNaN(free0), 'KV gauges exported');

// Opens one streaming request and destroys the socket on its first data chunk.
function vanish(i) {
  return new Promise((resolve) => {
    const body = JSON.stringify({ model, prompt: `client ${i} says hello and keeps talking`, max_tokens: 200,
      ignore_eos: true, stream: true });
    const req = mod.request(new URL('/v1/completions', url), {
      method: 'POST', agent: false, ca: caPem,
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    }, (res) => {
      res.once('data', () => { req.destroy(); resolve(res.statusCode); });
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve('error'));
    req.setTimeout(60000, () => { req.destroy(); resolve('timeout'); });
    req.end(body);
  });
}

const t0 = Date.now();
let started = 0, ok = 0;
while (started < TOTAL && Date.now() - t0 < DEADLINE_MS) {
  const wave = [];
  for (let k = 0; k < WAVE && started < TOTAL; k++) wave.push(vanish(started++));
  for (const s of await Promise.all(wave)) if (s === 200) ok++;
}
check(started === TOTAL, `all ${TOTAL} clients ran within the deadline (${started})`);
check(ok >= TOTAL * 0.95, `streams started for ${ok}/${TOTAL}`);

// The scheduler frees every vanished client's blocks.
let free = NaN, running = NaN;
for (let i = 0; i < 200; i++) {
  const text = await metrics();
  free = gauge(text, 'troupe:kv_free_blocks');
  running = gauge(text, 'troupe:num_requests_running');
  if (free === free0 && (Number.isNaN(running) || running === 0)) break;
  await new Promise((r) => setTimeout(r, 100));
}
check(free === free0, `KV free blocks back to ${free0} (now ${free})`);
check(Number.isNaN(running) || running === 0, `no request left running (${running})`);
const after = await metrics();
check(/troupe:http_client_disconnects_total [1-9]/.test(after), 'disconnects counted');
const h = await request(url, ca, { path: '/health', key: '' });
check(h.status === 200, 'still serving');
finish();

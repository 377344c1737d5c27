// Memory stays flat while thousands of streaming clients vanish mid-stream:
// the server's resident memory (VmRSS of the `troupe serve` process) after
// bursts of 250 concurrent abandoned streams comes back near where it was
// before the first burst, and does not grow with the number of streams.
// Bounded: 3,000 streams in waves of 250, a few minutes at most on 2 cores.
import fs from 'node:fs';
import { startServer, check, finish, modelId, API_KEY, skip } from './serve_lib.mjs';

if (process.env.TROUPE_TEST_URL) skip('needs to start its own server to read its memory');
const srv = await startServer();
const { url, ca } = srv;
const mod = url.startsWith('https') ? await import('node:https') : await import('node:http');
const caPem = ca ? fs.readFileSync(ca) : undefined;
const model = await modelId(url, ca);
const WAVE = 250, WARMUP = 500, TOTAL = 3000, DEADLINE_MS = 420000;

const rssMiB = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${srv.child.pid}/status`, 'utf8'))[1]) / 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One streaming request whose client destroys the socket on the first chunk.
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

function gauge(text, name) {
  const m = text.match(new RegExp(`^${name.replace(/[:]/g, '[:]')}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm'));
  return m ? Number(m[1]) : NaN;
}
async function metrics() {
  return new Promise((resolve, reject) => {
    mod.get(new URL('/metrics', url), { ca: caPem, agent: false }, (res) => {
      let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => resolve(b));
    }).on('error', reject);
  });
}
// Waits until the engine is idle again (nothing running, every KV block free).
async function settle(free0) {
  for (let i = 0; i < 300; i++) {
    const t = await metrics();
    if (gauge(t, 'troupe:kv_free_blocks') === free0 && !(gauge(t, 'troupe:num_requests_running') > 0)) break;
    await sleep(100);
  }
  await sleep(1500);
}

const free0 = gauge(await metrics(), 'troupe:kv_free_blocks');
const t0 = Date.now();
let n = 0, ok = 0;
async function dropUntil(target) {
  while (n < target && Date.now() - t0 < DEADLINE_MS) {
    const wave = [];
    for (let k = 0; k < WAVE && n < target; k++) wave.push(vanish(n++));
    for (const s of await Promise.all(wave)) if (s === 200) ok++;
  }
  await settle(free0);
}

// Baseline after one small warm-up wave (the first requests fill caches and
// fault in pages that stay for good).
await dropUntil(20);
const base = rssMiB();
await dropUntil(WARMUP);
const warm = rssMiB();
const samples = [];
while (n < TOTAL && Date.now() - t0 < DEADLINE_MS) {
  await dropUntil(Math.min(TOTAL, n + 500));
  samples.push([n, rssMiB()]);
}
const end = rssMiB();
console.log(`RSS MiB: base ${base.toFixed(1)} (20 streams), after ${WARMUP} ${warm.toFixed(1)}, ` +
  samples.map(([k, r]) => `${k}: ${r.toFixed(1)}`).join(', ') + ` (${((Date.now() - t0) / 1000).toFixed(0)} s)`);

check(n === TOTAL, `all ${TOTAL} streams ran within the deadline (${n})`);
check(ok >= n * 0.9, `streams started for ${ok}/${n}`);
// A retained 150 KB per stream would add ~375 MiB over these 2,500 streams;
// the allowance is what a tiny model's allocator noise needs.
const growthKiBPerStream = ((end - warm) * 1024) / (n - WARMUP);
check(end - warm < 32, `RSS does not grow with abandoned streams: +${(end - warm).toFixed(1)} MiB over ${n - WARMUP} (${growthKiBPerStream.toFixed(1)} KiB each)`);
// And a burst's peak does not stay resident once the load is gone.
check(end - base < 64, `RSS back near its baseline after the bursts: ${base.toFixed(1)} -> ${end.toFixed(1)} MiB`);
const exitCode = await srv.stop();
check(exitCode === 0, `serve exits 0 on SIGTERM (${exitCode})`);
finish();

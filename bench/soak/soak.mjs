// Soak and overload runs against a real `troupe serve` on this machine
// (loopback only; bounded in time and concurrency; stops by itself).
//
//   node bench/soak/soak.mjs [--minutes 60] [--rate 4] [--sample-s 60]
//                            [--overload-s 0] [--max-waiting N]
//                            [--max-num-seqs N] [--out DIR]
//
// Soak: mixed traffic at --rate arrivals per second for --minutes (full
// streams, non-streamed chats, clients that vanish mid-stream, WebSocket
// sessions that create and cancel, bad requests, wrong keys, and a stored key
// created, used and revoked every few minutes). Every --sample-s it records
// the server's RSS, open file descriptors, KV blocks in use, requests running
// and request-log rows to samples.csv, and plots them (gnuplot) to soak.png.
// Overload (--overload-s > 0, after the soak): 10x the rate with a high
// concurrency cap; only 200/429/503 may come back, then the time until a
// plain request is served again (recovery) is measured.
// Exit 0 when the targets hold (see summary.json), 1 otherwise.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
process.env.TROUPE_BIN ||= path.join(root, 'build/troupe');
process.env.TROUPE_SOURCE_DIR ||= root;
const lib = await import(path.join(root, 'tests/integration/serve_lib.mjs'));

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const MINUTES = Number(arg('minutes', 60));
const RATE = Number(arg('rate', 4));
const SAMPLE_S = Number(arg('sample-s', 60));
const OVERLOAD_S = Number(arg('overload-s', 0));
const OUT = arg('out', path.join(root, 'bench/results', `soak-${new Date().toISOString().replace(/[:.]/g, '-')}`));
const MAX_IN_FLIGHT = 48;
fs.mkdirSync(OUT, { recursive: true });

const MAX_WAITING = arg('max-waiting', null);  // engine.max_waiting of the server (default: its config)
const MAX_NUM_SEQS = arg('max-num-seqs', null);  // engine.max_num_seqs of the server
const serveArgs = [];
if (MAX_WAITING) serveArgs.push('--max-waiting', MAX_WAITING);
if (MAX_NUM_SEQS) serveArgs.push('--max-num-seqs', MAX_NUM_SEQS);
const srv = await lib.startServer(serveArgs);
const { url, ca } = srv;
const pid = srv.child.pid;
const mod = url.startsWith('https') ? await import('node:https') : await import('node:http');
const caPem = ca ? fs.readFileSync(ca) : undefined;
const { createRequire } = await import('node:module');
const WebSocket = createRequire(path.join(root, 'tests/node/package.json'))('ws');
const model = await lib.modelId(url, ca);
const keysDb = path.join(srv.state, 'keys.db');
const logDb = path.join(srv.state, 'requests.db');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- measurements -----------------------------------------------------------
const rssMiB = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const numFds = () => fs.readdirSync(`/proc/${pid}/fd`).length;
function gauge(text, name) {
  const m = text.match(new RegExp(`^${name.replace(/[:]/g, '[:]')}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm'));
  return m ? Number(m[1]) : NaN;
}
function logRows() {
  const r = spawnSync('sqlite3', [logDb, 'SELECT count(*) FROM request_log;'], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : NaN;
}

let overloadTimeoutMs = 60000;
function call({ method = 'GET', p, body, key = lib.API_KEY, onResponse, timeoutMs = overloadTimeoutMs }) {
  return new Promise((resolve) => {
    const headers = {};
    if (key) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const req = mod.request(new URL(p, url), { method, headers, ca: caPem, agent: false }, (res) => {
      if (onResponse) return onResponse(req, res, resolve);
      let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => resolve({ status: res.statusCode, body: b, headers: res.headers }));
    });
    req.on('error', () => resolve({ status: 'error' }));
    req.setTimeout(timeoutMs, () => { req.destroy(); resolve({ status: 'timeout' }); });
    req.end(body);
  });
}
const metricsText = async () => (await call({ p: '/metrics', key: '' })).body || '';

// --- traffic ----------------------------------------------------------------
const counts = {};
const count = (kind, status) => { const k = `${kind}:${status}`; counts[k] = (counts[k] || 0) + 1; };
let completed = 0;  // generations read to their end with 200: each must have a log row
let storedKey = null, storedKeyId = null, revokedKey = null;

const kinds = {
  async stream() {
    const r = await call({ method: 'POST', p: '/v1/completions', body: JSON.stringify({ model, prompt: 'soak stream', max_tokens: 16, stream: true }) });
    if (r.status === 200 && /data: \[DONE\]/.test(r.body)) completed++;
    return r.status;
  },
  async chat() {
    const key = storedKey && Math.random() < 0.5 ? storedKey : lib.API_KEY;
    const r = await call({ method: 'POST', p: '/v1/chat/completions', key, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello soak' }], max_tokens: 8 }) });
    if (r.status === 200) completed++;
    return r.status;
  },
  async vanish() {
    return call({ method: 'POST', p: '/v1/completions', body: JSON.stringify({ model, prompt: 'soak vanish', max_tokens: 200, ignore_eos: true, stream: true }),
      onResponse: (req, res, resolve) => { res.once('data', () => { req.destroy(); resolve({ status: res.statusCode }); }); res.on('end', () => resolve({ status: res.statusCode })); } })
      .then((r) => r.status);
  },
  async websocket() {
    return new Promise((resolve) => {
      const ws = new WebSocket(url.replace(/^http/, 'ws') + '/v1/responses', [], { headers: { authorization: `Bearer ${lib.API_KEY}` }, ca: caPem });
      const done = (s) => { try { ws.close(); } catch {} resolve(s); };
      const timer = setTimeout(() => done('timeout'), 60000);
      let finished = 0;
      ws.on('open', () => {
        ws.send(JSON.stringify({ type: 'response.create', stream_id: 'a', model, input: 'soak ws', max_output_tokens: 8 }));
        ws.send(JSON.stringify({ type: 'response.create', stream_id: 'b', model, input: 'soak ws cancel', max_output_tokens: 200 }));
        setTimeout(() => { try { ws.send(JSON.stringify({ type: 'response.cancel', stream_id: 'b' })); } catch {} }, 50);
      });
      ws.on('message', (d) => {
        const e = JSON.parse(d.toString());
        if (e.type === 'response.completed' && e.stream_id === 'a') completed++;
        if (e.type === 'response.completed' || e.type === 'response.cancelled' || e.type === 'error') finished++;
        if (finished >= 2) { clearTimeout(timer); done(200); }
      });
      ws.on('error', () => { clearTimeout(timer); done('error'); });
    });
  },
  async bad() {
    const bodies = ['{"messages": [', JSON.stringify({ model, messages: 'x' }), JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }], max_tokens: 1e300 })];
    return (await call({ method: 'POST', p: '/v1/chat/completions', body: bodies[Math.floor(Math.random() * bodies.length)] })).status;
  },
  async wrongKey() {
    const key = revokedKey && Math.random() < 0.5 ? revokedKey : 'sk-soak-wrong';
    return (await call({ p: '/v1/models', key })).status;
  },
};
const mix = [['stream', 35], ['chat', 20], ['vanish', 15], ['websocket', 10], ['bad', 12], ['wrongKey', 8]];
const pick = () => { let x = Math.random() * 100; for (const [k, w] of mix) { if ((x -= w) < 0) return k; } return 'chat'; };

function rotateKey() {
  if (storedKeyId) {
    execFileSync(process.env.TROUPE_BIN, ['keys', 'revoke', storedKeyId, '--db', keysDb], { stdio: 'ignore' });
    revokedKey = storedKey;
  }
  const r = spawnSync(process.env.TROUPE_BIN, ['keys', 'create', '--name', 'soak', '--db', keysDb], { encoding: 'utf8' });
  storedKey = r.stdout.trim();
  storedKeyId = (/key_[0-9a-f]{12}/.exec(r.stderr) || [])[0] || null;
}

let inFlight = 0;
async function drive(seconds, rate, maxInFlight, onStatus) {
  const end = Date.now() + seconds * 1000;
  const pending = new Set();
  while (Date.now() < end) {
    const gap = -Math.log(1 - Math.random()) / rate * 1000;  // Poisson arrivals
    await sleep(gap);
    if (inFlight >= maxInFlight) { count('skipped', 'busy'); continue; }
    const kind = onStatus ? 'chat' : pick();
    inFlight++;
    const p = kinds[kind]().then((s) => { count(kind, s); if (onStatus) onStatus(s); }).finally(() => { inFlight--; pending.delete(p); });
    pending.add(p);
  }
  await Promise.all(pending);
}

// --- soak -------------------------------------------------------------------
const samples = [];
const t0 = Date.now();
async function sample() {
  const m = await metricsText();
  const total = gauge(m, 'troupe:kv_total_blocks');
  const s = { t_min: (Date.now() - t0) / 60000, rss_mib: rssMiB(), fds: numFds(),
    kv_used_blocks: total - gauge(m, 'troupe:kv_free_blocks'), running: gauge(m, 'troupe:num_requests_running'), log_rows: logRows() };
  samples.push(s);
  fs.appendFileSync(path.join(OUT, 'samples.csv'), `${s.t_min.toFixed(2)},${s.rss_mib.toFixed(1)},${s.fds},${s.kv_used_blocks},${s.running},${s.log_rows}\n`);
  return s;
}
fs.writeFileSync(path.join(OUT, 'samples.csv'), '');
rotateKey();
const base = await sample();
const sampler = setInterval(sample, SAMPLE_S * 1000);
const rotator = setInterval(rotateKey, Math.max(60, MINUTES * 60 / 6) * 1000);
await drive(MINUTES * 60, RATE, MAX_IN_FLIGHT);
clearInterval(rotator);
clearInterval(sampler);
await sleep(3000);  // log flush, aborts settle
const idle = await sample();

// --- overload -----------------------------------------------------------------
let overload = null;
if (OVERLOAD_S > 0) {
  const statuses = {};
  const rss0 = rssMiB();
  let rssMax = rss0;
  const watch = setInterval(() => { rssMax = Math.max(rssMax, rssMiB()); }, 1000);
  overloadTimeoutMs = 30000;
  await drive(OVERLOAD_S, RATE * 10, 1024, (s) => { statuses[s] = (statuses[s] || 0) + 1; });
  clearInterval(watch);
  const stopped = Date.now();
  let recoveredMs = null;
  for (let i = 0; i < 120 && recoveredMs === null; i++) {
    const t = Date.now();
    const r = await call({ method: 'POST', p: '/v1/chat/completions', body: JSON.stringify({ model, messages: [{ role: 'user', content: 'after' }], max_tokens: 4 }) });
    if (r.status === 200 && Date.now() - t < 2000) recoveredMs = Date.now() - stopped;
    else await sleep(250);
  }
  const unexpected = Object.keys(statuses).filter((s) => !['200', '429', '503'].includes(String(s)));
  overload = { seconds: OVERLOAD_S, rate_per_s: RATE * 10, statuses, unexpected, rss_before_mib: rss0, rss_max_mib: rssMax, recovered_ms: recoveredMs };
}
await sleep(2000);
const end = await sample();
const exitCode = await srv.stop();

// --- verdict ------------------------------------------------------------------
// Memory slope over the second half of the soak (after warm-up), MiB/hour.
const tail = samples.filter((s) => s.t_min >= (idle.t_min / 2));
const n = tail.length, mx = tail.reduce((a, s) => a + s.t_min, 0) / n, my = tail.reduce((a, s) => a + s.rss_mib, 0) / n;
const slope = n > 1 ? 60 * tail.reduce((a, s) => a + (s.t_min - mx) * (s.rss_mib - my), 0) / Math.max(1e-9, tail.reduce((a, s) => a + (s.t_min - mx) ** 2, 0)) : 0;
const summary = {
  minutes: MINUTES, rate_per_s: RATE, counts, completed_generations: completed,
  rss_mib: { start: base.rss_mib, idle_after_soak: idle.rss_mib, end: end.rss_mib, slope_mib_per_hour_second_half: slope },
  fds: { start: base.fds, idle_after_soak: idle.fds, end: end.fds },
  kv_used_blocks_idle: idle.kv_used_blocks, running_idle: idle.running,
  log_rows_end: end.log_rows, overload, serve_exit: exitCode,
};
const failures = [];
if (idle.kv_used_blocks !== 0) failures.push(`KV blocks still in use when idle: ${idle.kv_used_blocks}`);
if (!(idle.running === 0 || Number.isNaN(idle.running))) failures.push(`requests still running when idle: ${idle.running}`);
if (idle.fds > base.fds + 8) failures.push(`file descriptors grew: ${base.fds} -> ${idle.fds}`);
if (!(end.log_rows >= completed)) failures.push(`request log has ${end.log_rows} rows for ${completed} completed generations`);
if (MINUTES >= 30 && slope > 20) failures.push(`memory grows ${slope.toFixed(1)} MiB/hour over the second half`);
if (overload && overload.unexpected.length) failures.push(`overload answered ${overload.unexpected.join(', ')}`);
if (overload && overload.recovered_ms === null) failures.push('no recovery within 30 s of the overload');
if (exitCode !== 0) failures.push(`serve exited ${exitCode} on SIGTERM`);
summary.failures = failures;
fs.writeFileSync(path.join(OUT, 'summary.json'), JSON.stringify(summary, null, 2));
console.log(JSON.stringify(summary, null, 2));

if (spawnSync('gnuplot', ['--version']).status === 0) {
  const csv = path.join(OUT, 'samples.csv');
  const script = `set terminal png size 1200,900 noenhanced; set output '${path.join(OUT, 'soak.png')}'
set datafile separator ','; set multiplot layout 3,2 title 'troupe serve soak (${MINUTES} min, ${RATE}/s)'; set xlabel 'minutes'
set title 'RSS (MiB)'; plot '${csv}' using 1:2 with linespoints notitle
set title 'open file descriptors'; plot '${csv}' using 1:3 with linespoints notitle
set title 'KV blocks in use'; plot '${csv}' using 1:4 with linespoints notitle
set title 'requests running'; plot '${csv}' using 1:5 with linespoints notitle
set title 'request-log rows'; plot '${csv}' using 1:6 with linespoints notitle
unset multiplot\n`;
  const g = spawnSync('gnuplot', [], { input: script, encoding: 'utf8' });
  if (g.status !== 0) console.error(`gnuplot: ${g.stderr}`);
}
console.log(failures.length ? `soak FAILED: ${failures.join('; ')}` : `soak passed (${OUT})`);
process.exit(failures.length ? 1 : 0);

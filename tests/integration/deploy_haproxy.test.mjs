// Real HAProxy (deploy/haproxy/haproxy.cfg, ports from the environment) in
// front of two real `troupe gateway` processes, which front two `troupe
// worker`s: both gateways pass the /ready health check; under load one
// gateway is killed (SIGKILL): every request that had not started answering
// is retried on the other and succeeds, while a stream that had started on the
// killed gateway is cut (HAProxy cannot replay it: the client must retry, as
// docs/operations.md says). Then a worker is killed: the surviving stream goes
// on without a gap (the gateway fails it over) and new requests still succeed.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import path from 'node:path';
import { check, finish, skip } from './serve_lib.mjs';
import { KEY as API_KEY, freePort as freeLoopbackPort, startGateway, startWorker, workerMetric } from './cluster_lib.mjs';

try { execFileSync('haproxy', ['-v'], { stdio: 'ignore' }); } catch { skip('haproxy is not installed'); }
// The config's maxconn 8000 needs 2 x 8000 descriptors (haproxy -c says so too).
const fdLimit = Number(execFileSync('sh', ['-c', 'ulimit -Hn']).toString().trim());
if (Number.isFinite(fdLimit) && fdLimit < 16100) skip(`the file descriptor limit (${fdLimit}) is below what maxconn 8000 needs`);
const src = process.env.TROUPE_SOURCE_DIR || '.';

const freePort = () => new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function post(port, body, { stream = false } = {}) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/v1/completions', method: 'POST', agent: false,
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      const out = { status: res.statusCode, text: () => text, ended: null };
      res.on('data', (d) => { text += d; if (stream && out.onData) out.onData(); });
      out.ended = new Promise((r) => { res.on('end', () => r('end')); res.on('error', () => r('error')); res.on('aborted', () => r('aborted')); });
      out.abort = () => req.destroy();
      resolve(out);
    });
    req.on('error', (e) => resolve({ status: 0, error: e.message, text: () => '', ended: Promise.resolve('error') }));
    req.end(JSON.stringify(body));
  });
}

const workerPorts = [await freeLoopbackPort(), await freeLoopbackPort()];
const workers = [await startWorker(workerPorts[0]), await startWorker(workerPorts[1])];
const a = await startGateway(workerPorts);
const b = await startGateway(workerPorts);
const portOf = (url) => Number(new URL(url).port);
const lbPort = await freePort();
const statsPort = await freePort();
const env = { ...process.env, TROUPE_LB_BIND: `127.0.0.1:${lbPort}`, TROUPE_LB_STATS: `127.0.0.1:${statsPort}`,
  TROUPE_GATEWAY_1: `127.0.0.1:${portOf(a.url)}`, TROUPE_GATEWAY_2: `127.0.0.1:${portOf(b.url)}` };
const lb = spawn('haproxy', ['-db', '-f', path.join(src, 'deploy/haproxy/haproxy.cfg')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
let lbLog = '';
lb.stdout.on('data', (d) => { lbLog += d; });
lb.stderr.on('data', (d) => { lbLog += d; });

async function serverStates() {
  const r = await new Promise((resolve) => http.get({ host: '127.0.0.1', port: statsPort, path: '/stats;csv' }, (res) => {
    let t = ''; res.on('data', (d) => { t += d; }); res.on('end', () => resolve(t));
  }).on('error', () => resolve('')));
  const rows = r.split('\n').filter((l) => l.startsWith('troupe_gateways,gateway-'));
  const header = r.split('\n')[0].replace(/^# /, '').split(',');
  return Object.fromEntries(rows.map((l) => { const f = l.split(','); return [f[1], { status: f[header.indexOf('status')], check: f[header.indexOf('check_status')] }]; }));
}

let ok = false;
try {
  // Both backends come up through the /ready check.
  let states = {};
  for (let i = 0; i < 100; i++) {
    states = await serverStates();
    if (states['gateway-1']?.status === 'UP' && states['gateway-2']?.status === 'UP') break;
    await sleep(100);
  }
  check(states['gateway-1']?.status === 'UP' && states['gateway-2']?.status === 'UP', `both backends UP: ${JSON.stringify(states)}`);
  check(states['gateway-1']?.check === 'L7OK', `the health check is HTTP (L7OK): ${JSON.stringify(states)}`);
  for (const s of [a, b]) {
    const m = await new Promise((resolve) => http.get(`${s.url}/metrics`, (res) => { let t = ''; res.on('data', (d) => { t += d; }); res.on('end', () => resolve(t)); }).on('error', () => resolve('')));
    check(/troupe:http_requests_total\{endpoint="\/ready",status="200"\} [1-9]/.test(m), `${s.url} answered HAProxy's GET /ready`);
  }

  // Two long streams: leastconn puts one on each backend.
  const long = { model: 'troupe-tiny-chat', prompt: 'Once upon a time', max_tokens: 60000, ignore_eos: true, stream: true };
  const models = JSON.parse(await new Promise((resolve, reject) => http.get({ host: '127.0.0.1', port: lbPort, path: '/v1/models', headers: { authorization: `Bearer ${API_KEY}` } }, (res) => { let t = ''; res.on('data', (d) => { t += d; }); res.on('end', () => resolve(t)); }).on('error', reject)));
  long.model = models.data[0].id;
  const s1 = await post(lbPort, long, { stream: true });
  const s2 = await post(lbPort, long, { stream: true });
  await sleep(300);
  check(s1.status === 200 && s2.status === 200 && s1.text().includes('data: {') && s2.text().includes('data: {'), 'both streams started');

  // Load: short requests, 8 at a time; backend 1 is killed after 10 of them.
  const total = 48;
  let next = 0, done = 0;
  const results = [];
  const worker = async () => {
    while (next < total) {
      next++;
      const r = await post(lbPort, { model: long.model, prompt: 'Hello there', max_tokens: 8 });
      await r.ended;
      results.push(r.status);
      done++;
      if (done === 10) a.child.kill('SIGKILL');
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const failed = results.filter((s) => s !== 200);
  check(results.length === total && failed.length === 0,
    `every request that had not started succeeded through the retry (${results.length - failed.length}/${total} OK; others: ${JSON.stringify(failed)})`);

  // The stream on the killed backend was cut without [DONE]; the other goes on.
  const ends = await Promise.all([s1, s2].map((s) => Promise.race([s.ended, sleep(3000).then(() => 'running')])));
  const cut = [s1, s2].filter((s, i) => ends[i] !== 'running');
  const alive = [s1, s2].filter((s, i) => ends[i] === 'running');
  check(cut.length === 1 && !cut[0].text().includes('[DONE]'), `the stream on the killed backend is cut (ends: ${ends})`);
  check(alive.length === 1, 'the stream on the surviving backend goes on');
  for (const s of alive) s.abort();

  states = await serverStates();
  check(states['gateway-1']?.status?.startsWith('DOWN'), `the killed backend is marked DOWN: ${JSON.stringify(states)}`);

  // A worker dies under load: streams on the surviving gateway keep going
  // (the one on the dead worker is resubmitted to the other) and new requests
  // are served.
  const counted = { ...long, max_tokens: 300, temperature: 0, stream_options: { include_usage: true } };
  const streams = [await post(lbPort, counted, { stream: true }), await post(lbPort, counted, { stream: true })];
  await sleep(300);
  workers[0].child.kill('SIGKILL');
  const after = [];
  for (let i = 0; i < 8; ++i) {
    const r = await post(lbPort, { model: long.model, prompt: 'Hello there', max_tokens: 8 });
    await r.ended;
    after.push(r.status);
  }
  check(after.every((s) => s === 200), `requests after a worker's death succeed: ${after}`);
  for (const s of streams) {
    const end = await Promise.race([s.ended, sleep(60000).then(() => 'timeout')]);
    const text = s.text();
    const usage = (text.match(/"completion_tokens":(\d+)/) || [])[1];
    check(end === 'end' && text.includes('[DONE]') && text.includes('"finish_reason":"length"') && !text.includes('"error"'),
      `a stream ends normally with [DONE] though a worker died (end: ${end}; ${text.slice(-200)})`);
    check(usage === '300', `and it carries all 300 tokens (usage.completion_tokens ${usage})`);
  }
  const metrics = await new Promise((resolve) => http.get({ host: '127.0.0.1', port: portOf(b.url), path: '/metrics', headers: { authorization: `Bearer ${API_KEY}` } }, (res) => { let t = ''; res.on('data', (d) => { t += d; }); res.on('end', () => resolve(t)); }).on('error', () => resolve('')));
  const moved = workerMetric(metrics, 'worker_failovers_total', workers[0].address);
  check(moved >= 1, `the gateway counts the sequences it moved off the dead worker (${moved})`);
  ok = true;
} finally {
  lb.kill('SIGTERM');
  await a.stop();
  await b.stop();
  for (const w of workers) await w.stop();
  if (!ok) console.error(lbLog.slice(-3000));
}
finish();

// SIGTERM while generations run past shutdown_grace_ms: the process must exit
// within grace + 2 s, and every client must be told why its stream ended (an
// SSE `data: {"error":…}` event, a WebSocket `error` event), never a silent cut.
import fs from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import { startServer, check, finish, modelId, API_KEY, requireClient } from './serve_lib.mjs';

const WebSocket = requireClient('ws');
const GRACE_MS = 1000;

const srv = await startServer(['--shutdown-grace-ms', String(GRACE_MS), '--stats-interval-s', '1']);
const model = await modelId(srv.url, srv.ca);
const tls = srv.ca ? { ca: fs.readFileSync(srv.ca) } : {};

// A completion that would run far longer than the grace period.
function longSse() {
  const mod = srv.url.startsWith('https') ? https : http;
  const body = JSON.stringify({ model, prompt: 'Once upon a time', max_tokens: 60000, ignore_eos: true, stream: true });
  let text = '';
  let firstChunk;
  const started = new Promise((resolve) => { firstChunk = resolve; });
  const ended = new Promise((resolve) => {
    const req = mod.request(new URL('/v1/completions', srv.url), {
      method: 'POST', agent: false, ...tls,
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    }, (res) => {
      res.on('data', (d) => { text += d; if (text.includes('data: {')) firstChunk(); });
      res.on('end', () => resolve({ status: res.statusCode, text, how: 'end' }));
      res.on('error', () => resolve({ status: res.statusCode, text, how: 'error' }));
      res.on('aborted', () => resolve({ status: res.statusCode, text, how: 'aborted' }));
    });
    req.on('error', (e) => resolve({ status: 0, text, how: 'error ' + e.message }));
    req.end(body);
  });
  return { started, ended };
}

function longWs() {
  const ws = new WebSocket(srv.url.replace(/^http/, 'ws') + '/v1/responses', [],
    { headers: { authorization: `Bearer ${API_KEY}` }, ...tls });
  const events = [];
  let firstDelta;
  const started = new Promise((resolve) => { firstDelta = resolve; });
  ws.on('message', (d) => {
    const ev = JSON.parse(d.toString());
    events.push(ev);
    if (ev.type === 'response.output_text.delta') firstDelta();
  });
  const closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
  ws.on('open', () => ws.send(JSON.stringify({ type: 'response.create', stream_id: 's', model,
    input: 'Tell me everything', max_output_tokens: 60000, ignore_eos: true })));
  ws.on('error', () => {});
  return { started, closed, events };
}

const sse = longSse();
const wsc = longWs();
await Promise.all([sse.started, wsc.started]);
// Long enough for one stats line while both streams run.
await new Promise((r) => setTimeout(r, 1500));
const startup = srv.stderr();
check(/troupe: model \S+ \(2 layers, hidden 16, 2 KV heads of 8\), dtype bfloat16, 1 weight file\(s\)/.test(startup),
  `startup names the model and dtype: ${startup.split('\n').find((l) => l.includes('troupe: model'))}`);
check(/troupe: weights loaded \(/.test(startup), 'startup says the weights are loaded');
const plan = startup.split('\n').find((l) => l.includes('memory plan')) || '';
const pm = plan.match(/: (\d+) blocks x 16 tokens = (\d+) KV tokens; max context (\d+) tokens/);
check(pm && Number(pm[1]) > 0 && Number(pm[2]) === 16 * Number(pm[1]), `memory plan: ${plan}`);
const stats = startup.split('\n').filter((l) => l.startsWith('troupe: stats:'));
check(stats.some((l) => /running 2, waiting 0; prompt [\d.]+ tok\/s, generation [1-9][\d.]* tok\/s; KV cache [\d.]+% used; prefix cache hit rate [\d.]+%/.test(l)),
  `a stats line shows both running streams generating: ${stats.slice(-2).join(' | ')}`);

const t0 = Date.now();
const exited = new Promise((resolve) => srv.child.on('exit', (code, signal) => resolve({ code, signal })));
srv.child.kill('SIGTERM');
const deadline = new Promise((resolve) => setTimeout(() => resolve(null), GRACE_MS + 5000));
const exit = await Promise.race([exited, deadline]);
const elapsed = Date.now() - t0;
if (!exit) srv.child.kill('SIGKILL');
console.log(`SIGTERM → exit: ${elapsed} ms (grace ${GRACE_MS} ms)`);
check(exit !== null && elapsed <= GRACE_MS + 2000,
  `troupe exits within grace + 2 s of SIGTERM (took ${elapsed} ms, exit ${JSON.stringify(exit)})`);
check(exit && exit.code === 0, `exit status 0 (got ${JSON.stringify(exit)})`);
check(elapsed >= GRACE_MS - 50, `streams were given the grace period (${elapsed} ms)`);

const r = await sse.ended;
const errLine = r.text.split('\n').find((l) => l.startsWith('data: {"error"'));
check(r.status === 200 && errLine !== undefined, `SSE stream ends with an error event (tail: ${r.text.slice(-300)})`);
if (errLine) {
  const e = JSON.parse(errLine.slice(6)).error;
  check(e.code === 'server_shutting_down' && e.type === 'server_error', `SSE error names the shutdown: ${errLine}`);
}
check(!r.text.includes('data: [DONE]'), 'a cut SSE stream does not claim [DONE]');
check(r.how === 'end', `the chunked response is terminated properly (${r.how})`);

const code = await Promise.race([wsc.closed, new Promise((res) => setTimeout(() => res('open'), 2000))]);
const wsErr = wsc.events.find((e) => e.type === 'error');
check(wsErr && wsErr.stream_id === 's' && wsErr.error.code === 'server_shutting_down',
  `WebSocket stream ends with an error event (last: ${JSON.stringify(wsc.events.slice(-1))})`);
check(code === 1001, `WebSocket closes with 1001 going away (got ${code})`);
check(/troupe: stopped/.test(srv.stderr()), 'the teardown finished (no watchdog exit)');
fs.rmSync(srv.state, { recursive: true, force: true });
finish();

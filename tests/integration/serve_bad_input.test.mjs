// Bad input of every kind gets the right status and an OpenAI error body, and
// the server keeps serving after each.
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { withServer, check, finish, modelId, request, isOpenAIError, API_KEY, requireClient } from './serve_lib.mjs';

const WebSocket = requireClient('ws');

const { url, ca } = await withServer(import.meta.url);
const model = await modelId(url, ca);
const msgs = [{ role: 'user', content: 'hi' }];
const chat = (o) => JSON.stringify({ model, messages: msgs, ...o });

const cases = [
  ['malformed JSON', 'POST', '/v1/chat/completions', '{"messages": [', 400, null],
  ['body is an array', 'POST', '/v1/chat/completions', '[1,2]', 400, null],
  ['empty body', 'POST', '/v1/chat/completions', '', 400, null],
  ['messages missing', 'POST', '/v1/chat/completions', JSON.stringify({ model }), 400, 'messages'],
  ['messages is a string', 'POST', '/v1/chat/completions', JSON.stringify({ model, messages: 'hi' }), 400, 'messages'],
  ['unknown role', 'POST', '/v1/chat/completions', JSON.stringify({ model, messages: [{ role: 'wizard', content: 'x' }] }), 400, 'messages[0].role'],
  ['temperature is a string', 'POST', '/v1/chat/completions', chat({ temperature: 'hot' }), 400, 'temperature'],
  ['temperature out of range', 'POST', '/v1/chat/completions', chat({ temperature: 5 }), 400, 'temperature'],
  ['top_p zero', 'POST', '/v1/chat/completions', chat({ top_p: 0 }), 400, 'top_p'],
  ['negative max_tokens', 'POST', '/v1/chat/completions', chat({ max_tokens: -1 }), 400, 'max_tokens'],
  ['huge max_tokens', 'POST', '/v1/chat/completions', chat({ max_tokens: 1e12 }), 400, 'max_tokens'],
  ['max_tokens past the context', 'POST', '/v1/chat/completions', chat({ max_tokens: 2000000000 }), 400, 'messages', 'context_length_exceeded'],
  ['prompt longer than the context', 'POST', '/v1/completions', JSON.stringify({ model, prompt: 'word '.repeat(300000) }), 400, 'prompt', 'context_length_exceeded'],
  ['stop with 65 entries', 'POST', '/v1/chat/completions', chat({ stop: Array.from({ length: 65 }, (_, i) => `s${i}`) }), 400, 'stop'],
  ['n zero', 'POST', '/v1/chat/completions', chat({ n: 0 }), 400, 'n'],
  ['top_logprobs 50', 'POST', '/v1/chat/completions', chat({ logprobs: true, top_logprobs: 50 }), 400, 'top_logprobs'],
  ['completions logprobs 10', 'POST', '/v1/completions', JSON.stringify({ model, prompt: 'x', logprobs: 10 }), 400, 'logprobs'],
  ['prompt is an object', 'POST', '/v1/completions', JSON.stringify({ model, prompt: { a: 1 } }), 400, 'prompt'],
  ['stream is a string', 'POST', '/v1/completions', JSON.stringify({ model, prompt: 'x', stream: 'yes' }), 400, 'stream'],
  ['unknown model', 'POST', '/v1/chat/completions', JSON.stringify({ model: 'nope', messages: msgs }), 404, 'model', 'model_not_found'],
  ['unknown model id route', 'GET', '/v1/models/nope', undefined, 404, 'model', 'model_not_found'],
  ['unknown route', 'GET', '/v2/everything', undefined, 404, null],
  ['wrong method', 'GET', '/v1/chat/completions', undefined, 405, null],
  ['detokenize tokens wrong type', 'POST', '/detokenize', JSON.stringify({ tokens: 'abc' }), 400, 'tokens'],
  ['tokenize without prompt', 'POST', '/tokenize', JSON.stringify({}), 400, 'prompt'],
  ['responses without upgrade', 'GET', '/v1/responses', undefined, 400, null],
];

async function stillServing(after) {
  const h = await request(url, ca, { path: '/health', key: '' });
  check(h.status === 200, `still serving after: ${after}`);
}

for (const [name, method, path, body, status, param, code] of cases) {
  const r = await request(url, ca, { method, path, body });
  check(r.status === status, `${name}: status ${r.status}, want ${status} (${r.body.slice(0, 160)})`);
  check(isOpenAIError(r.body), `${name}: OpenAI error body`);
  if (param) check(JSON.parse(r.body).error.param === param, `${name}: param ${JSON.parse(r.body).error?.param}, want ${param}`);
  if (code) check(JSON.parse(r.body).error.code === code, `${name}: code ${JSON.parse(r.body).error?.code}`);
  check(typeof r.headers['x-request-id'] === 'string', `${name}: x-request-id`);
  if (status === 400) check(r.headers['x-should-retry'] === 'false', `${name}: x-should-retry false`);
  await stillServing(name);
}

// Invalid UTF-8 inside a JSON string.
{
  const bytes = Buffer.concat([Buffer.from(`{"model":"${model}","messages":[{"role":"user","content":"`), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from('"}]}')]);
  const r = await request(url, ca, { method: 'POST', path: '/v1/chat/completions', body: bytes });
  check(r.status === 400 && isOpenAIError(r.body), `invalid UTF-8: ${r.status}`);
  await stillServing('invalid UTF-8');
}
// Missing and wrong keys.
for (const [name, key] of [['no key', ''], ['wrong key', 'sk-wrong']]) {
  const r = await request(url, ca, { method: 'POST', path: '/v1/chat/completions', body: chat({}), key });
  check(r.status === 401 && JSON.parse(r.body).error.code === 'invalid_api_key', `${name}: 401 invalid_api_key`);
  check(r.headers['x-should-retry'] === 'false', `${name}: x-should-retry false`);
}
// A body over the 4 MiB default.
{
  const r = await request(url, ca, { method: 'POST', path: '/v1/completions', body: JSON.stringify({ model, prompt: 'a'.repeat(5 * 1024 * 1024) }) }).catch((e) => ({ status: 'reset', body: String(e) }));
  check(r.status === 413 && isOpenAIError(r.body), `oversized body: ${r.status}`);
  await stillServing('oversized body');
}
// Headers over the 16 KiB default.
{
  const r = await request(url, ca, { path: '/health', headers: { 'x-big': 'b'.repeat(20000) } }).catch((e) => ({ status: 'reset', body: String(e) }));
  check(r.status === 431 && isOpenAIError(r.body), `oversized headers: ${r.status}`);
  await stillServing('oversized headers');
}
// Garbage instead of HTTP.
{
  const u = new URL(url);
  const sock = u.protocol === 'https:'
    ? tls.connect({ host: u.hostname, port: +u.port, ca: fs.readFileSync(ca), servername: 'localhost' })
    : net.connect({ host: u.hostname, port: +u.port });
  const reply = await new Promise((resolve) => {
    let data = '';
    sock.on('data', (d) => { data += d; });
    sock.on('close', () => resolve(data));
    sock.on('error', () => resolve(data));
    sock.write('THIS IS NOT HTTP\r\n\r\n');
  });
  check(/^HTTP\/1\.1 400/.test(reply), `garbage request line: ${reply.slice(0, 40)}`);
  await stillServing('garbage request');
}

// WebSocket: bad events get error events and the socket stays usable; a too
// big message closes with 1009.
const wsUrl = url.replace(/^http/, 'ws') + '/v1/responses';
const tlsOpt = ca ? { ca: fs.readFileSync(ca) } : {};
{
  const ws = new WebSocket(wsUrl, [], { headers: { authorization: `Bearer ${API_KEY}` }, ...tlsOpt });
  const events = [];
  ws.on('message', (d) => events.push(JSON.parse(d.toString())));
  await new Promise((r, j) => { ws.on('open', r); ws.on('error', j); });
  const next = async (n) => { const t0 = Date.now(); while (events.length < n && Date.now() - t0 < 10000) await new Promise((r) => setTimeout(r, 10)); return events[n - 1]; };
  ws.send('{not json');
  let e = await next(1);
  check(e?.type === 'error' && e.status === 400, 'ws: invalid JSON event');
  ws.send(JSON.stringify({ type: 'response.explode', stream_id: 's' }));
  e = await next(2);
  check(e?.type === 'error' && e.status === 400 && e.stream_id === 's' && e.error.param === 'type', 'ws: unknown event type');
  ws.send(Buffer.from([1, 2, 3]), { binary: true });
  e = await next(3);
  check(e?.type === 'error' && e.status === 400, 'ws: binary frame');
  ws.send(JSON.stringify({ type: 'response.create', stream_id: 's', model }));
  e = await next(4);
  check(e?.type === 'error' && e.error.param === 'input', 'ws: response.create without input');
  ws.send(JSON.stringify({ type: 'response.create', stream_id: 's', model: 'nope', input: 'x' }));
  e = await next(5);
  check(e?.type === 'error' && e.status === 404 && e.error.code === 'model_not_found', 'ws: unknown model');
  ws.send(JSON.stringify({ type: 'response.create', stream_id: 'bad id!', model, input: 'x' }));
  e = await next(6);
  check(e?.type === 'error' && e.error.param === 'stream_id', 'ws: bad stream_id');
  ws.send(JSON.stringify({ type: 'response.cancel', stream_id: 'none' }));
  e = await next(7);
  check(e?.type === 'error' && e.status === 400, 'ws: cancel of an unknown stream');
  ws.send(JSON.stringify({ type: 'response.create', stream_id: 'ok', model, input: 'x', max_output_tokens: 2 }));
  const t0 = Date.now();
  while (!events.some((x) => x.type === 'response.completed') && Date.now() - t0 < 30000) await new Promise((r) => setTimeout(r, 20));
  check(events.some((x) => x.type === 'response.completed'), 'ws: socket still serves after bad events');
  const closed = new Promise((r) => ws.on('close', (code) => r(code)));
  ws.send('x'.repeat(5 * 1024 * 1024));
  const code = await closed;
  check(code === 1009, `ws: too big message closes with 1009 (got ${code})`);
  await stillServing('ws too big');
}
finish();

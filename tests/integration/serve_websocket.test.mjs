// The Responses WebSocket mode at /v1/responses with the `ws` client: two
// streams on one socket, one cancelled; auth by header and by subprotocol.
import fs from 'node:fs';
import { withServer, check, finish, modelId, API_KEY, requireClient } from './serve_lib.mjs';

const WebSocket = requireClient('ws');

const { url, ca } = await withServer(import.meta.url);
const model = await modelId(url, ca);
const wsUrl = url.replace(/^http/, 'ws') + '/v1/responses';
const tls = ca ? { ca: fs.readFileSync(ca) } : {};

function open(protocols, headers) {
  const ws = new WebSocket(wsUrl, protocols, { headers, ...tls });
  const events = [];
  const waiters = [];
  ws.on('message', (data) => {
    const ev = JSON.parse(data.toString());
    events.push(ev);
    for (const w of [...waiters]) if (w.pred(ev)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(ev); }
  });
  const until = (pred, ms = 60000) => new Promise((resolve, reject) => {
    const hit = events.find(pred);
    if (hit) return resolve(hit);
    const t = setTimeout(() => reject(new Error('timed out waiting for an event; got: ' + JSON.stringify(events).slice(-1500))), ms);
    waiters.push({ pred, resolve: (e) => { clearTimeout(t); resolve(e); } });
  });
  const closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
  const opened = new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
  return { ws, events, until, closed, opened };
}

// Two streams at once on one socket; the second is cancelled.
const c = open([], { authorization: `Bearer ${API_KEY}` });
await c.opened;
c.ws.send(JSON.stringify({ type: 'response.create', stream_id: 'a', model, input: 'Tell me a story', max_output_tokens: 12 }));
c.ws.send(JSON.stringify({ type: 'response.create', stream_id: 'b', model, input: [{ role: 'user', content: 'Another one' }],
  instructions: 'Be long.', max_output_tokens: 200, ignore_eos: true, temperature: 0.7 }));
await c.until((e) => e.type === 'response.created' && e.stream_id === 'b');
await c.until((e) => e.type === 'response.output_text.delta' && e.stream_id === 'b');
c.ws.send(JSON.stringify({ type: 'response.cancel', stream_id: 'b' }));
const doneA = await c.until((e) => e.type === 'response.completed' && e.stream_id === 'a');
const endB = await c.until((e) => e.stream_id === 'b' && (e.type === 'response.cancelled' || e.type === 'response.completed'));
check(endB.type === 'response.cancelled' && endB.response.status === 'cancelled', 'cancelled stream ends with status cancelled');
check(doneA.response.status === 'completed', 'other stream completes');
const u = doneA.response.usage;
check(u && u.input_tokens > 0 && u.output_tokens > 0 && u.output_tokens <= 12 && u.total_tokens === u.input_tokens + u.output_tokens, 'usage');
const deltasA = c.events.filter((e) => e.stream_id === 'a' && e.type === 'response.output_text.delta');
const textA = deltasA.map((e) => e.delta).join('');
const doneText = c.events.find((e) => e.stream_id === 'a' && e.type === 'response.output_text.done');
check(doneText && doneText.text === textA, 'output_text.done carries the concatenated deltas');
check(doneA.response.output[0].content[0].text === textA, 'completed response carries the text');
check(deltasA.every((e) => e.output_index === 0 && e.content_index === 0 && typeof e.item_id === 'string'), 'delta fields');
const seqA = c.events.filter((e) => e.stream_id === 'a').map((e) => e.sequence_number);
check(seqA.every((s, i) => s === i), 'sequence_number counts from 0 per stream');
// Same socket still serves after the cancel.
c.ws.send(JSON.stringify({ type: 'response.create', stream_id: 'b', model, input: 'again', max_output_tokens: 3 }));
const again = await c.until((e) => e.type === 'response.completed' && e.stream_id === 'b');
check(again.response.usage.output_tokens <= 3, 'stream id reusable after cancel');
c.ws.close(1000);
check(await c.closed === 1000, 'normal close');

// Browser-style auth: the key in a subprotocol; an accepted one is echoed.
const b = open(['realtime', `openai-insecure-api-key.${API_KEY}`]);
await b.opened;
check(b.ws.protocol === 'realtime', `subprotocol echoed (${b.ws.protocol})`);
b.ws.send(JSON.stringify({ type: 'response.create', model, input: 'hi', max_output_tokens: 2 }));
const bd = await b.until((e) => e.type === 'response.completed');
check(bd.response.status === 'completed', 'subprotocol-authenticated stream completes');
b.ws.close();

// A wrong key: an error event, then close 1008.
const w = open([], { authorization: 'Bearer sk-wrong' });
const code = await w.closed;
check(code === 1008, `wrong key closes with 1008 (got ${code})`);
check(w.events.some((e) => e.type === 'error' && e.status === 401), 'wrong key error event');
finish();

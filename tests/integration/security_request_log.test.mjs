// The request log through the real `troupe serve`: after chat, completion,
// streamed, refused (400, 401) and abandoned requests, over HTTP and the
// Responses WebSocket, `troupe logs export`
// gives one row per request with the principal (key id, never the secret),
// model, endpoint, status, finish reason, the token counts the client saw in
// `usage`, timings and the client address. Prompt and output text are kept
// only with --store-text. A server killed with SIGKILL loses no row of a
// request that finished more than a flush interval before.
import fs from 'node:fs';
import path from 'node:path';
import { startServer, check, finish, modelId, request, requireClient } from './serve_lib.mjs';
import { createKey, exportLog, sleep, streamRequest } from './security_lib.mjs';

const WebSocket = requireClient('ws');

const FLUSH_MS = 200;

// Polls the log until it holds `want` rows (the writer flushes every FLUSH_MS).
async function rowsWhenFlushed(dbUrl, want, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  let rows = [];
  while (Date.now() < end) {
    rows = exportLog(dbUrl);
    if (rows.length >= want) return rows;
    await sleep(100);
  }
  return rows;
}

function fileBytes(state) {
  // The database and its write-ahead log, wherever SQLite keeps the pages.
  return fs.readdirSync(state).filter((f) => f.startsWith('requests.db'))
    .map((f) => fs.readFileSync(path.join(state, f)));
}

// Part 1: one row per request, no text, no secret.
{
  const srv = await startServer(['--flush-ms', String(FLUSH_MS), '--batch-rows', '64']);
  let ok = false;
  try {
    const { url, ca, state } = srv;
    const dbUrl = `sqlite:${path.join(state, 'requests.db')}`;
    const model = await modelId(url, ca);
    const maxModelLen = JSON.parse((await request(url, ca, { path: '/v1/models' })).body).data[0].max_model_len;
    const k = createKey(state, ['--name', 'logged']);
    const principal = `key:${k.id}`;
    const expect = [];  // {request_id, endpoint, status, finish_reason, usage, generated}

    const chatPrompt = 'PROMPT-CHAT-' + Math.random().toString(36).slice(2);
    {
      const r = await request(url, ca, { method: 'POST', path: '/v1/chat/completions', key: k.key,
        body: JSON.stringify({ model, messages: [{ role: 'user', content: chatPrompt }], max_tokens: 5, user: 'end-user-42' }) });
      check(r.status === 200, `chat: ${r.status} ${r.body.slice(0, 200)}`);
      const b = JSON.parse(r.body);
      expect.push({ name: 'chat', request_id: b.id, endpoint: '/v1/chat/completions', status: 200,
        finish_reason: b.choices[0].finish_reason, usage: b.usage, generated: true, output: b.choices[0].message.content,
        user: 'end-user-42' });
    }
    {
      const r = await request(url, ca, { method: 'POST', path: '/v1/completions', key: k.key,
        body: JSON.stringify({ model, prompt: 'Once upon a time', max_tokens: 4 }) });
      check(r.status === 200, `completion: ${r.status} ${r.body.slice(0, 200)}`);
      const b = JSON.parse(r.body);
      expect.push({ name: 'completion', request_id: b.id, endpoint: '/v1/completions', status: 200,
        finish_reason: b.choices[0].finish_reason, usage: b.usage, generated: true });
    }
    {
      const r = await streamRequest(url, ca, '/v1/chat/completions', k.key, { model, stream: true,
        stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'stream please' }], max_tokens: 6 });
      check(r.status === 200 && r.events.length > 0, `streamed chat: ${r.status}`);
      const usage = r.events.find((e) => e.usage)?.usage;
      check(usage && usage.completion_tokens > 0, 'streamed chat: usage chunk');
      const fin = r.events.map((e) => e.choices?.[0]?.finish_reason).find((f) => f);
      expect.push({ name: 'streamed chat', request_id: r.events[0].id, endpoint: '/v1/chat/completions', status: 200,
        finish_reason: fin, usage, generated: true });
    }
    {
      const r = await request(url, ca, { method: 'POST', path: '/v1/chat/completions', key: k.key,
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }], temperature: 'hot' }) });
      check(r.status === 400, `bad temperature: ${r.status}`);
      expect.push({ name: '400', request_id: r.headers['x-request-id'], endpoint: '/v1/chat/completions', status: 400,
        finish_reason: '', usage: { prompt_tokens: 0, completion_tokens: 0 }, generated: false, model: '' });
    }
    {
      const r = await request(url, ca, { method: 'POST', path: '/v1/completions', key: 'sk-wrong-key-0123456789',
        headers: { 'x-request-id': 'e2e-unauthorized-1' }, body: JSON.stringify({ model, prompt: 'x' }) });
      check(r.status === 401, `bad key: ${r.status}`);
      check(r.headers['x-request-id'] === 'e2e-unauthorized-1', 'x-request-id echoed');
      expect.push({ name: '401', request_id: 'e2e-unauthorized-1', endpoint: '/v1/completions', status: 401,
        finish_reason: '', usage: { prompt_tokens: 0, completion_tokens: 0 }, generated: false, principal: '', model: '' });
    }
    {
      const r = await streamRequest(url, ca, '/v1/completions', k.key, { model, stream: true, prompt: 'Keep going',
        ignore_eos: true, max_tokens: Math.min(maxModelLen - 64, 100000) }, { abortAfterEvents: 1 });
      check(r.status === 200 && r.events.length > 0, `abandoned stream started: ${r.status}`);
      expect.push({ name: 'client abort', request_id: r.events[0]?.id, endpoint: '/v1/completions', status: 499,
        finish_reason: 'abort', usage: null, generated: true });
    }
    {
      // The same over the Responses WebSocket: the socket is cut mid-stream.
      const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/responses`, {
        headers: { authorization: `Bearer ${k.key}` }, ca: ca ? fs.readFileSync(ca) : undefined,
      });
      const events = [];
      const gotDelta = new Promise((resolve) => {
        const timer = setTimeout(resolve, 30000);
        ws.on('message', (m) => {
          events.push(JSON.parse(String(m)));
          if (events.at(-1).type === 'response.output_text.delta') { clearTimeout(timer); resolve(); }
        });
        ws.on('close', () => { clearTimeout(timer); resolve(); });
        ws.on('error', () => {});
      });
      await new Promise((resolve) => { ws.on('open', resolve); ws.on('error', resolve); });
      ws.send(JSON.stringify({ type: 'response.create', stream_id: 'w', model, input: 'Keep going',
        ignore_eos: true, max_output_tokens: Math.min(maxModelLen - 64, 100000) }));
      await gotDelta;
      ws.terminate();
      const created = events.find((e) => e.type === 'response.created');
      check(created && events.some((e) => e.type === 'response.output_text.delta'), `WebSocket stream started: ${JSON.stringify(events[0])}`);
      expect.push({ name: 'WebSocket abort', request_id: created?.response?.id, endpoint: 'ws:/v1/responses', status: 499,
        finish_reason: 'abort', usage: null, generated: true });
    }
    {
      // An unknown model is logged with the model that was asked for.
      const r = await request(url, ca, { method: 'POST', path: '/v1/completions', key: k.key,
        headers: { 'x-request-id': 'e2e-unknown-model' }, body: JSON.stringify({ model: 'no-such-model', prompt: 'x' }) });
      check(r.status === 404, `unknown model: ${r.status}`);
      expect.push({ name: '404', request_id: 'e2e-unknown-model', endpoint: '/v1/completions', status: 404,
        finish_reason: '', usage: { prompt_tokens: 0, completion_tokens: 0 }, generated: false, model: 'no-such-model' });
    }
    {
      // A WebSocket response stopped by max_output_tokens ends with "length";
      // an unknown model there is logged with its name as well.
      const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/responses`, {
        headers: { authorization: `Bearer ${k.key}` }, ca: ca ? fs.readFileSync(ca) : undefined,
      });
      const events = [];
      const waitFor = (pred) => new Promise((resolve) => {
        const t = setTimeout(() => resolve(undefined), 30000);
        const look = () => { const e = events.find(pred); if (e) { clearTimeout(t); resolve(e); return true; } return false; };
        if (!look()) ws.on('message', () => look());
      });
      ws.on('message', (m) => events.push(JSON.parse(String(m))));
      await new Promise((resolve) => { ws.on('open', resolve); ws.on('error', resolve); });
      ws.send(JSON.stringify({ type: 'response.create', stream_id: 'len', model, input: 'Keep going',
        ignore_eos: true, max_output_tokens: 3, user: 'ws-user' }));
      const done = await waitFor((e) => e.stream_id === 'len' && (e.type === 'response.completed' || e.type === 'response.incomplete' || e.type === 'error'));
      check(done && done.response, `WebSocket max_output_tokens stream ended: ${JSON.stringify(done)}`);
      const u = done?.response?.usage;
      expect.push({ name: 'WebSocket length', request_id: done?.response?.id, endpoint: 'ws:/v1/responses', status: 200,
        finish_reason: 'length', usage: u ? { prompt_tokens: u.input_tokens, completion_tokens: u.output_tokens } : null,
        generated: true, user: 'ws-user' });
      ws.send(JSON.stringify({ type: 'response.create', stream_id: 'nm', model: 'no-such-model', input: 'x' }));
      const nm = await waitFor((e) => e.stream_id === 'nm' && e.type === 'error');
      check(nm?.status === 404, `WebSocket unknown model: ${JSON.stringify(nm)}`);
      ws.close();
      expect.push({ name: 'WebSocket 404', request_id: null, endpoint: 'ws:/v1/responses', status: 404,
        finish_reason: '', usage: { prompt_tokens: 0, completion_tokens: 0 }, generated: false, model: 'no-such-model' });
    }
    {
      // Refusals on the WebSocket: a bad key at the upgrade, a bad response.create.
      const bad = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/responses`, {
        headers: { authorization: 'Bearer sk-wrong-key-0123456789', 'x-request-id': 'e2e-ws-unauthorized' },
        ca: ca ? fs.readFileSync(ca) : undefined,
      });
      await new Promise((resolve) => { bad.on('close', resolve); bad.on('error', () => {}); });
      expect.push({ name: 'WebSocket 401', request_id: 'e2e-ws-unauthorized', endpoint: 'ws:/v1/responses', status: 401,
        finish_reason: '', usage: { prompt_tokens: 0, completion_tokens: 0 }, generated: false, principal: '', model: '' });
      const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/responses`, {
        headers: { authorization: `Bearer ${k.key}` }, ca: ca ? fs.readFileSync(ca) : undefined,
      });
      await new Promise((resolve) => { ws.on('open', resolve); ws.on('error', resolve); });
      const reply = new Promise((resolve) => { ws.once('message', (m) => resolve(JSON.parse(String(m)))); setTimeout(resolve, 30000); });
      ws.send(JSON.stringify({ type: 'response.create', stream_id: 'x', model, input: 'x', temperature: 'hot' }));
      const ev = await reply;
      check(ev?.type === 'error' && ev?.status === 400, `bad response.create: ${JSON.stringify(ev)}`);
      ws.close();
      expect.push({ name: 'WebSocket 400', request_id: null, endpoint: 'ws:/v1/responses', status: 400,
        finish_reason: '', usage: { prompt_tokens: 0, completion_tokens: 0 }, generated: false, model: '' });
    }

    const rows = await rowsWhenFlushed(dbUrl, expect.length);
    check(rows.length === expect.length, `${rows.length} rows, want ${expect.length}: ${JSON.stringify(rows.map((r) => [r.endpoint, r.status]))}`);
    for (const want of expect) {
      const row = want.request_id === null
        ? rows.find((r) => r.endpoint === want.endpoint && r.status === want.status)
        : rows.find((r) => r.request_id === want.request_id);
      check(row !== undefined, `${want.name}: a row with request_id ${want.request_id}`);
      if (!row) continue;
      check(row.principal === (want.principal ?? principal), `${want.name}: principal '${row.principal}'`);
      // A request refused before its body was read (401) or understood (400) names no model.
      check(row.model === (want.model ?? model), `${want.name}: model '${row.model}'`);
      check(row.endpoint === want.endpoint, `${want.name}: endpoint '${row.endpoint}'`);
      check(row.status === want.status, `${want.name}: status ${row.status}, want ${want.status}`);
      check(row.finish_reason === want.finish_reason, `${want.name}: finish_reason '${row.finish_reason}', want '${want.finish_reason}'`);
      check(row.user === (want.user ?? ''), `${want.name}: user '${row.user}', want '${want.user ?? ''}'`);
      if (want.usage) {
        check(row.prompt_tokens === want.usage.prompt_tokens, `${want.name}: prompt_tokens ${row.prompt_tokens}, client saw ${want.usage.prompt_tokens}`);
        check(row.completion_tokens === want.usage.completion_tokens, `${want.name}: completion_tokens ${row.completion_tokens}, client saw ${want.usage.completion_tokens}`);
      } else {
        check(row.prompt_tokens > 0 && row.completion_tokens >= 1, `${want.name}: tokens ${row.prompt_tokens}+${row.completion_tokens}`);
      }
      if (want.generated) {
        check(row.ttft_ms > 0, `${want.name}: ttft_ms ${row.ttft_ms} > 0`);
        check(row.queue_time_ms >= 0, `${want.name}: queue_time_ms ${row.queue_time_ms} >= 0`);
        check(row.total_ms >= row.ttft_ms, `${want.name}: total_ms ${row.total_ms} >= ttft_ms`);
      }
      check(row.client_address === '127.0.0.1', `${want.name}: client_address '${row.client_address}'`);
      check(Math.abs(row.started_at_unix_ms - Date.now()) < 300000, `${want.name}: started_at ${row.started_at}`);
      check(!('prompt_text' in row) && !('output_text' in row), `${want.name}: no text without --store-text`);
    }
    for (const abortRow of rows.filter((r) => r.status === 499)) {
      check(abortRow.completion_tokens < Math.min(maxModelLen - 64, 100000), `the abandoned ${abortRow.endpoint} request stopped early`);
    }
    for (const bytes of fileBytes(state)) {
      check(!bytes.includes(k.key), 'the database holds the API key secret');
      check(!bytes.includes(chatPrompt), 'the database holds prompt text without --store-text');
    }
    ok = true;
  } finally {
    const code = await srv.stop();
    check(code === 0, `troupe serve exited ${code} on SIGTERM`);
    if (!ok) console.error(srv.stderr());
  }
}

// Part 2: --store-text keeps the prompt and the output; SIGKILL loses nothing
// that finished a flush interval before.
{
  const srv = await startServer(['--store-text', 'true', '--flush-ms', String(FLUSH_MS)]);
  let ok = false;
  try {
    const { url, ca, state, child } = srv;
    const dbUrl = `sqlite:${path.join(state, 'requests.db')}`;
    const model = await modelId(url, ca);
    const prompt = 'Tell me about owls ' + Math.random().toString(36).slice(2);
    const r = await request(url, ca, { method: 'POST', path: '/v1/completions',
      body: JSON.stringify({ model, prompt, max_tokens: 5 }) });
    check(r.status === 200, `completion with text kept: ${r.status}`);
    const b = JSON.parse(r.body);
    const N = 5;
    const ids = [b.id];
    for (let i = 1; i < N; i++) {
      const q = await request(url, ca, { method: 'POST', path: '/v1/completions',
        body: JSON.stringify({ model, prompt: `request ${i}`, max_tokens: 3 }) });
      check(q.status === 200, `request ${i}: ${q.status}`);
      ids.push(JSON.parse(q.body).id);
    }
    // One flush interval (plus slack for a loaded machine), then SIGKILL:
    // no shutdown path runs, only what was committed survives.
    await sleep(FLUSH_MS * 5);
    child.kill('SIGKILL');
    await new Promise((res) => (child.exitCode !== null || child.signalCode !== null ? res() : child.once('exit', res)));
    const rows = exportLog(dbUrl);
    for (const id of ids) check(rows.some((row) => row.request_id === id), `row ${id} survived SIGKILL`);
    check(rows.length === N, `${rows.length} rows after SIGKILL, want ${N}`);
    const row = rows.find((x) => x.request_id === b.id);
    check(row?.prompt_text === prompt, `prompt_text kept: '${row?.prompt_text}'`);
    check(row?.output_text === b.choices[0].text, `output_text kept: '${row?.output_text}' vs '${b.choices[0].text}'`);
    check(row?.principal === 'static:0', `static key principal '${row?.principal}'`);
    ok = true;
  } finally {
    await srv.stop();
    if (!ok) console.error(srv.stderr());
  }
}
finish();

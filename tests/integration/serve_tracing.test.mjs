// OpenTelemetry traces over OTLP/HTTP, received by a collector stand-in that
// decodes every export with the official opentelemetry-proto definitions (the
// protobufjs code generated from them in @opentelemetry/otlp-transformer):
// one trace per request, the caller's W3C traceparent continued and returned,
// spans auth/queue/prefill/decode/response under the server span, GenAI
// attributes that match what the client got, the configured headers sent.
import http from 'node:http';
import fs from 'node:fs';
import { startServer, check, finish, requireClient, API_KEY, modelId, request } from './serve_lib.mjs';

const root = requireClient('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const { ExportTraceServiceRequest } = root.opentelemetry.proto.collector.trace.v1;
const WebSocket = requireClient('ws');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const hex = (b) => Buffer.from(b).toString('hex');

const spans = [];
const exports = [];
const collector = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    exports.push({ headers: req.headers, path: req.url });
    const msg = ExportTraceServiceRequest.decode(Buffer.concat(chunks));
    for (const rs of msg.resourceSpans) {
      const resource = Object.fromEntries(rs.resource.attributes.map((a) => [a.key, a.value.stringValue]));
      for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, resource, scope: ss.scope.name });
    }
    res.writeHead(200, { 'content-type': 'application/x-protobuf' });
    res.end();
  });
});
await new Promise((r) => collector.listen(0, '127.0.0.1', r));
const endpoint = `http://127.0.0.1:${collector.address().port}/v1/traces`;

const srv = await startServer(['--otlp-endpoint', endpoint, '--headers', 'Authorization=Basic cGs6c2s=',
  '--export-interval-ms', '100', '--store-text', 'true', '--service-name', 'troupe-test']);
const attrs = (s) => Object.fromEntries(s.attributes.map((a) => {
  const v = a.value;
  const val = v.stringValue ?? v.boolValue ?? (v.intValue !== undefined && v.intValue !== null ? Number(v.intValue) : undefined) ??
    v.doubleValue ?? v.arrayValue?.values.map((x) => x.stringValue);
  return [a.key, val];
}));
async function spansOf(traceHex, n, ms = 10000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const got = spans.filter((s) => hex(s.traceId) === traceHex);
    if (got.length >= n) return got;
    await sleep(50);
  }
  return spans.filter((s) => hex(s.traceId) === traceHex);
}

try {
  const { url, ca } = srv;
  const model = await modelId(url, ca);
  // 1. A request that continues the caller's trace.
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736', parentId = '00f067aa0ba902b7';
  const r = await request(url, ca, { method: 'POST', path: '/v1/chat/completions',
    headers: { traceparent: `00-${traceId}-${parentId}-01` },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Trace me' }], max_tokens: 6, user: 'u-7' }) });
  check(r.status === 200, `chat ${r.status}`);
  const body = JSON.parse(r.body);
  const tp = r.headers.traceparent || '';
  const m = tp.match(/^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/);
  check(m && m[1] === traceId && m[2] !== parentId, `response traceparent continues the trace: '${tp}'`);
  const got = await spansOf(traceId, 6);
  const server = got.find((s) => s.kind === 2);
  check(server, `a SERVER span in the trace (${got.length} spans)`);
  if (server) {
    check(hex(server.parentSpanId) === parentId, 'the server span is a child of the caller');
    check(m && hex(server.spanId) === m[2], 'the returned traceparent names the server span');
    check(server.name === `chat ${model}`, `span name '${server.name}'`);
    const a = attrs(server);
    check(a['gen_ai.operation.name'] === 'chat' && a['gen_ai.request.model'] === model, `gen_ai model/operation: ${JSON.stringify(a)}`);
    check(a['gen_ai.usage.input_tokens'] === body.usage.prompt_tokens, `input tokens ${a['gen_ai.usage.input_tokens']} = ${body.usage.prompt_tokens}`);
    check(a['gen_ai.usage.output_tokens'] === body.usage.completion_tokens, `output tokens ${a['gen_ai.usage.output_tokens']} = ${body.usage.completion_tokens}`);
    check(a['gen_ai.response.id'] === body.id, 'gen_ai.response.id is the completion id');
    check(JSON.stringify(a['gen_ai.response.finish_reasons']) === JSON.stringify([body.choices[0].finish_reason]), `finish reasons ${a['gen_ai.response.finish_reasons']}`);
    check(a['gen_ai.completion'] === body.choices[0].message.content, 'the output text (store_text on)');
    check(typeof a['gen_ai.prompt'] === 'string' && a['gen_ai.prompt'].includes('Trace me'), 'the prompt text (store_text on)');
    check(a['user.id'] === 'u-7' && a['http.response.status_code'] === 200, 'user.id and status');
    check(typeof a['gen_ai.server.time_to_first_token'] === 'number' && a['gen_ai.server.time_to_first_token'] > 0, 'TTFT attribute');
    check(server.resource['service.name'] === 'troupe-test' && server.scope === 'troupe', 'resource service.name and scope');
    const start = BigInt(server.startTimeUnixNano), end = BigInt(server.endTimeUnixNano);
    check(end > start && Math.abs(Number(start / 1000000n) - Date.now()) < 60000, 'server span times are Unix nanoseconds of now');
    const names = ['auth', 'queue', 'prefill', 'decode', 'response'];
    for (const n of names) {
      const c = got.find((s) => s.name === n);
      check(c && hex(c.parentSpanId) === hex(server.spanId), `${n} span under the server span`);
      if (c) check(BigInt(c.startTimeUnixNano) >= start && BigInt(c.endTimeUnixNano) <= end + 1000000n, `${n} span within the request`);
    }
  }
  check(exports.every((e) => e.headers.authorization === 'Basic cGs6c2s=' && e.headers['content-type'] === 'application/x-protobuf' && e.path === '/v1/traces'),
    'every export is protobuf to /v1/traces with the configured header');

  // 2. Without traceparent: a new trace, the server span a root.
  const r2 = await request(url, ca, { method: 'POST', path: '/v1/completions', body: JSON.stringify({ model, prompt: 'hi', max_tokens: 2 }) });
  const t2 = (r2.headers.traceparent || '').split('-')[1] || '';
  check(/^[0-9a-f]{32}$/.test(t2) && t2 !== traceId && t2 !== '0'.repeat(32), `a new trace id: ${r2.headers.traceparent}`);
  const s2 = (await spansOf(t2, 1)).find((s) => s.kind === 2);
  check(s2 && (!s2.parentSpanId || s2.parentSpanId.length === 0) && s2.name === `text_completion ${model}`, 'the new trace has a root server span');

  // 3. A WebSocket response: its lane is traced under the upgrade's traceparent.
  const wsTrace = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
  const ws = new WebSocket(url.replace(/^http/, 'ws') + '/v1/responses', [], {
    headers: { authorization: `Bearer ${API_KEY}`, traceparent: `00-${wsTrace}-bbbbbbbbbbbbbbbb-01` }, ca: ca ? fs.readFileSync(ca) : undefined });
  await new Promise((res) => ws.on('open', res));
  const done = new Promise((res) => ws.on('message', (d) => { const e = JSON.parse(d); if (e.type === 'response.completed') res(e); }));
  ws.send(JSON.stringify({ type: 'response.create', stream_id: 's', model, input: 'hello', max_output_tokens: 3 }));
  const completed = await done;
  ws.close();
  const ws1 = (await spansOf(wsTrace, 1)).find((s) => s.kind === 2);
  check(ws1 && hex(ws1.parentSpanId) === 'bbbbbbbbbbbbbbbb' && attrs(ws1)['gen_ai.response.id'] === completed.response.id,
    'the WebSocket response is a span of the upgrade\'s trace');

  const metrics = (await request(url, ca, { path: '/metrics' })).body;
  check(/troupe:trace_spans_exported_total [1-9]/.test(metrics), 'exported spans are counted in /metrics');
} finally {
  const code = await srv.stop();
  check(code === 0, `serve exited ${code}`);
  collector.close();
}

// 4. A collector that is down never holds a request up: spans are dropped and counted.
{
  const dead = await startServer(['--otlp-endpoint', 'http://127.0.0.1:9/v1/traces', '--export-interval-ms', '50']);
  try {
    const model = await modelId(dead.url, dead.ca);
    const t0 = Date.now();
    for (let i = 0; i < 3; i++) {
      const r = await request(dead.url, dead.ca, { method: 'POST', path: '/v1/completions', body: JSON.stringify({ model, prompt: 'x', max_tokens: 2 }) });
      check(r.status === 200, `request with the collector down: ${r.status}`);
    }
    check(Date.now() - t0 < 10000, `requests are not held up by a dead collector (${Date.now() - t0} ms for 3)`);
    let metrics = '';
    for (let i = 0; i < 40 && !/troupe:trace_export_failures_total [1-9]/.test(metrics); i++) {
      await sleep(100);
      metrics = (await request(dead.url, dead.ca, { path: '/metrics' })).body;
    }
    check(/troupe:trace_export_failures_total [1-9]/.test(metrics) && /troupe:trace_spans_dropped_total [1-9]/.test(metrics),
      'failed exports and dropped spans are counted');
  } finally {
    await dead.stop();
  }
}
finish();

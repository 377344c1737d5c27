// Defects an outside raw-socket battery found at the HTTP/WebSocket edge, each
// checked as a client sees it on the wire: a number outside double range, a
// bad chunk size, a malformed Sec-WebSocket-Key, a bad WebSocket version, a
// WebSocket frame declaring 2^62 bytes, a response.create with several bad
// fields, and how fast 413/431 arrive.
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import crypto from 'node:crypto';
import { withServer, check, finish, modelId, request, isOpenAIError, API_KEY } from './serve_lib.mjs';

const { url, ca } = await withServer(import.meta.url);
const model = await modelId(url, ca);
const u = new URL(url);

function connect() {
  return u.protocol === 'https:'
    ? tls.connect({ host: u.hostname, port: +u.port, ca: fs.readFileSync(ca), servername: 'localhost' })
    : net.connect({ host: u.hostname, port: +u.port });
}

// Writes `parts` (strings/Buffers) on a fresh connection and collects what
// comes back until the server closes, `until(data)` holds, or `ms` pass.
// Resolves {data, closed, firstByteMs, untilMs, closedMs}.
function exchange(parts, { ms = 5000, until = null, keepOpen = true } = {}) {
  return new Promise((resolve) => {
    const sock = connect();
    let data = Buffer.alloc(0), closed = false, firstByteMs = null, untilMs = null, closedMs = null;
    const t0 = Date.now();
    const done = () => { clearTimeout(timer); sock.destroy(); resolve({ data, closed, firstByteMs, untilMs, closedMs }); };
    const timer = setTimeout(done, ms);
    sock.on('data', (d) => {
      if (firstByteMs === null) firstByteMs = Date.now() - t0;
      data = Buffer.concat([data, d]);
      if (until && untilMs === null && until(data)) { untilMs = Date.now() - t0; done(); }
    });
    const ended = () => { if (!closed) closedMs = Date.now() - t0; closed = true; };
    sock.on('end', () => { ended(); if (!keepOpen) done(); });
    sock.on('close', () => { ended(); done(); });
    sock.on('error', () => {});
    const ready = u.protocol === 'https:' ? 'secureConnect' : 'connect';
    sock.once(ready, () => { for (const p of parts) sock.write(p); });
  });
}

function httpParts(data) {
  const s = data.toString('latin1');
  const head = s.slice(0, s.indexOf('\r\n\r\n') + 4);
  const status = Number((/^HTTP\/1\.1 (\d{3})/.exec(head) || [])[1]);
  const cl = Number((/content-length: *(\d+)/i.exec(head) || [])[1] || 0);
  const body = s.slice(head.length, head.length + cl);
  return { status, head, body, complete: head.length > 0 && s.length >= head.length + cl };
}
const gotHttpAnswer = (d) => httpParts(d).complete && !Number.isNaN(httpParts(d).status);
const auth = `Authorization: Bearer ${API_KEY}\r\n`;

async function stillServing(after) {
  const h = await request(url, ca, { path: '/health', key: '' });
  check(h.status === 200, `still serving after: ${after}`);
}

// 1. A number outside double range is a 400 naming the field.
for (const [path, body, param] of [
  ['/v1/chat/completions', `{"model":"${model}","messages":[{"role":"user","content":"hi"}],"max_tokens":1e999999}`, 'max_tokens'],
  ['/v1/completions', `{"model":"${model}","prompt":"hi","temperature":-1e999999}`, 'temperature'],
  ['/v1/chat/completions', `{"model":"${model}","messages":[{"role":"user","content":"hi","x":[1,2e400]}]}`, 'messages[0].x[1]'],
]) {
  const r = await request(url, ca, { method: 'POST', path, body });
  check(r.status === 400, `out-of-range number (${param}): status ${r.status} (${r.body.slice(0, 160)})`);
  check(isOpenAIError(r.body) && JSON.parse(r.body).error.param === param,
    `out-of-range number: param ${isOpenAIError(r.body) ? JSON.parse(r.body).error.param : '?'}, want ${param}`);
}
await stillServing('out-of-range number');

// 2. A chunked body with an invalid chunk size: 400, then the server closes.
{
  const r = await exchange([`POST /v1/completions HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\n` +
    'Transfer-Encoding: chunked\r\n\r\nzz\r\n{"prompt":"x"}\r\n0\r\n\r\n'], { ms: 5000 });
  const p = httpParts(r.data);
  check(p.status === 400 && isOpenAIError(p.body), `bad chunk size: status ${p.status} (${r.data.toString().slice(0, 120)})`);
  check(r.closed, 'bad chunk size: connection closed after the answer');
  await stillServing('bad chunk size');
}

// 3. WebSocket upgrades: a key that is not a base64 16-byte nonce is a 400;
// a version other than 13 is a 426 with an OpenAI error body; a good one is 101.
const upgrade = (key, version = '13') => `GET /v1/responses HTTP/1.1\r\nHost: x\r\n${auth}` +
  `Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: ${version}\r\nSec-WebSocket-Key: ${key}\r\n\r\n`;
const goodKey = crypto.randomBytes(16).toString('base64');
for (const [name, req, want] of [
  ['key "nope"', upgrade('nope'), 400],
  ['key of 12 bytes', upgrade(crypto.randomBytes(12).toString('base64')), 400],
  ['key missing', upgrade('').replace('Sec-WebSocket-Key: \r\n', ''), 400],
  ['version 12', upgrade(goodKey, '12'), 426],
  ['good key', upgrade(goodKey), 101],
]) {
  const r = await exchange([req], { ms: 5000, until: (d) => d.includes('\r\n\r\n') && (want === 101 || gotHttpAnswer(d)) });
  const p = httpParts(r.data);
  check(p.status === want, `ws upgrade, ${name}: status ${p.status}, want ${want}`);
  if (want !== 101) check(isOpenAIError(p.body), `ws upgrade, ${name}: OpenAI error body (${p.body.slice(0, 80)})`);
  if (want === 426) check(/sec-websocket-version: *13/i.test(p.head), 'ws upgrade, version 12: Sec-WebSocket-Version: 13 offered');
}
await stillServing('ws upgrades');

// A client frame (masked) with the given payload length field.
function frameHeader(opcode, len) {
  const mask = crypto.randomBytes(4);
  let h;
  if (len < 126) h = Buffer.from([0x80 | opcode, 0x80 | len]);
  else if (len < 65536) { h = Buffer.alloc(4); h[0] = 0x80 | opcode; h[1] = 0x80 | 126; h.writeUInt16BE(len, 2); }
  else { h = Buffer.alloc(10); h[0] = 0x80 | opcode; h[1] = 0x80 | 127; h.writeBigUInt64BE(BigInt(len), 2); }
  return { head: Buffer.concat([h, mask]), mask };
}
function textFrame(s) {
  const payload = Buffer.from(s);
  const { head, mask } = frameHeader(1, payload.length);
  for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i % 4];
  return Buffer.concat([head, payload]);
}
// Server frames after the 101 head: [{opcode, payload}].
function serverFrames(data) {
  const s = data.indexOf('\r\n\r\n');
  let b = data.subarray(s + 4);
  const out = [];
  while (b.length >= 2) {
    let len = b[1] & 0x7f, off = 2;
    if (len === 126) { if (b.length < 4) break; len = b.readUInt16BE(2); off = 4; }
    else if (len === 127) { if (b.length < 10) break; len = Number(b.readBigUInt64BE(2)); off = 10; }
    if (b.length < off + len) break;
    out.push({ opcode: b[0] & 0x0f, payload: b.subarray(off, off + len) });
    b = b.subarray(off + len);
  }
  return out;
}
const closeFrame = (d) => serverFrames(d).find((f) => f.opcode === 8);

// 4. A frame that declares 2^62 bytes is refused at its header with 1009.
{
  const { head } = frameHeader(1, 2 ** 62);
  const r = await exchange([upgrade(goodKey), head], { ms: 10000, until: (d) => !!closeFrame(d) });
  const c = closeFrame(r.data);
  check(!!c && c.payload.readUInt16BE(0) === 1009, `2^62-byte frame: close code ${c ? c.payload.readUInt16BE(0) : 'none'}, want 1009`);
  check(r.untilMs !== null && r.untilMs < 2000, `2^62-byte frame refused within 2 s (${r.untilMs} ms)`);
  await stillServing('huge ws frame');
}

// 5. response.create with a wrong-type input and a bad max_output_tokens:
// the error names 'input' as the wrong type and reports max_output_tokens too.
{
  const ev = JSON.stringify({ type: 'response.create', stream_id: 's', model, input: 5, max_output_tokens: -3 });
  const r = await exchange([upgrade(goodKey), textFrame(ev)], { ms: 10000,
    until: (d) => serverFrames(d).some((f) => f.opcode === 1) });
  const text = serverFrames(r.data).find((f) => f.opcode === 1);
  const e = text ? JSON.parse(text.payload.toString()) : null;
  check(e?.type === 'error' && e.status === 400 && e.error.param === 'input', `ws input 5: param ${e?.error?.param}`);
  check(e && !/required/.test(e.error.message) && /must be a string or an array/.test(e.error.message),
    `ws input 5: says wrong type, not missing (${e?.error?.message})`);
  check(e && /max_output_tokens/.test(e.error.message), `ws input 5: max_output_tokens reported too (${e?.error?.message})`);
}
// The same holds over HTTP: every bad field is named in the message.
{
  const r = await request(url, ca, { method: 'POST', path: '/v1/chat/completions',
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }], temperature: 'hot', top_p: 7, n: 0 }) });
  const e = isOpenAIError(r.body) ? JSON.parse(r.body).error : null;
  check(r.status === 400 && e?.param === 'temperature', `several bad fields: first named in param (${e?.param})`);
  check(e && /top_p/.test(e.message) && /'n'/.test(e.message), `several bad fields: all in the message (${e?.message})`);
}

// 6. 413 and 431 arrive as soon as the limit is crossed, and the connection
// ends right after (a client reading to end-of-stream is not kept waiting).
{
  const big = 'x-big: ' + 'b'.repeat(20000) + '\r\n';
  const r = await exchange([`GET /health HTTP/1.1\r\nHost: x\r\n${big}`], { ms: 5000, keepOpen: false });
  const p = httpParts(r.data);
  check(p.status === 431 && isOpenAIError(p.body), `oversized headers: ${p.status}`);
  check(r.firstByteMs !== null && r.firstByteMs < 1000, `431 within 1 s (${r.firstByteMs} ms)`);
  check(r.closedMs !== null && r.closedMs < 1000, `431: connection ended within 1 s (${r.closedMs} ms)`);
}
{
  const r = await exchange([`POST /v1/completions HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\n` +
    `Content-Length: ${64 * 1024 * 1024}\r\n\r\n{"prompt":"`], { ms: 5000, keepOpen: false });
  const p = httpParts(r.data);
  check(p.status === 413 && isOpenAIError(p.body), `declared oversized body: ${p.status}`);
  check(r.firstByteMs !== null && r.firstByteMs < 1000, `413 within 1 s (${r.firstByteMs} ms)`);
  check(r.closedMs !== null && r.closedMs < 1000, `413: connection ended within 1 s (${r.closedMs} ms)`);
}
{
  // A chunked body that grows past the limit while it is being sent.
  const chunk = 'a'.repeat(1024 * 1024);
  const parts = [`POST /v1/completions HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`];
  for (let i = 0; i < 6; i++) parts.push(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
  const r = await exchange(parts, { ms: 5000, keepOpen: false });
  const p = httpParts(r.data);
  check(p.status === 413 && isOpenAIError(p.body), `chunked oversized body: ${p.status}`);
  check(r.firstByteMs !== null && r.firstByteMs < 1000, `chunked 413 within 1 s (${r.firstByteMs} ms)`);
  check(r.closedMs !== null && r.closedMs < 1000, `chunked 413: connection ended within 1 s (${r.closedMs} ms)`);
}
await stillServing('413/431');
finish();

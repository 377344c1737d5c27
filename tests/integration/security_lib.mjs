// Shared by the security_* integration tests: run the `troupe keys` / `troupe
// logs` commands, parse /metrics, and small request helpers on top of
// serve_lib.mjs.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { request } from './serve_lib.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Runs `troupe ARGS…`; returns {code, stdout, stderr}.
export function troupe(args) {
  const r = spawnSync(process.env.TROUPE_BIN, args, { encoding: 'utf8', timeout: 60000 });
  return { code: r.status, stdout: r.stdout || '', stderr: r.stderr || '' };
}

// `troupe keys create` against the server's key file; resolves {key, id}.
// The id comes from the "Created <id> …" line on stderr, the key (shown once)
// is stdout.
export function createKey(stateDir, extra = []) {
  const r = troupe(['keys', 'create', '--db', path.join(stateDir, 'keys.db'), ...extra]);
  if (r.code !== 0) throw new Error(`troupe keys create failed: ${r.stderr}`);
  const m = r.stderr.match(/Created (\S+)/);
  if (!m) throw new Error(`no key id in: ${r.stderr}`);
  return { key: r.stdout.trim(), id: m[1] };
}

export function revokeKey(stateDir, id) {
  return troupe(['keys', 'revoke', id, '--db', path.join(stateDir, 'keys.db')]);
}

// Every row of the request log as parsed JSON (`troupe logs export --since 0`).
export function exportLog(dbUrl) {
  const r = troupe(['logs', 'export', '--since', '0', '--db', dbUrl]);
  if (r.code !== 0) throw new Error(`troupe logs export failed (${r.code}): ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

// Prometheus text → Map("name{labels}" → number).
export function parseMetrics(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

export async function metrics(url, ca) {
  const r = await request(url, ca, { path: '/metrics', key: '' });
  return parseMetrics(r.body);
}

// A short completion with the given bearer key; resolves the raw response.
export function complete(url, ca, model, key, extra = {}) {
  return request(url, ca, {
    method: 'POST', path: '/v1/completions', key,
    body: JSON.stringify({ model, prompt: 'Hello', max_tokens: 2, ...extra }),
  });
}

// POST that reads an SSE stream; with abortAfterEvents the socket is
// destroyed once that many data events arrived. Resolves {status, headers, events}.
export async function streamRequest(url, ca, p, key, body, { abortAfterEvents = 0 } = {}) {
  const mod = url.startsWith('https') ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    const req = mod.request(new URL(p, url), {
      method: 'POST', agent: false, ca: ca ? fs.readFileSync(ca) : undefined,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    }, (res) => {
      let buf = '';
      const events = [];
      res.on('data', (c) => {
        buf += c;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const ev = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = ev.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (data && data !== '[DONE]') events.push(JSON.parse(data));
        }
        if (abortAfterEvents && events.length >= abortAfterEvents) {
          req.destroy();
          resolve({ status: res.statusCode, headers: res.headers, events });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, events }));
      res.on('error', () => resolve({ status: res.statusCode, headers: res.headers, events }));
    });
    req.on('error', (e) => { if (!abortAfterEvents) reject(e); });
    req.end(JSON.stringify(body));
  });
}

// Shared by the serve_* integration tests: start `troupe serve` on an
// ephemeral port (or use TROUPE_TEST_URL when a test harness already runs a
// server), and small assertion helpers. Exit code 77 = skipped.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

// Client packages come from tests/node/node_modules through NODE_PATH, which
// only CommonJS resolution honors (ESM `import` ignores it).
export const requireClient = createRequire(import.meta.url);

export const API_KEY = process.env.TROUPE_TEST_KEY || 'sk-test-key';

export function skip(why) {
  console.log(`SKIP: ${why}`);
  process.exit(77);
}

let failures = 0;
let passes = 0;
export function check(cond, what) {
  if (cond) { passes++; } else { failures++; console.error(`FAIL: ${what}`); }
}
export function finish() {
  console.log(`${passes} passed, ${failures} failed`);
  process.exit(failures ? 1 : 0);
}

// Starts the server; resolves {url, ca, stop()}. Extra args go to `serve`.
// opts.apiKey: the static --api-key (default API_KEY; null = none).
export async function startServer(extraArgs = [], opts = {}) {
  if (process.env.TROUPE_TEST_URL) {
    return { url: process.env.TROUPE_TEST_URL, ca: process.env.TROUPE_TEST_CA || '', stop: async () => 0 };
  }
  const bin = process.env.TROUPE_BIN;
  const src = process.env.TROUPE_SOURCE_DIR;
  if (!bin || !fs.existsSync(bin)) skip('TROUPE_BIN is not set to a built troupe binary');
  const model = path.join(src || '.', 'tests/data/models/tiny-llama3');
  if (!fs.existsSync(model)) skip(`test model ${model} is not there yet`);
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'troupe-serve-'));
  const apiKey = opts.apiKey === undefined ? API_KEY : opts.apiKey;
  const keyArgs = apiKey === null ? [] : ['--api-key', apiKey];
  const args = ['serve', '--model', model, '--port', '0', ...keyArgs, '--state-dir', state, ...extraArgs];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no listening line within 120 s; stderr: ${stderr}`)), 120000);
    const exitedEarly = (code) => {
      clearTimeout(timer);
      fs.rmSync(state, { recursive: true, force: true });
      reject(new Error(`serve exited ${code}: ${stderr}`));
    };
    child.on('exit', exitedEarly);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/troupe: listening on (https?:\/\/[^\s]+)/);
      if (m) { clearTimeout(timer); child.removeListener('exit', exitedEarly); resolve(m[1]); }
    });
  });
  const ca = path.join(state, 'tls', 'cert.pem');
  // Stops the server (SIGTERM) and removes its state directory; resolves the
  // exit code (or the signal that ended it).
  const removeState = () => fs.rmSync(state, { recursive: true, force: true });
  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      removeState();
      return resolve(child.exitCode ?? child.signalCode);
    }
    child.removeAllListeners('exit');
    child.on('exit', (code, signal) => { removeState(); resolve(code ?? signal); });
    child.kill('SIGTERM');
  });
  return { url, ca: fs.existsSync(ca) ? ca : '', stop, child, state, stderr: () => stderr };
}

// HTTPS/HTTP request with the server's CA; resolves {status, headers, body}.
export async function request(url, ca, { method = 'GET', path: p = '/', headers = {}, body, key = API_KEY } = {}) {
  const mod = url.startsWith('https') ? await import('node:https') : await import('node:http');
  const u = new URL(p, url);
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (key) h.authorization = `Bearer ${key}`;
    if (body !== undefined && !h['content-type']) h['content-type'] = 'application/json';
    const req = mod.request(u, { method, headers: h, ca: ca ? fs.readFileSync(ca) : undefined, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export function isOpenAIError(body) {
  try {
    const e = JSON.parse(body).error;
    return e && typeof e.message === 'string' && typeof e.type === 'string' && 'param' in e && 'code' in e;
  } catch { return false; }
}

// Runs the calling test against a server: when TROUPE_TEST_URL is set (a
// harness or a parent run started the server) it returns {url, ca}; otherwise
// it starts `troupe serve`, re-runs this very script as a child with
// TROUPE_TEST_URL and NODE_EXTRA_CA_CERTS (so fetch-based clients such as the
// OpenAI SDK trust the generated certificate), stops the server with SIGTERM,
// checks it exited 0, and exits with the child's status.
export async function withServer(scriptUrl, extraArgs = []) {
  if (process.env.TROUPE_TEST_URL) {
    return { url: process.env.TROUPE_TEST_URL, ca: process.env.TROUPE_TEST_CA || '' };
  }
  const srv = await startServer(extraArgs);
  const { fileURLToPath } = await import('node:url');
  const env = { ...process.env, TROUPE_TEST_URL: srv.url, TROUPE_TEST_CA: srv.ca, TROUPE_TEST_KEY: API_KEY };
  if (srv.ca) env.NODE_EXTRA_CA_CERTS = srv.ca;
  const child = spawn(process.execPath, [fileURLToPath(scriptUrl)], { env, stdio: 'inherit' });
  const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  const exitCode = await srv.stop();
  if (exitCode !== 0) {
    console.error(`FAIL: troupe serve exited ${exitCode} on SIGTERM (want 0); stderr:\n${srv.stderr()}`);
    process.exit(1);
  }
  process.exit(code);
}

export async function modelId(url, ca) {
  const r = await request(url, ca, { path: '/v1/models' });
  return JSON.parse(r.body).data[0].id;
}

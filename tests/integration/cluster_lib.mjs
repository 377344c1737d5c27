// Shared by the cluster_* integration tests: start `troupe worker` and
// `troupe gateway` processes on loopback (plain BASP with
// --cluster-plaintext unless TLS files are given), stream completions through
// a gateway, and read its /metrics. Exit code 77 = skipped.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { skip } from './serve_lib.mjs';

export const KEY = 'sk-cluster-test';

export function binAndModel() {
  const bin = process.env.TROUPE_BIN;
  const src = process.env.TROUPE_SOURCE_DIR || '.';
  if (!bin || !fs.existsSync(bin)) skip('TROUPE_BIN is not set to a built troupe binary');
  const model = path.join(src, 'tests/data/models/tiny-llama3');
  if (!fs.existsSync(path.join(model, 'tokenizer.json'))) skip(`test model ${model} is not there yet`);
  return { bin, model };
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// Spawns a troupe process (inside network namespace netns, if given) and
// resolves once a stdout line matches ready.
function startProcess(bin, args, ready, what, netns = null) {
  const child = netns ? spawn('ip', ['netns', 'exec', netns, bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let out = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const started = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: not ready within 60 s; stderr: ${stderr}`)), 60000);
    child.on('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`${what} exited ${code ?? signal}: ${stderr}`)); });
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(ready);
      if (m) { clearTimeout(timer); child.removeAllListeners('exit'); resolve(m); }
    });
  });
  const proc = { child, stderr: () => stderr };
  proc.kill9 = () => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.on('exit', () => resolve()); child.kill('SIGKILL');
  });
  proc.stop = (signal = 'SIGTERM') => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode ?? child.signalCode);
    child.on('exit', (code, sig) => resolve(code ?? sig)); child.kill(signal);
  });
  return started.then((m) => Object.assign(proc, { match: m }));
}

export function clusterArgs(tls) {
  if (!tls) return ['--cluster-plaintext'];
  return ['--cluster-cert', tls.cert, '--cluster-key', tls.key, '--cluster-ca', tls.ca];
}

// A worker on host:port (127.0.0.1 unless given) serving the tiny test model on the CPU.
export async function startWorker(port, { tls = null, extra = [], host = '127.0.0.1', netns = null } = {}) {
  const { bin, model } = binAndModel();
  const args = ['worker', '--model', model, '--listen', `${host}:${port}`, ...clusterArgs(tls),
    '--executor', 'cpu', '--num-threads', '1', '--kv-cache-bytes', String(64 << 20), ...extra];
  const w = await startProcess(bin, args, /troupe worker: serving/, `worker ${host}:${port}`, netns);
  w.address = `${host}:${port}`;
  return w;
}

// A gateway dialing the given workers (ports on 127.0.0.1, or "host:port"
// strings); plain HTTP on an ephemeral loopback port.
export async function startGateway(workers, { tls = null, extra = [] } = {}) {
  const { bin } = binAndModel();
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'troupe-gateway-'));
  const addr = (w) => (typeof w === 'number' ? `127.0.0.1:${w}` : w);
  const args = ['gateway', ...workers.flatMap((w) => ['--worker', addr(w)]), ...clusterArgs(tls),
    '--port', '0', '--no-tls', '--api-key', KEY, '--state-dir', state, '--log.url', 'off', ...extra];
  const g = await startProcess(bin, args, /troupe: listening on (http:\/\/[^\s]+)/, 'gateway');
  g.url = g.match[1];
  const stop = g.stop;
  g.stop = async (signal) => { const r = await stop(signal); fs.rmSync(state, { recursive: true, force: true }); return r; };
  return g;
}

export async function get(url, p) {
  const res = await fetch(new URL(p, url), { headers: { authorization: `Bearer ${KEY}` } });
  return { status: res.status, body: await res.text() };
}

export async function waitFor(cond, what, timeoutMs = 20000) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await cond()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// The gauge/counter value of a worker-labelled metric, or undefined.
export function workerMetric(text, name, address) {
  const re = new RegExp(`^troupe:${name}\\{worker="${address.replace(/[.]/g, '\\.')}"[^}]*\\} (\\S+)$`, 'm');
  const m = text.match(re);
  return m ? Number(m[1]) : undefined;
}

// Streams a completion; onChunk(n) is awaited after each text chunk. Resolves
// {text, finish, errors, chunks, done, maxGapMs (longest pause between chunks)}.
export async function streamCompletion(url, body, onChunk = async () => {}) {
  const res = await fetch(new URL('/v1/completions', url), {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tiny-llama3', stream: true, ...body }),
  });
  if (res.status !== 200) return { status: res.status, text: '', errors: [await res.text()], chunks: 0 };
  const decoder = new TextDecoder();
  let buffer = '';
  const out = { status: 200, text: '', finish: null, errors: [], chunks: 0, done: false, maxGapMs: 0 };
  let last = Date.now();
  for await (const part of res.body) {
    buffer += decoder.decode(part, { stream: true });
    let i;
    while ((i = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      const data = event.replace(/^data: /, '');
      if (data === '[DONE]') { out.done = true; continue; }
      const j = JSON.parse(data);
      if (j.error) { out.errors.push(j.error); continue; }
      for (const c of j.choices || []) {
        out.text += c.text || '';
        if (c.finish_reason) out.finish = c.finish_reason;
      }
      out.chunks++;
      const now = Date.now();
      out.maxGapMs = Math.max(out.maxGapMs, now - last);
      last = now;
      await onChunk(out.chunks);
    }
  }
  return out;
}

// A throwaway PKI: makeCa(name) and makeNode(name, ca) → {cert, key, ca} paths
// (EC P-256, one day), under a temporary folder that cleanup() removes.
export function clusterPki() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'troupe-cluster-pki-'));
  const openssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  return {
    dir,
    makeCa(name) {
      openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
        '-keyout', `${name}.key`, '-out', `${name}.pem`, '-subj', `/CN=${name}`);
    },
    makeNode(name, ca) {
      openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`,
        '-out', `${name}.csr`, '-subj', `/CN=${name}`);
      openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial',
        '-days', '1', '-out', `${name}.pem`);
      return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`), ca: path.join(dir, `${ca}.pem`) };
    },
    cleanup() { fs.rmSync(dir, { recursive: true, force: true }); },
  };
}

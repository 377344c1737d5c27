// Failover time: two `troupe worker`s behind a `troupe gateway` on loopback;
// a stream runs, the worker running it is killed with SIGKILL, and the pause
// from the last token before the kill to the next token (from the surviving
// worker) is measured. Repeated --kills times (default 50); prints p50/p99.
//
// usage: node bench/cluster/failover_time.mjs [--kills N] [--tls]
// Environment: TROUPE_BIN (default build/troupe), TROUPE_SOURCE_DIR (default .)
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
process.env.TROUPE_BIN ||= path.join(root, 'build/troupe');
process.env.TROUPE_SOURCE_DIR ||= root;
const lib = await import(path.join(root, 'tests/integration/cluster_lib.mjs'));

const args = process.argv.slice(2);
const kills = Number(args[args.indexOf('--kills') + 1] || 0) || 50;
let tls = null;
let pki = null;
if (args.includes('--tls')) {
  pki = lib.clusterPki();
  pki.makeCa('ca');
  tls = pki.makeNode('node', 'ca');
}
const ports = [await lib.freePort(), await lib.freePort()];
const workers = [await lib.startWorker(ports[0], { tls }), await lib.startWorker(ports[1], { tls })];
const gateway = await lib.startGateway(ports, { tls });
const addresses = ports.map((p) => `127.0.0.1:${p}`);
const gaps = [];
try {
  await lib.waitFor(async () => (await lib.get(gateway.url, '/ready')).status === 200, 'ready');
  for (let k = 0; k < kills; k++) {
    let killedAt = 0;
    let victim = -1;
    let gap = null;
    let lastChunk = 0;
    const out = await lib.streamCompletion(gateway.url,
      { prompt: 'In the beginning', max_tokens: 600, temperature: 0, ignore_eos: true }, async (n) => {
        const now = Date.now();
        if (victim >= 0 && gap === null && now > killedAt) gap = now - lastChunk;
        lastChunk = now;
        if (n !== 8 || victim >= 0) return;
        const m = (await lib.get(gateway.url, '/metrics')).body;
        victim = addresses.findIndex((a) => lib.workerMetric(m, 'worker_in_flight', a) > 0);
        if (victim < 0) return;
        await workers[victim].kill9();
        killedAt = Date.now();
        lastChunk = killedAt;
      });
    if (victim < 0 || out.errors.length) { console.error(`kill ${k}: skipped (${JSON.stringify(out.errors)})`); continue; }
    if (gap !== null) gaps.push(gap);
    workers[victim] = await lib.startWorker(ports[victim], { tls });
    await lib.waitFor(async () =>
      lib.workerMetric((await lib.get(gateway.url, '/metrics')).body, 'worker_healthy', addresses[victim]) === 1, 're-admission');
  }
} finally {
  await gateway.stop();
  for (const w of workers) await w.kill9();
  if (pki) pki.cleanup();
}
if (process.env.TROUPE_BENCH_VERBOSE) console.log(`gaps (ms): ${gaps.join(" ")}`);
gaps.sort((a, b) => a - b);
const q = (p) => gaps[Math.min(gaps.length - 1, Math.floor(p * gaps.length))];
console.log(`failover: ${gaps.length} kills, kill → next token p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${gaps[gaps.length - 1]} ms (${tls ? 'mutual TLS' : 'plaintext'} link on loopback)`);

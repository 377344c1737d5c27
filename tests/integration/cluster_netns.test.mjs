// Topology tests across network namespaces this test creates (root only):
// two workers, each in a namespace of its own behind a veth pair, and a
// gateway in the test's namespace, linked by BASP over mutual TLS (the
// production transport; plaintext is refused off loopback). A network cut
// (link down) between gateway and the busy worker
// mid-stream: the stream continues on the other worker, identical to an
// undisturbed run; the cut worker is ejected within the heartbeat bound and
// re-admitted after the link heals. A frozen (SIGSTOP) worker is ejected and
// its stream fails over the same way. A restarted gateway finds its workers
// again. Addresses are 10.231.<n>.0/30 inside the namespaces made here.
import { execFileSync } from 'node:child_process';
import { check, finish, skip } from './serve_lib.mjs';
import { clusterPki, get, startGateway, startWorker, streamCompletion, waitFor, workerMetric } from './cluster_lib.mjs';

if (process.getuid && process.getuid() !== 0) skip('network namespaces need root');
const ip = (...args) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const tag = String(process.pid % 100000);
const namespaces = [`trpw1-${tag}`, `trpw2-${tag}`];
const hostLinks = [`trh1-${tag}`, `trh2-${tag}`];
const subnets = [1, 2].map((i) => `10.231.${(Number(tag) % 120) * 2 + i}`);
function teardown() {
  for (const ns of namespaces) { try { ip('netns', 'del', ns); } catch { /* gone */ } }
  for (const l of hostLinks) { try { ip('link', 'del', l); } catch { /* gone with its namespace */ } }
}
try {
  for (let i = 0; i < 2; i++) {
    ip('netns', 'add', namespaces[i]);
    ip('-n', namespaces[i], 'link', 'set', 'lo', 'up');
    ip('link', 'add', hostLinks[i], 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespaces[i]);
    ip('addr', 'add', `${subnets[i]}.1/30`, 'dev', hostLinks[i]);
    ip('-n', namespaces[i], 'addr', 'add', `${subnets[i]}.2/30`, 'dev', 'eth0');
    ip('link', 'set', hostLinks[i], 'up');
    ip('-n', namespaces[i], 'link', 'set', 'eth0', 'up');
  }
} catch (e) {
  teardown();
  skip(`cannot create network namespaces here: ${String(e.stderr || e.message).trim()}`);
}
process.on('exit', teardown);

const pki = clusterPki();
pki.makeCa('ca');
const tls = pki.makeNode('node', 'ca');
const addresses = subnets.map((s) => `${s}.2:7070`);
const workers = [];
let gateway = null;
const eject = ['--eject-after-ms', '2000', '--heartbeat-ms', '250'];
try {
  for (let i = 0; i < 2; i++) workers.push(await startWorker(7070, { tls, host: `${subnets[i]}.2`, netns: namespaces[i], extra: eject }));
  gateway = await startGateway(addresses, { tls, extra: eject });
  await waitFor(async () => (await get(gateway.url, '/ready')).status === 200, 'the gateway to be ready');
  const busyWorker = async () => {
    const m = (await get(gateway.url, '/metrics')).body;
    return addresses.findIndex((a) => workerMetric(m, 'worker_in_flight', a) > 0);
  };
  const body = { prompt: 'And it came to pass', max_tokens: 1500, temperature: 0, ignore_eos: true };
  const reference = await streamCompletion(gateway.url, body);
  check(reference.errors.length === 0 && reference.finish === 'length', 'undisturbed run across namespaces');

  // 1. A network cut mid-stream.
  let cut = -1;
  const out = await streamCompletion(gateway.url, body, async (n) => {
    if (cut >= 0) return;
    if (n !== 20) return;
    cut = await busyWorker();
    if (cut < 0) return;
    ip('link', 'set', hostLinks[cut], 'down');
  });
  check(cut >= 0, 'the link of the busy worker was cut mid-stream');
  check(out.errors.length === 0 && out.text === reference.text, `the cut stream continued identically (${out.text.length} vs ${reference.text.length} chars, finish ${out.finish}, done ${out.done}, status ${out.status}, errors ${JSON.stringify(out.errors)})\n${gateway.stderr()}`);
  console.log(`network cut: longest pause in the stream ${out.maxGapMs} ms (eject after 2000 ms)`);
  const m1 = (await get(gateway.url, '/metrics')).body;
  check(workerMetric(m1, 'worker_healthy', addresses[cut]) === 0, 'the cut worker is ejected');
  ip('link', 'set', hostLinks[cut], 'up');
  const healed = await waitFor(async () =>
    workerMetric((await get(gateway.url, '/metrics')).body, 'worker_healthy', addresses[cut]) === 1, 'healing', 30000);
  console.log(`network cut: worker re-admitted ${healed} ms after the link came back`);

  // 2. A frozen worker (SIGSTOP) is ejected and its stream fails over.
  let frozen = -1;
  const out2 = await streamCompletion(gateway.url, body, async (n) => {
    if (n !== 20 || frozen >= 0) return;
    frozen = await busyWorker();
    if (frozen >= 0) workers[frozen].child.kill('SIGSTOP');
  });
  check(frozen >= 0 && out2.errors.length === 0 && out2.text === reference.text, 'a frozen worker\'s stream continued identically');
  workers[frozen].child.kill('SIGCONT');
  await waitFor(async () => workerMetric((await get(gateway.url, '/metrics')).body, 'worker_healthy', addresses[frozen]) === 1,
    're-admission of the thawed worker', 30000);
  check(true, 'the thawed worker is re-admitted');

  // 3. A gateway restart: the new gateway finds both workers again.
  await gateway.stop();
  gateway = await startGateway(addresses, { tls, extra: eject });
  await waitFor(async () => (await get(gateway.url, '/ready')).status === 200, 'the restarted gateway to be ready');
  const out3 = await streamCompletion(gateway.url, { ...body, max_tokens: 50 });
  check(out3.errors.length === 0 && reference.text.startsWith(out3.text), 'the restarted gateway serves');
} catch (e) {
  check(false, `${e.stack}\ngateway stderr: ${gateway ? gateway.stderr() : ''}`);
} finally {
  if (gateway) await gateway.stop();
  for (const w of workers) { w.child.kill('SIGCONT'); await w.kill9(); }
  pki.cleanup();
  teardown();
}
finish();

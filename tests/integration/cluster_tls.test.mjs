// Node-to-node trust: a worker and a gateway holding certificates signed by
// the cluster CA talk over mutually authenticated TLS; a gateway whose
// certificate another CA signed cannot join (no model, not ready), and the
// plaintext transport is refused off loopback.
import { spawnSync } from 'node:child_process';
import { check, finish } from './serve_lib.mjs';
import { binAndModel, clusterPki, freePort, get, startGateway, startWorker, streamCompletion, waitFor } from './cluster_lib.mjs';

const pki = clusterPki();
const { makeCa, makeNode } = pki;
makeCa('cluster-ca');
makeCa('rogue-ca');
const workerTls = makeNode('worker', 'cluster-ca');
const gatewayTls = makeNode('gateway', 'cluster-ca');
const rogue = { ...makeNode('rogue', 'rogue-ca'), ca: workerTls.ca };

const port = await freePort();
const worker = await startWorker(port, { tls: workerTls });
let good = null;
let bad = null;
try {
  good = await startGateway([port], { tls: gatewayTls });
  await waitFor(async () => (await get(good.url, '/ready')).status === 200, 'the TLS gateway to be ready');
  const out = await streamCompletion(good.url, { prompt: 'In the beginning', max_tokens: 20, temperature: 0 });
  check(out.errors.length === 0 && out.finish !== null, 'a completion over the mutual-TLS cluster link works');

  bad = await startGateway([port], { tls: rogue });
  await new Promise((r) => setTimeout(r, 4000));
  check((await get(bad.url, '/ready')).status === 503, 'a gateway without the cluster credential is not ready');
  check(JSON.parse((await get(bad.url, '/v1/models')).body).data.length === 0,
    'a gateway without the cluster credential learns no model');
  const refused = await streamCompletion(bad.url, { prompt: 'x', max_tokens: 4 });
  check(refused.status === 404 || refused.status === 503, `and cannot run a request (status ${refused.status})`);

  const { bin, model } = binAndModel();
  const plainOff = spawnSync(bin, ['worker', '--model', model, '--listen', '0.0.0.0:1', '--cluster-plaintext'], { encoding: 'utf8' });
  check(plainOff.status === 2 && /loopback/.test(plainOff.stderr), `plaintext off loopback is refused: ${plainOff.stderr}`);
  const noCert = spawnSync(bin, ['gateway', '--worker', '127.0.0.1:1'], { encoding: 'utf8' });
  check(noCert.status !== 0 && /--cluster-cert/.test(noCert.stderr), `a gateway without TLS files is refused: ${noCert.stderr}`);
} catch (e) {
  check(false, `${e.stack}\nworker stderr: ${worker.stderr()}`);
} finally {
  if (good) await good.stop();
  if (bad) await bad.stop();
  await worker.stop();
  pki.cleanup();
}
finish();

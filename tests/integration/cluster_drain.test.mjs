// Draining and rolling restarts: SIGTERM to a worker stops its admission,
// lets its running stream finish, and exits 0; a rolling restart of both
// workers under steady load loses no request.
import { check, finish } from './serve_lib.mjs';
import { freePort, get, startGateway, startWorker, streamCompletion, waitFor, workerMetric } from './cluster_lib.mjs';

const ports = [await freePort(), await freePort()];
const workers = [await startWorker(ports[0]), await startWorker(ports[1])];
const gateway = await startGateway(ports);
const addresses = ports.map((p) => `127.0.0.1:${p}`);

try {
  await waitFor(async () => (await get(gateway.url, '/ready')).status === 200, 'the gateway to be ready');
  const body = { prompt: 'And God said', max_tokens: 400, temperature: 0, ignore_eos: true };
  const reference = await streamCompletion(gateway.url, body);
  let drained = null;
  let exit = null;
  const out = await streamCompletion(gateway.url, body, async (n) => {
    if (n !== 10 || drained !== null) return;
    const m = (await get(gateway.url, '/metrics')).body;
    drained = addresses.findIndex((a) => workerMetric(m, 'worker_in_flight', a) > 0);
    if (drained >= 0) exit = workers[drained].stop('SIGTERM');
  });
  check(drained >= 0, 'SIGTERM went to the worker running the stream');
  check(out.errors.length === 0 && out.text === reference.text, 'the draining worker finished its stream unchanged');
  check((await exit) === 0, 'the drained worker exited 0');
  workers[drained] = await startWorker(ports[drained]);
  await waitFor(async () => workerMetric((await get(gateway.url, '/metrics')).body, 'worker_healthy', addresses[drained]) === 1,
    're-admission after the restart');

  // Rolling restart under load: 3 clients loop on short requests meanwhile.
  let stop = false;
  let ok = 0;
  const failed = [];
  const client = async () => {
    while (!stop) {
      const r = await streamCompletion(gateway.url, { prompt: 'Blessed are', max_tokens: 24, temperature: 0.7, seed: ok });
      if (r.status === 200 && r.errors.length === 0 && r.finish) ok++;
      else failed.push(r);
    }
  };
  const clients = [client(), client(), client()];
  for (let i = 0; i < 2; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    check((await workers[i].stop('SIGTERM')) === 0, `worker ${i} drained and exited 0 under load`);
    workers[i] = await startWorker(ports[i]);
    await waitFor(async () => workerMetric((await get(gateway.url, '/metrics')).body, 'worker_healthy', addresses[i]) === 1,
      `re-admission of worker ${i}`);
  }
  await new Promise((r) => setTimeout(r, 1000));
  stop = true;
  await Promise.all(clients);
  check(failed.length === 0, `a rolling restart lost no request (${ok} ok, ${failed.length} failed: ${JSON.stringify(failed.slice(0, 2))})`);
  check(ok > 10, `requests ran during the restart (${ok})`);
} catch (e) {
  check(false, `${e.stack}\ngateway stderr: ${gateway.stderr()}`);
} finally {
  await gateway.stop();
  for (const w of workers) await w.kill9();
}
finish();

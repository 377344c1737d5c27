// Real processes on loopback: two `troupe worker`s behind one `troupe
// gateway`. A worker killed with SIGKILL mid-stream loses no stream: the
// client reads exactly the text of an undisturbed run (greedy and seeded),
// with no error; the dead worker is ejected and re-admitted when it returns;
// with no worker left, the stream ends with an error event.
import { check, finish } from './serve_lib.mjs';
import { freePort, get, startGateway, startWorker, streamCompletion, waitFor, workerMetric } from './cluster_lib.mjs';

const ports = [await freePort(), await freePort()];
const workers = [await startWorker(ports[0]), await startWorker(ports[1])];
const gateway = await startGateway(ports);
const addresses = ports.map((p) => `127.0.0.1:${p}`);

try {
  await waitFor(async () => (await get(gateway.url, '/ready')).status === 200, 'the gateway to be ready');
  const models = JSON.parse((await get(gateway.url, '/v1/models')).body);
  check(models.data.length === 1 && models.data[0].id === 'tiny-llama3', `/v1/models lists the workers' model: ${JSON.stringify(models)}`);

  const prompt = 'The quick brown fox jumps over the lazy dog';
  const cases = [
    { name: 'greedy', body: { prompt, max_tokens: 160, temperature: 0, ignore_eos: true } },
    { name: 'seeded', body: { prompt, max_tokens: 160, temperature: 1.0, top_p: 0.95, seed: 7, ignore_eos: true } },
  ];
  for (const c of cases) {
    const undisturbed = await streamCompletion(gateway.url, c.body);
    check(undisturbed.errors.length === 0 && undisturbed.finish === 'length', `${c.name}: undisturbed run completes`);
    let killed = null;
    const disturbed = await streamCompletion(gateway.url, c.body, async (n) => {
      if (n !== 12 || killed) return;
      const m = (await get(gateway.url, '/metrics')).body;
      const busy = addresses.findIndex((a) => workerMetric(m, 'worker_in_flight', a) > 0);
      check(busy >= 0, `${c.name}: /metrics shows which worker runs the stream`);
      if (busy < 0) return;
      killed = busy;
      await workers[busy].kill9();
    });
    check(killed !== null, `${c.name}: a worker was killed mid-stream`);
    check(disturbed.errors.length === 0, `${c.name}: no error after the kill: ${JSON.stringify(disturbed.errors)}`);
    check(disturbed.finish === 'length' && disturbed.done, `${c.name}: the stream finished normally`);
    check(disturbed.text === undisturbed.text,
      `${c.name}: the stream is identical to the undisturbed run\n  undisturbed: ${JSON.stringify(undisturbed.text)}\n  disturbed:   ${JSON.stringify(disturbed.text)}`);
    if (killed === null) continue;
    const metrics = (await get(gateway.url, '/metrics')).body;
    check(workerMetric(metrics, 'worker_failovers_total', addresses[killed]) >= 1, `${c.name}: the failover is counted`);
    check(workerMetric(metrics, 'worker_healthy', addresses[killed]) === 0, `${c.name}: the dead worker is ejected`);
    check((await get(gateway.url, '/ready')).status === 200, `${c.name}: still ready with one worker left`);
    // The worker returns on the same address and is re-admitted.
    workers[killed] = await startWorker(ports[killed]);
    const ms = await waitFor(async () =>
      workerMetric((await get(gateway.url, '/metrics')).body, 'worker_healthy', addresses[killed]) === 1,
      're-admission of the restarted worker');
    console.log(`${c.name}: worker ${addresses[killed]} re-admitted ${ms} ms after it restarted`);
  }

  // No worker left: the stream ends with a clear error event, never a silent cut.
  const last = await streamCompletion(gateway.url, cases[0].body, async (n) => {
    if (n === 5) await Promise.all(workers.map((w) => w.kill9()));
  });
  check(last.errors.length === 1 && /no other worker/.test(last.errors[0].message || ''),
    `with no worker left the stream ends with an error event: ${JSON.stringify(last.errors)}`);
  await waitFor(async () => (await get(gateway.url, '/ready')).status === 503, '/ready to turn 503 without workers');
  check(true, '/ready is 503 while no worker of the model is left');
} catch (e) {
  check(false, `${e.stack}\ngateway stderr: ${gateway.stderr()}`);
} finally {
  await gateway.stop();
  for (const w of workers) await w.kill9();
}
finish();

// Structural check of deploy/compose/compose.yaml (no compose engine runs on
// CI machines): it parses, every service has an image, the files it mounts
// from the repository exist, the two gateways are the HAProxy backends and
// dial the worker over mutual TLS with the certificates cluster-pki makes,
// keys, shared limits and the request log are in PostgreSQL, and Prometheus
// scrapes the gateways.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const YAML = require('yaml');
const dir = path.resolve(process.argv[2] || 'deploy/compose');
const file = path.join(dir, 'compose.yaml');
const doc = YAML.parse(fs.readFileSync(file, 'utf8'), { merge: true });
let failures = 0;
const check = (ok, what) => { if (!ok) { failures++; console.error(`FAIL compose: ${what}`); } };

const services = doc.services || {};
for (const name of ['postgres', 'cluster-pki', 'worker-1', 'gateway-1', 'gateway-2', 'haproxy', 'prometheus', 'grafana'])
  check(services[name], `service ${name} is missing`);
for (const [name, s] of Object.entries(services)) {
  check(s.image, `service ${name} has no image`);
  for (const v of s.volumes || []) {
    const src = String(v).split(':')[0];
    if (src.startsWith('.')) check(fs.existsSync(path.resolve(dir, src)), `${name} mounts ${src}, which does not exist`);
    else check((doc.volumes || {})[src] !== undefined, `${name} mounts volume ${src}, which is not declared`);
  }
  if (s.build) check(fs.existsSync(path.resolve(dir, s.build.context, s.build.dockerfile)), `${name}: Dockerfile ${s.build.dockerfile} missing`);
}
const lb = services.haproxy?.environment || {};
check(lb.TROUPE_GATEWAY_1 === 'gateway-1:8000' && lb.TROUPE_GATEWAY_2 === 'gateway-2:8000', 'HAProxy backends are not gateway-1/gateway-2:8000');
const pkiScript = (services['cluster-pki']?.command || []).join('\n');
for (const name of ['gateway-1', 'gateway-2', 'worker-1']) {
  const args = services[name]?.command || [];
  check(args[0] === (name.startsWith('gateway') ? 'gateway' : 'worker'), `${name} does not run its role`);
  check(!args.includes('--cluster-plaintext'), `${name} uses the plaintext cluster link`);
  for (const flag of ['--cluster-cert=', '--cluster-key=', '--cluster-ca=']) {
    const file = (args.find((a) => a.startsWith(flag)) || '').slice(flag.length);
    check(file && pkiScript.includes(path.basename(file)), `${name}: ${flag} names a file cluster-pki does not make`);
  }
  check((services[name]?.depends_on || {})['cluster-pki']?.condition === 'service_completed_successfully',
    `${name} does not wait for cluster-pki`);
  check((services[name]?.stop_grace_period || '') !== '', `${name}: no stop_grace_period for the drain`);
}
const gw = services['gateway-1']?.command || [];
const worker = services['worker-1']?.command || [];
const advertised = (worker.find((a) => a.startsWith('--advertise=')) || '').slice('--advertise='.length);
check(gw.includes(`--worker=${advertised}`), `the gateways do not dial the worker's advertised address ${advertised}`);
check(gw.includes('--port=8000') && gw.includes('--no-tls'), 'the gateways do not serve plain HTTP on 8000');
for (const flag of ['--url=postgresql://', '--keys-db=postgresql://', '--limits.shared-url=postgresql://'])
  check(gw.some((a) => a.startsWith(flag)), `the gateways lack ${flag}…`);
const prom = YAML.parse(fs.readFileSync(path.resolve(dir, '../prometheus/prometheus.yml'), 'utf8'));
const targets = prom.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
check(targets.includes('gateway-1:8000') && targets.includes('gateway-2:8000'), 'Prometheus does not scrape gateway-1/2');
console.log(`compose: ${Object.keys(services).length} services, ${failures} problems`);
process.exit(failures ? 1 : 0);

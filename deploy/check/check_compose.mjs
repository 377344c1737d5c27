// Structural check of deploy/compose/compose.yaml (no compose engine runs on
// CI machines): it parses, every service has an image, the files it mounts
// from the repository exist, the two Troupe servers are the HAProxy backends,
// and Prometheus scrapes them.
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
for (const name of ['postgres', 'troupe-1', 'troupe-2', 'haproxy', 'prometheus', 'grafana'])
  check(services[name], `service ${name} is missing`);
for (const [name, s] of Object.entries(services)) {
  check(s.image, `service ${name} has no image`);
  for (const v of s.volumes || []) {
    const src = String(v).split(':')[0];
    if (src.startsWith('.')) check(fs.existsSync(path.resolve(dir, src)), `${name} mounts ${src}, which does not exist`);
  }
  if (s.build) check(fs.existsSync(path.resolve(dir, s.build.context, s.build.dockerfile)), `${name}: Dockerfile ${s.build.dockerfile} missing`);
}
const lb = services.haproxy?.environment || {};
check(lb.TROUPE_GATEWAY_1 === 'troupe-1:8000' && lb.TROUPE_GATEWAY_2 === 'troupe-2:8000', 'HAProxy backends are not troupe-1/troupe-2:8000');
const args = services['troupe-1']?.command || [];
check(args.includes('--port=8000') && args.includes('--no-tls'), 'troupe-1 does not serve plain HTTP on 8000');
check(args.some((a) => a.startsWith('--url=postgresql://')), 'the request log is not PostgreSQL');
check((services['troupe-1']?.stop_grace_period || '') !== '', 'no stop_grace_period for the drain');
const prom = YAML.parse(fs.readFileSync(path.resolve(dir, '../prometheus/prometheus.yml'), 'utf8'));
const targets = prom.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
check(targets.includes('troupe-1:8000') && targets.includes('troupe-2:8000'), 'Prometheus does not scrape troupe-1/2');
console.log(`compose: ${Object.keys(services).length} services, ${failures} problems`);
process.exit(failures ? 1 : 0);

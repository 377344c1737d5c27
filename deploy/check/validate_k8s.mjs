// Validates Kubernetes manifests against the API schemas of the
// kubernetes-models package (the OpenAPI schemas of Kubernetes, compiled to
// JSON-schema validators). Reads multi-document YAML files or stdin ("-").
// Every object must be of a known apiVersion/kind and pass its schema.
// usage: node validate_k8s.mjs FILE.yaml... ; exits 1 on the first bad file.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const YAML = require('yaml');

// kubernetes-models is ESM-only, and ESM imports ignore NODE_PATH: find the
// package in the NODE_PATH folders (tests/node/node_modules) by hand.
const modelsDir = (process.env.NODE_PATH || '').split(path.delimiter)
  .map((d) => path.join(d, 'kubernetes-models'))
  .find((d) => fs.existsSync(path.join(d, 'package.json')));
if (!modelsDir) {
  console.log('SKIP: kubernetes-models is not installed (scripts/setup-test-data.sh installs it)');
  process.exit(77);
}

async function modelFor(apiVersion, kind) {
  // core/v1 lives at kubernetes-models/v1, apps/v1 at kubernetes-models/apps/v1.
  const file = path.join(modelsDir, apiVersion, `${kind}.js`);
  if (!/^[A-Za-z]+$/.test(kind) || !fs.existsSync(file)) return null;
  return (await import(pathToFileURL(file).href))[kind];
}

let failures = 0;
let objects = 0;
for (const file of process.argv.slice(2)) {
  const text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  for (const doc of YAML.parseAllDocuments(text)) {
    if (doc.errors.length) { failures++; console.error(`FAIL ${file}: ${doc.errors[0].message}`); continue; }
    const obj = doc.toJS();
    if (obj === null) continue;
    objects++;
    const what = `${file}: ${obj.apiVersion}/${obj.kind} ${obj.metadata?.name}`;
    const Model = await modelFor(obj.apiVersion, obj.kind);
    if (!Model) { failures++; console.error(`FAIL ${what}: unknown apiVersion/kind`); continue; }
    try {
      new Model(obj).validate();
    } catch (e) {
      failures++;
      console.error(`FAIL ${what}: ${e.message}`);
    }
  }
}
console.log(`${objects} objects checked, ${failures} invalid`);
process.exit(failures || objects === 0 ? 1 : 0);

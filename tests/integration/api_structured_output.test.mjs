// Structured output against `troupe serve` on the random-weight test model at
// temperature 1: every sampled output must parse and validate against its
// schema (checked by Python's jsonschema, an independent validator), match
// its guided_regex (Python's re.fullmatch) or be one of its guided_choice
// strings. Also: the OpenAI SDK's response_format json_schema, streaming, and
// the 400s for schemas the compiler refuses.
import { spawnSync } from 'node:child_process';
import { withServer, check, finish, modelId, request, API_KEY, requireClient, skip } from './serve_lib.mjs';

const probe = spawnSync('/usr/bin/python3', ['-c', 'import jsonschema'], { encoding: 'utf8' });
if (probe.status !== 0) skip('python3-jsonschema is not installed');

const { url, ca } = await withServer(import.meta.url);
const model = await modelId(url, ca);

async function post(path, body) {
  const r = await request(url, ca, { method: 'POST', path, body: JSON.stringify(body) });
  return { status: r.status, json: JSON.parse(r.body) };
}

const str = { type: 'string' };
const int = { type: 'integer' };
const schemas = [
  { type: 'object', properties: { name: str, age: int }, required: ['name', 'age'], additionalProperties: false },
  { type: 'object', properties: { ok: { type: 'boolean' }, nothing: { type: 'null' } }, required: ['ok', 'nothing'] },
  { type: 'object', properties: { x: { type: 'number' }, y: { type: 'number', minimum: 0 } }, required: ['x', 'y'] },
  { type: 'object', properties: { color: { enum: ['red', 'green', 'blue'] }, n: { type: 'integer', minimum: 1, maximum: 12 } }, required: ['color', 'n'] },
  { type: 'object', properties: { tags: { type: 'array', items: str, maxItems: 3 } }, required: ['tags'] },
  { type: 'object', properties: { pts: { type: 'array', items: { type: 'object', properties: { x: int, y: int }, required: ['x', 'y'] }, minItems: 1, maxItems: 2 } }, required: ['pts'] },
  { type: 'object', properties: { a: str, b: int, c: { type: 'boolean' } }, required: ['b'] },
  { type: 'object', properties: { a: str, b: int }, required: [] },
  { type: 'object', properties: { id: { type: 'string', pattern: '^[A-Z]{2}-[0-9]{3}$' } }, required: ['id'] },
  { type: 'object', properties: { code: { type: 'string', minLength: 2, maxLength: 5 } }, required: ['code'] },
  { type: 'object', properties: { v: { anyOf: [int, { type: 'string', maxLength: 4 }, { type: 'null' }] } }, required: ['v'] },
  { type: 'object', properties: { v: { type: ['integer', 'null'] } }, required: ['v'] },
  { type: 'object', properties: { kind: { const: 'point' }, at: { $ref: '#/$defs/pt' } }, required: ['kind', 'at'],
    $defs: { pt: { type: 'object', properties: { x: int, y: int }, required: ['x', 'y'], additionalProperties: false } } },
  { type: 'object', properties: { p: { $ref: '#/definitions/person' } }, required: ['p'],
    definitions: { person: { type: 'object', properties: { name: { type: 'string', maxLength: 8 }, friends: { type: 'array', items: { type: 'string', maxLength: 6 }, maxItems: 2 } }, required: ['name', 'friends'] } } },
  { type: 'object', properties: { outer: { type: 'object', properties: { inner: { type: 'object', properties: { deep: { type: 'boolean' } }, required: ['deep'] } }, required: ['inner'] } }, required: ['outer'] },
  { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 2, maxItems: 4 },
  { type: 'string', enum: ['yes', 'no', 'maybe'] },
  { type: 'integer', minimum: -5, maximum: 5 },
  { type: 'object', additionalProperties: { type: 'integer' } },
  { type: 'object', properties: { d: { type: 'string', format: 'date' }, u: { type: 'string', format: 'uuid' } }, required: ['d', 'u'] },
  { type: 'object', properties: { when: { type: 'string', format: 'date-time' } }, required: ['when'] },
  { type: 'object', properties: { free: {} }, required: ['free'] },
  { type: 'object', properties: { name: { type: 'string', title: 'Name', description: 'who' }, n: { type: 'number', default: 1 } }, required: ['name', 'n'], additionalProperties: false, title: 'T' },
  { anyOf: [{ type: 'object', properties: { a: int }, required: ['a'] }, { type: 'object', properties: { b: { type: 'boolean' } }, required: ['b'] }] },
];

// A wide schema (many properties) compiles and validates too.
const wide = { type: 'object', properties: {}, required: [], additionalProperties: false };
for (let i = 0; i < 50; i++) {
  wide.properties[`field_${i}`] = i % 3 === 0 ? { type: 'boolean' } : i % 3 === 1 ? { type: 'integer', minimum: 0 } : { enum: ['a', 'b'] };
  wide.required.push(`field_${i}`);
}
schemas.push(wide);

const samples = [];  // {schema, text, where}
let finishedStop = 0;
for (let i = 0; i < schemas.length; i++) {
  for (const seed of [1, 2]) {
    const body = {
      model, messages: [{ role: 'user', content: `Give me JSON number ${i}` }], temperature: 1, seed, max_tokens: schemas[i] === wide ? 1200 : 400,
      response_format: { type: 'json_schema', json_schema: { name: `s${i}`, strict: true, schema: schemas[i] } },
    };
    const r = await post('/v1/chat/completions', body);
    check(r.status === 200, `schema ${i} seed ${seed}: status ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
    if (r.status !== 200) continue;
    if (r.json.choices[0].finish_reason === 'stop') finishedStop++;
    samples.push({ schema: schemas[i], text: r.json.choices[0].message.content, where: `schema ${i} seed ${seed}` });
  }
}
// guided_json on completions, several prompts and n.
{
  const schema = { type: 'object', properties: { k: { type: 'string', maxLength: 10 }, v: { type: 'integer' } }, required: ['k', 'v'] };
  const r = await post('/v1/completions', { model, prompt: ['a', 'b'], n: 2, temperature: 1, seed: 5, max_tokens: 120, guided_json: schema });
  check(r.status === 200 && r.json.choices.length === 4, 'guided_json completions: 4 choices');
  for (const c of r.json.choices ?? []) samples.push({ schema, text: c.text, where: `guided_json choice ${c.index}` });
}
// json_object: any object.
for (const seed of [1, 2, 3, 4]) {
  const r = await post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'json' }], temperature: 1, seed, max_tokens: 300, response_format: { type: 'json_object' } });
  check(r.status === 200, `json_object seed ${seed}`);
  if (r.status === 200) samples.push({ schema: { type: 'object' }, text: r.json.choices[0].message.content, where: `json_object seed ${seed}` });
}

// Python validates every sample; prints one line per failure.
const py = `
import json, sys, jsonschema
bad = 0
for s in json.load(sys.stdin):
    try:
        jsonschema.validate(json.loads(s["text"]), s["schema"])
    except Exception as e:
        bad += 1
        print(s["where"], repr(s["text"][:200]), str(e).splitlines()[0])
sys.exit(1 if bad else 0)
`;
const v = spawnSync('/usr/bin/python3', ['-c', py], { input: JSON.stringify(samples), encoding: 'utf8' });
check(v.status === 0, `every output validates against its schema (python jsonschema):\n${v.stdout}${v.stderr}`);
check(samples.length >= 2 * schemas.length, `enough samples (${samples.length})`);
check(finishedStop >= schemas.length, `most schema outputs end by themselves (${finishedStop} stop)`);

// guided_regex and guided_choice, checked with Python's re.
const regexes = ['[a-z]{3,8}@[a-z]{2,5}\\.(com|org)', '(\\d{3}-){2}\\d{4}', 'Answer: (yes|no)', '[A-Z][a-z]*( [A-Z][a-z]*){0,3}'];
const rx = [];
for (const pattern of regexes) {
  for (const seed of [1, 2]) {
    const r = await post('/v1/completions', { model, prompt: 'x', temperature: 1, seed, max_tokens: 60, guided_regex: pattern });
    check(r.status === 200, `guided_regex ${pattern}`);
    if (r.status === 200) rx.push({ pattern, text: r.json.choices[0].text });
  }
}
const pyre = `
import json, re, sys
bad = [s for s in json.load(sys.stdin) if not re.fullmatch(s["pattern"], s["text"])]
for s in bad: print(s)
sys.exit(1 if bad else 0)
`;
const vr = spawnSync('/usr/bin/python3', ['-c', pyre], { input: JSON.stringify(rx), encoding: 'utf8' });
check(vr.status === 0, `guided_regex outputs fullmatch (python re):\n${vr.stdout}${vr.stderr}`);
for (const seed of [1, 2, 3]) {
  const choices = ['Paris', 'London', 'New York City'];
  const r = await post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'city?' }], temperature: 1, seed, guided_choice: choices });
  check(r.status === 200 && choices.includes(r.json.choices?.[0]?.message?.content), `guided_choice seed ${seed}: ${JSON.stringify(r.json).slice(0, 200)}`);
}

// The OpenAI SDK, unmodified: response_format json_schema, not streaming and streaming.
const OpenAI = requireClient('openai');
const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: API_KEY, maxRetries: 0 });
const personSchema = { type: 'object', properties: { name: { type: 'string', maxLength: 12 }, age: { type: 'integer', minimum: 0, maximum: 120 } }, required: ['name', 'age'], additionalProperties: false };
const sdk = await client.chat.completions.create({
  model, messages: [{ role: 'user', content: 'A person' }], temperature: 1, seed: 9, max_tokens: 100,
  response_format: { type: 'json_schema', json_schema: { name: 'person', strict: true, schema: personSchema } },
});
let parsed = null;
try { parsed = JSON.parse(sdk.choices[0].message.content); } catch { /* checked below */ }
check(parsed && typeof parsed.name === 'string' && Number.isInteger(parsed.age) && parsed.age >= 0 && parsed.age <= 120,
  `SDK json_schema output parses and fits: ${sdk.choices[0].message.content}`);
let streamed = '';
for await (const c of await client.chat.completions.create({
  model, messages: [{ role: 'user', content: 'A person' }], temperature: 1, seed: 9, max_tokens: 100, stream: true,
  response_format: { type: 'json_schema', json_schema: { name: 'person', strict: true, schema: personSchema } },
})) streamed += c.choices[0]?.delta?.content ?? '';
check(streamed === sdk.choices[0].message.content, 'streamed structured output equals the non-streamed one (same seed)');

// Refusals name the keyword.
const refusals = [
  [{ type: 'object', properties: { a: { type: 'string', not: {} } } }, 'response_format.json_schema.schema.properties.a.not'],
  [{ type: 'object', properties: { a: { type: 'number', maximum: 3 } } }, 'response_format.json_schema.schema.properties.a.maximum'],
  [{ type: 'object', properties: { a: { type: 'string', format: 'email' } } }, 'response_format.json_schema.schema.properties.a.format'],
  [{ type: 'object', properties: { a: { $ref: '#' } } }, 'response_format.json_schema.schema.properties.a.$ref'],
  [{ type: 'object', properties: { a: { oneOf: [int] } } }, 'response_format.json_schema.schema.properties.a.oneOf'],
];
for (const [schema, param] of refusals) {
  const r = await post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } });
  check(r.status === 400 && r.json.error.param === param, `refused ${param}: ${r.status} ${JSON.stringify(r.json)}`);
}
const bad = [
  [{ response_format: { type: 'banana' } }, 'response_format.type'],
  [{ response_format: { type: 'json_schema' } }, 'response_format.json_schema'],
  [{ guided_regex: '(a' }, 'guided_regex'],
  [{ guided_regex: 'a(?=b)' }, 'guided_regex'],
  [{ guided_choice: [] }, 'guided_choice'],
  [{ guided_regex: 'a', guided_choice: ['a'] }, 'guided_regex'],
];
for (const [extra, param] of bad) {
  const r = await post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'x' }], ...extra });
  check(r.status === 400 && r.json.error.param === param, `400 for ${JSON.stringify(extra)} names ${param}: ${r.status} ${JSON.stringify(r.json)}`);
}
finish();

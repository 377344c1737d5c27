// Tool calling with the OpenAI Node SDK, unmodified, against `troupe serve`
// on the random-weight Qwen-template test model (Hermes <tool_call> format):
// a tool-calling loop (forced call → tool result → next turn), a named
// function, streaming deltas as OpenAI sends them, and arguments that
// validate against each tool's JSON schema (python3-jsonschema) even though
// the weights are random: tool_choice "required" / named constrains decoding.
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { withServer, check, finish, modelId, API_KEY, requireClient, skip, request } from './serve_lib.mjs';

const probe = spawnSync('/usr/bin/python3', ['-c', 'import jsonschema'], { encoding: 'utf8' });
if (probe.status !== 0) skip('python3-jsonschema is not installed');
const qwen = path.join(process.env.TROUPE_SOURCE_DIR || '.', 'tests/data/models/tiny-qwen2');
const { url, ca } = await withServer(import.meta.url, ['--model', qwen]);
const model = await modelId(url, ca);
const OpenAI = requireClient('openai');
const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: API_KEY, maxRetries: 0 });

const weather = {
  type: 'object',
  properties: { city: { type: 'string', maxLength: 16 }, unit: { enum: ['celsius', 'fahrenheit'] }, days: { type: 'integer', minimum: 1, maximum: 7 } },
  required: ['city', 'unit'], additionalProperties: false,
};
const search = { type: 'object', properties: { q: { type: 'string', maxLength: 24 } }, required: ['q'] };
const tools = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather in a city.', parameters: weather } },
  { type: 'function', function: { name: 'web_search', description: 'Search the web.', parameters: search } },
];
const schemas = { get_weather: weather, web_search: search };
const samples = [];

// The loop: a forced call, the tool's answer, then the model's next turn.
const messages = [{ role: 'user', content: 'What is the weather in Oslo?' }];
for (let round = 0; round < 3; round++) {
  const r = await client.chat.completions.create({
    model, messages, tools, tool_choice: 'required', temperature: 1, seed: 40 + round, max_tokens: 200,
  });
  const m = r.choices[0].message;
  check(r.choices[0].finish_reason === 'tool_calls', `round ${round}: finish_reason tool_calls (${r.choices[0].finish_reason})`);
  check(Array.isArray(m.tool_calls) && m.tool_calls.length >= 1, `round ${round}: tool_calls present: ${JSON.stringify(m)}`);
  for (const call of m.tool_calls ?? []) {
    check(call.type === 'function' && /^call_/.test(call.id), `round ${round}: call id and type`);
    check(call.function.name in schemas, `round ${round}: a declared function (${call.function.name})`);
    samples.push({ schema: schemas[call.function.name] ?? {}, text: call.function.arguments, where: `round ${round} ${call.function.name}` });
  }
  messages.push(m);
  for (const call of m.tool_calls ?? []) messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify({ temperature: 3 + round }) });
}
// The history with calls and results renders and the model answers freely.
const free = await client.chat.completions.create({ model, messages, tools, temperature: 1, seed: 7, max_tokens: 20 });
check(['stop', 'length', 'tool_calls'].includes(free.choices[0].finish_reason), `auto turn after tool results: ${free.choices[0].finish_reason}`);
check(free.choices[0].message.role === 'assistant', 'auto turn is an assistant message');

// A named function.
const named = await client.chat.completions.create({
  model, messages: [{ role: 'user', content: 'search cats' }], tools, temperature: 1, seed: 3, max_tokens: 120,
  tool_choice: { type: 'function', function: { name: 'web_search' } },
});
const nc = named.choices[0].message.tool_calls ?? [];
check(nc.length === 1 && nc[0].function.name === 'web_search', `named function is called: ${JSON.stringify(named.choices[0].message)}`);
for (const call of nc) samples.push({ schema: search, text: call.function.arguments, where: 'named' });

// Streaming: deltas keyed by index, id and name first, then arguments.
const stream = await client.chat.completions.create({
  model, messages: [{ role: 'user', content: 'weather?' }], tools, tool_choice: 'required', temperature: 1, seed: 5,
  max_tokens: 200, stream: true,
});
const acc = {};
let finishReason = null, firstRole = null;
for await (const c of stream) {
  const d = c.choices[0]?.delta ?? {};
  if (firstRole === null && d.role) firstRole = d.role;
  for (const tc of d.tool_calls ?? []) {
    acc[tc.index] ??= { id: '', name: '', arguments: '' };
    if (tc.id) acc[tc.index].id = tc.id;
    if (tc.function?.name) acc[tc.index].name += tc.function.name;
    if (tc.function?.arguments) acc[tc.index].arguments += tc.function.arguments;
  }
  finishReason = c.choices[0]?.finish_reason ?? finishReason;
}
check(firstRole === 'assistant', 'stream: role first');
check(finishReason === 'tool_calls', `stream: finish_reason tool_calls (${finishReason})`);
const streamed = Object.values(acc);
check(streamed.length >= 1 && streamed.every((c) => /^call_/.test(c.id) && c.name in schemas), `stream: calls assembled: ${JSON.stringify(acc)}`);
for (const c of streamed) samples.push({ schema: schemas[c.name] ?? {}, text: c.arguments, where: `stream ${c.name}` });

// tool_choice none: no tools in the prompt, plain content.
const none = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], tools, tool_choice: 'none', max_tokens: 5 });
check(none.choices[0].message.tool_calls === undefined && typeof none.choices[0].message.content === 'string', 'tool_choice none: content only');

// Bad definitions are 400s naming the place.
async function status(body) {
  const r = await request(url, ca, { method: 'POST', path: '/v1/chat/completions', body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }], ...body }) });
  return { status: r.status, param: JSON.parse(r.body).error?.param };
}
for (const [body, param] of [
  [{ tools: [{ type: 'retrieval' }] }, 'tools[0].type'],
  [{ tools: [{ type: 'function', function: {} }] }, 'tools[0].function.name'],
  [{ tools, tool_choice: { type: 'function', function: { name: 'nope' } } }, 'tool_choice'],
  [{ tool_choice: 'required' }, 'tool_choice'],
  [{ tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { a: { type: 'string', format: 'email' } } } } }], tool_choice: 'required' }, 'tools[0].function.parameters.properties.a.format'],
]) {
  const r = await status(body);
  check(r.status === 400 && r.param === param, `400 naming ${param}: got ${r.status} ${r.param}`);
}

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
check(samples.length >= 5 && v.status === 0, `${samples.length} call arguments validate against their tool schemas:\n${v.stdout}${v.stderr}`);
finish();

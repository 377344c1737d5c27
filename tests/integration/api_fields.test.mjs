// Walks the OpenAI chat-completions and completions request schemas (plus the
// vLLM extras this server takes) field by field against `troupe serve`: each
// field is either served (200), or refused with a 400 whose `param` names it;
// and every field appears in docs/serving.md, which says which it is. Then
// checks what the implemented extras do, against the server's own greedy
// output as the reference: stop_token_ids, logit_bias,
// include_stop_str_in_output, more than 4 stop strings, echo, several
// prompts, best_of, GET /version.
import fs from 'node:fs';
import path from 'node:path';
import { withServer, check, finish, modelId, request } from './serve_lib.mjs';

const { url, ca } = await withServer(import.meta.url);
const model = await modelId(url, ca);
const docs = fs.readFileSync(path.join(process.env.TROUPE_SOURCE_DIR || '.', 'docs/serving.md'), 'utf8');

async function post(p, body) {
  const r = await request(url, ca, { method: 'POST', path: p, body: JSON.stringify(body) });
  let json = null;
  try { json = JSON.parse(r.body); } catch { /* SSE */ }
  return { status: r.status, json, body: r.body };
}

const fn = { type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } };
// [field, value, expected: 'ok' | 400]
const chatFields = [
  ['model', model, 'ok'], ['messages', [{ role: 'user', content: 'hi' }], 'ok'],
  ['temperature', 0.5, 'ok'], ['top_p', 0.9, 'ok'], ['n', 2, 'ok'], ['stream', false, 'ok'],
  ['stream_options', { include_usage: true, include_obfuscation: false }, 'ok'], ['stop', ['a', 'b', 'c', 'd', 'e'], 'ok'],
  ['max_completion_tokens', 3, 'ok'], ['max_tokens', 3, 'ok'], ['presence_penalty', 0.1, 'ok'],
  ['frequency_penalty', 0.1, 'ok'], ['logit_bias', { 1: 5 }, 'ok'], ['logprobs', true, 'ok'], ['seed', 1, 'ok'],
  ['response_format', { type: 'text' }, 'ok'], ['tools', [fn], 'ok'], ['tool_choice', 'none', 'ok'], ['tool_choice', 'auto', 'ok'],
  ['tool_choice', 'required', 400], ['parallel_tool_calls', true, 'ok'], ['user', 'u-1', 'ok'],
  ['safety_identifier', 's', 'ok'], ['prompt_cache_key', 'k', 'ok'], ['metadata', { a: 'b' }, 'ok'],
  ['store', false, 'ok'], ['store', true, 400], ['service_tier', 'auto', 'ok'], ['reasoning_effort', 'low', 'ok'],
  ['verbosity', 'low', 'ok'], ['modalities', ['text'], 'ok'], ['modalities', ['text', 'audio'], 400],
  ['audio', { voice: 'alloy', format: 'mp3' }, 400], ['prediction', { type: 'content', content: 'x' }, 400],
  ['web_search_options', {}, 400], ['functions', [fn.function], 400], ['function_call', 'none', 'ok'],
  ['function_call', { name: 'f' }, 400],
  ['top_k', 5, 'ok'], ['min_p', 0.1, 'ok'], ['repetition_penalty', 1.1, 'ok'], ['ignore_eos', true, 'ok'],
  ['stop_token_ids', [1, 2], 'ok'], ['include_stop_str_in_output', true, 'ok'],
  ['guided_json', { type: 'integer' }, 'ok'], ['guided_regex', '[ab]{2}', 'ok'], ['guided_choice', ['x', 'y'], 'ok'],
];
for (const [field, value, expected] of chatFields) {
  const body = { model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3, [field]: value };
  if (field === 'top_logprobs') body.logprobs = true;
  const r = await post('/v1/chat/completions', body);
  if (expected === 'ok') check(r.status === 200, `chat ${field}=${JSON.stringify(value)}: 200 (got ${r.status} ${r.body.slice(0, 200)})`);
  else check(r.status === 400 && r.json?.error?.param === field, `chat ${field}=${JSON.stringify(value)}: 400 naming it (got ${r.status} ${r.body.slice(0, 200)})`);
  check(docs.includes('`' + field + '`'), `docs/serving.md mentions \`${field}\``);
}
{
  const r = await post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3, logprobs: true, top_logprobs: 2 });
  check(r.status === 200 && r.json.choices[0].logprobs.content[0].top_logprobs.length === 2, 'chat top_logprobs');
}
const cmplFields = [
  ['model', model, 'ok'], ['prompt', 'hi', 'ok'], ['best_of', 2, 'ok'], ['echo', true, 'ok'],
  ['frequency_penalty', 0.1, 'ok'], ['logit_bias', { 2: -5 }, 'ok'], ['logprobs', 2, 'ok'], ['max_tokens', 3, 'ok'],
  ['n', 2, 'ok'], ['presence_penalty', 0.1, 'ok'], ['seed', 3, 'ok'], ['stop', ['x'], 'ok'], ['stream', false, 'ok'],
  ['stream_options', { include_usage: true }, 'ok'], ['suffix', 'and then', 400], ['temperature', 0.3, 'ok'],
  ['top_p', 0.5, 'ok'], ['user', 'u', 'ok'], ['stop_token_ids', [3], 'ok'], ['include_stop_str_in_output', true, 'ok'],
  ['guided_regex', 'a+', 'ok'], ['guided_choice', ['p', 'q'], 'ok'], ['guided_json', { type: 'boolean' }, 'ok'],
  ['response_format', { type: 'json_object' }, 'ok'], ['top_k', 3, 'ok'], ['min_p', 0.05, 'ok'],
  ['repetition_penalty', 1.2, 'ok'], ['ignore_eos', true, 'ok'],
];
for (const [field, value, expected] of cmplFields) {
  const r = await post('/v1/completions', { model, prompt: 'hi', max_tokens: 3, [field]: value });
  if (expected === 'ok') check(r.status === 200, `completions ${field}=${JSON.stringify(value)}: 200 (got ${r.status} ${r.body.slice(0, 200)})`);
  else check(r.status === 400 && r.json?.error?.param === field, `completions ${field}: 400 naming it (got ${r.status} ${r.body.slice(0, 200)})`);
  check(docs.includes('`' + field + '`'), `docs/serving.md mentions \`${field}\``);
}

// Wrong types and ranges are 400s naming the field.
const badValues = [
  ['stop_token_ids', 'abc'], ['stop_token_ids', [-1]], ['stop_token_ids', [1e9]], ['logit_bias', { abc: 1 }],
  ['logit_bias', { 1: 101 }], ['logit_bias', { 999999999: 1 }], ['logit_bias', []], ['include_stop_str_in_output', 'yes'],
  ['response_format', { type: 'banana' }], ['echo', 1], ['best_of', 0],
];
for (const [field, value] of badValues) {
  const r = await post('/v1/completions', { model, prompt: 'hi', max_tokens: 3, [field]: value });
  check(r.status === 400 && (r.json?.error?.param ?? '').startsWith(field), `completions ${field}=${JSON.stringify(value)} → 400 naming it (got ${r.status} ${r.body.slice(0, 200)})`);
}
{
  const r = await post('/v1/completions', { model, prompt: 'hi', n: 3, best_of: 2 });
  check(r.status === 400 && r.json.error.param === 'best_of', 'best_of < n refused');
  const s = await post('/v1/completions', { model, prompt: 'hi', best_of: 2, stream: true });
  check(s.status === 400 && s.json.error.param === 'best_of', 'best_of > n with stream refused');
  const calls = [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }];
  const t = await post('/v1/chat/completions', { model, max_tokens: 2, messages: [{ role: 'assistant', content: null, tool_calls: calls }, { role: 'tool', tool_call_id: 'c', content: '1' }, { role: 'user', content: 'x' }] });
  check(t.status === 200, `assistant tool_calls and tool results in the history are served: ${t.body.slice(0, 200)}`);
  const u = await post('/v1/chat/completions', { model, max_tokens: 2, messages: [{ role: 'user', content: 'x', tool_calls: calls }] });
  check(u.status === 400 && u.json.error.param === 'messages[0].tool_calls', 'tool_calls on a user message: 400 naming it');
  const badArgs = await post('/v1/chat/completions', { model, max_tokens: 2, messages: [{ role: 'assistant', tool_calls: [{ type: 'function', function: { name: 'f', arguments: '{not json' } }] }] });
  check(badArgs.status === 400 && badArgs.json.error.param === 'messages[0].tool_calls[0].function.arguments', 'tool call arguments that are not JSON: 400 naming them');
}

// What the extras do. The reference is the server's own greedy output.
const greedy = async (extra = {}, prompt = 'The quick brown fox') =>
  (await post('/v1/completions', { model, prompt, max_tokens: 12, temperature: 0, ...extra })).json;
const ids = async (text) => JSON.parse((await request(url, ca, { method: 'POST', path: '/tokenize', body: JSON.stringify({ prompt: text, add_special_tokens: false }) })).body).tokens;
const base = await greedy({ logprobs: 0 });
const baseText = base.choices[0].text;
const baseTokens = base.choices[0].logprobs.tokens;
check(baseTokens.length === 12, 'reference greedy output has 12 tokens');

// stop_token_ids: the 4th generated token id stops generation there.
{
  const seqIds = [];
  for (const t of baseTokens) seqIds.push(...(await ids(t)));
  const stopId = seqIds[3];
  const firstAt = seqIds.indexOf(stopId);
  const r = await greedy({ stop_token_ids: [stopId] });
  check(r.choices[0].finish_reason === 'stop' && r.usage.completion_tokens === firstAt + 1,
    `stop_token_ids ends at the first occurrence (${r.usage.completion_tokens} tokens, want ${firstAt + 1})`);
}
// logit_bias: -100 bans the greedy first token; +100 forces a chosen one.
{
  const first = (await ids(baseTokens[0]))[0];
  const banned = await greedy({ logit_bias: { [first]: -100 }, logprobs: 0, max_tokens: 1 });
  check(banned.choices[0].logprobs.tokens[0] !== baseTokens[0], 'logit_bias -100 bans the greedy token');
  const forced = (await ids(' zebra'))[0];
  const detok = async (t) => JSON.parse((await request(url, ca, { method: 'POST', path: '/detokenize', body: JSON.stringify({ tokens: t }) })).body).prompt;
  const f = await greedy({ logit_bias: { [forced]: 100 }, max_tokens: 3 });
  check(f.usage.completion_tokens === 3 && f.choices[0].text === await detok([forced, forced, forced]),
    `logit_bias +100 forces the token: ${JSON.stringify(f.choices[0].text)}`);
  const c = await post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }], temperature: 0, max_tokens: 2, logit_bias: { [forced]: 100 } });
  check(c.status === 200 && c.json.choices[0].message.content === await detok([forced, forced]), `chat logit_bias forces the token too: ${c.body.slice(0, 200)}`);
}
// Stop strings: a substring of the greedy text; with include_stop_str_in_output the stop string is kept.
{
  const stop = baseText.slice(Math.floor(baseText.length / 2), Math.floor(baseText.length / 2) + 3);
  const cut = baseText.slice(0, baseText.indexOf(stop));
  const five = ['\u0001never1', '\u0001never2', '\u0001never3', '\u0001never4', stop];
  const without = await greedy({ stop: five });
  check(without.choices[0].text === cut && without.choices[0].finish_reason === 'stop', `5th stop string matches: ${JSON.stringify(without.choices[0].text)} vs ${JSON.stringify(cut)}`);
  const withStop = await greedy({ stop: five, include_stop_str_in_output: true });
  check(withStop.choices[0].text === cut + stop, `include_stop_str_in_output keeps the stop string: ${JSON.stringify(withStop.choices[0].text)}`);
}
// echo and several prompts (text and token ids).
{
  const r = await greedy({ echo: true });
  check(r.choices[0].text === 'The quick brown fox' + baseText, 'echo prepends the prompt');
  const other = await greedy({}, 'Hello world');
  const multi = await post('/v1/completions', { model, prompt: ['The quick brown fox', 'Hello world'], max_tokens: 12, temperature: 0, n: 2 });
  check(multi.status === 200 && multi.json.choices.length === 4, 'two prompts × n=2 = 4 choices');
  check(multi.json.choices.map((c) => c.index).join() === '0,1,2,3', 'choice indexes in order');
  check(multi.json.choices[0].text === baseText && multi.json.choices[1].text === baseText &&
        multi.json.choices[2].text === other.choices[0].text && multi.json.choices[3].text === other.choices[0].text,
        'choice i answers prompt i / n');
  check(multi.json.usage.prompt_tokens === base.usage.prompt_tokens + other.usage.prompt_tokens, 'usage counts each prompt once');
  const tokPrompts = [await ids('The quick brown fox'), await ids('Hello world')];
  const byIds = await post('/v1/completions', { model, prompt: tokPrompts, max_tokens: 12, temperature: 0, echo: true });
  check(byIds.status === 200 && byIds.json.choices[1].text.startsWith('Hello world'), 'token-id prompts, echoed as text');
}
// best_of: the choice with the highest cumulative logprob among the best_of
// sequences the same seed draws (the same sequences n=best_of returns).
{
  const all = await post('/v1/completions', { model, prompt: 'Once', max_tokens: 6, temperature: 1, seed: 11, n: 4, logprobs: 0 });
  const sums = all.json.choices.map((c) => c.logprobs.token_logprobs.reduce((a, b) => a + b, 0));
  const bestIdx = sums.indexOf(Math.max(...sums));
  const best = await post('/v1/completions', { model, prompt: 'Once', max_tokens: 6, temperature: 1, seed: 11, n: 1, best_of: 4 });
  check(best.json.choices.length === 1 && best.json.choices[0].text === all.json.choices[bestIdx].text,
    `best_of picks the highest cumulative logprob (${best.json.choices[0].text} vs ${all.json.choices[bestIdx].text})`);
}
// GET /version.
{
  const v = await request(url, ca, { path: '/version', key: null });
  check(v.status === 200 && /^\d+\.\d+\.\d+/.test(JSON.parse(v.body).version), `GET /version: ${v.body}`);
}
finish();

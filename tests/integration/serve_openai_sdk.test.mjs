// The official OpenAI Node SDK against `troupe serve` over HTTPS: chat and
// completions, streaming and not, include_usage, and typed errors.
import { withServer, check, finish, modelId, API_KEY, requireClient } from './serve_lib.mjs';

const OpenAI = requireClient('openai');

const { url, ca } = await withServer(import.meta.url);
const model = await modelId(url, ca);
const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: API_KEY, maxRetries: 0 });

// Chat, not streaming.
const chat = await client.chat.completions.create({
  model, messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 8, temperature: 0, seed: 1,
});
check(chat.object === 'chat.completion', 'chat object');
check(chat.choices[0].message.role === 'assistant', 'chat role');
check(typeof chat.choices[0].message.content === 'string', 'chat content is a string');
check(['stop', 'length'].includes(chat.choices[0].finish_reason), 'chat finish_reason');
check(chat.usage.completion_tokens <= 8 && chat.usage.prompt_tokens > 0, 'chat usage');
check(chat.usage.total_tokens === chat.usage.prompt_tokens + chat.usage.completion_tokens, 'total_tokens');

// Chat, streaming with usage.
const stream = await client.chat.completions.create({
  model, messages: [{ role: 'user', content: 'Count' }], max_tokens: 6, stream: true,
  stream_options: { include_usage: true },
});
let chunks = 0, text = '', firstRole = null, finishes = 0, usage = null, usageNullOnContent = true;
for await (const c of stream) {
  chunks++;
  check(c.object === 'chat.completion.chunk', 'chunk object');
  if (c.choices.length) {
    if (firstRole === null) firstRole = c.choices[0].delta.role ?? '';
    text += c.choices[0].delta.content ?? '';
    if (c.choices[0].finish_reason) finishes++;
    if (c.usage !== null) usageNullOnContent = false;
  } else {
    usage = c.usage;
  }
}
check(firstRole === 'assistant', 'role in the first delta');
check(finishes === 1, 'exactly one finish_reason');
check(usageNullOnContent, 'usage null on content chunks');
check(usage && usage.completion_tokens > 0 && usage.completion_tokens <= 6, 'final usage chunk');
check(chunks >= 3, 'several chunks');

// Completions, not streaming and streaming.
const cmpl = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 5 });
check(cmpl.object === 'text_completion', 'completion object');
check(typeof cmpl.choices[0].text === 'string', 'completion text');
check(cmpl.usage.completion_tokens <= 5, 'completion max_tokens honored');
let ctext = '', cfinish = null;
for await (const c of await client.completions.create({ model, prompt: 'Hello', max_tokens: 4, stream: true })) {
  check(c.object === 'text_completion', 'completion chunk object');
  ctext += c.choices[0]?.text ?? '';
  cfinish = c.choices[0]?.finish_reason ?? cfinish;
}
check(cfinish === 'stop' || cfinish === 'length', 'completion stream finish_reason');

// Token-id prompts.
const ids = await client.completions.create({ model, prompt: [1, 2, 3, 4], max_tokens: 2 });
check(ids.usage.prompt_tokens === 4, 'token-id prompt counted as given');

// Typed errors.
async function expectError(fn, cls, status, what) {
  try { await fn(); check(false, `${what}: no error`); } catch (e) {
    check(e instanceof cls, `${what}: ${e.constructor.name} is ${cls.name}`);
    check(e.status === status, `${what}: status ${e.status}`);
    return e;
  }
}
const bad = await expectError(() => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }], temperature: 'hot' }),
  OpenAI.BadRequestError, 400, 'wrong type');
check(bad?.param === 'temperature', '400 names the field in param');
const wrongKey = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-wrong', maxRetries: 0 });
const auth = await expectError(() => wrongKey.models.list(), OpenAI.AuthenticationError, 401, 'wrong key');
check(auth?.code === 'invalid_api_key', '401 code invalid_api_key');
const nf = await expectError(() => client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
  OpenAI.NotFoundError, 404, 'unknown model');
check(nf?.code === 'model_not_found', '404 code model_not_found');

const models = await client.models.list();
check(models.data.length === 1 && models.data[0].id === model, 'models.list');
const one = await client.models.retrieve(model);
check(one.id === model && one.object === 'model', 'models.retrieve');
finish();

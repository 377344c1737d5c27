// POST /v1/responses over HTTP with the OpenAI Node SDK's responses.create,
// not streaming and streaming: the same event sequence as the WebSocket mode
// (created, in_progress, output_item.added, content_part.added, deltas,
// output_text.done, content_part.done, output_item.done, completed).
import { withServer, check, finish, modelId, API_KEY, requireClient, request } from './serve_lib.mjs';

const { url, ca } = await withServer(import.meta.url);
const model = await modelId(url, ca);
const OpenAI = requireClient('openai');
const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: API_KEY, maxRetries: 0 });

const r = await client.responses.create({ model, input: 'Say hi', max_output_tokens: 8, temperature: 0 });
check(r.object === 'response' && r.status === 'completed' && /^resp_/.test(r.id), `response object: ${JSON.stringify(r).slice(0, 300)}`);
check(typeof r.output_text === 'string' && r.output_text.length > 0, 'SDK output_text');
check(r.usage.output_tokens <= 8 && r.usage.total_tokens === r.usage.input_tokens + r.usage.output_tokens, 'usage');

const types = [];
let text = '', completed = null, seqOk = true, seq = 0;
for await (const e of await client.responses.create({ model, input: [{ role: 'user', content: 'Say hi' }], max_output_tokens: 8, temperature: 0, stream: true })) {
  types.push(e.type);
  if (e.sequence_number !== seq++) seqOk = false;
  if (e.type === 'response.output_text.delta') text += e.delta;
  if (e.type === 'response.completed') completed = e.response;
}
const head = ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added'];
const tail = ['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed'];
check(JSON.stringify(types.slice(0, 4)) === JSON.stringify(head), `stream opens: ${types.slice(0, 4)}`);
check(JSON.stringify(types.slice(-4)) === JSON.stringify(tail), `stream closes: ${types.slice(-4)}`);
check(types.slice(4, -4).every((t) => t === 'response.output_text.delta') && types.length > 8, 'deltas in between');
check(seqOk, 'sequence_number counts from 0');
check(completed && completed.output[0].content[0].text === text, 'completed response holds the streamed text');
check(text === r.output_text, 'streamed text equals the non-streamed one (greedy, same prompt)');

const bad = await request(url, ca, { method: 'POST', path: '/v1/responses', body: JSON.stringify({ model }) });
check(bad.status === 400 && JSON.parse(bad.body).error.param === 'input', 'missing input is a 400 naming it');
finish();

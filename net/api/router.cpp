#include "net/api/router.hpp"

#include "actors/metrics/prometheus_format.hpp"

#include <chrono>
#include <ctime>
#include <random>

#include "net/api/version.hpp"

#include <nlohmann/json.hpp>

namespace troupe::net {
namespace {

using json = nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string path_of(const std::string& target) {
  auto q = target.find('?');
  return q == std::string::npos ? target : target.substr(0, q);
}

int64_t now_unix_s() { return static_cast<int64_t>(std::time(nullptr)); }

http_out json_reply(int status, const json& j, std::string endpoint) {
  http_out out;
  out.status = status;
  out.body = dump(j);
  out.endpoint = std::move(endpoint);
  return out;
}

// Which methods each fixed route takes; auth says whether a key is needed.
struct route {
  const char* path;
  const char* method;
  bool auth;
};
constexpr route kRoutes[] = {
    {"/health", "GET", false},        {"/ready", "GET", false},
    {"/metrics", "GET", false},       {"/v1/models", "GET", true},
    {"/v1/chat/completions", "POST", true}, {"/v1/completions", "POST", true},
    {"/tokenize", "POST", true},      {"/detokenize", "POST", true},
    {"/v1/responses", "GET", true},   {"/version", "GET", false},
};

const route* find_route(const std::string& path) {
  for (const route& r : kRoutes)
    if (path == r.path) return &r;
  if (path.rfind("/v1/models/", 0) == 0 && path.size() > 11) return &kRoutes[3];
  return nullptr;
}

}  // namespace

api_router::api_router(actors::generation_service& service, request_hooks& hooks,
                       edge_metrics& metrics, auth_throttle_options throttle)
    : service_(service), hooks_(hooks), metrics_(metrics), auth_throttle_(throttle) {}

std::string api_router::new_id(const std::string& prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   uint64_t(std::chrono::steady_clock::now().time_since_epoch().count())};
  static const char* hex = "0123456789abcdef";
  std::string id = prefix;
  for (int i = 0; i < 24; ++i) id += hex[rng() & 15];
  return id;
}

http_out api_router::error_reply(const api_error& e) {
  http_out out;
  out.status = e.status;
  out.body = error_body(e);
  out.headers = error_headers(e);
  return out;
}

std::optional<api_error> api_router::authenticate(const std::string& authorization,
                                                  const std::string& source, principal* who) {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
  if (auto wait_ms = auth_throttle_.retry_after_ms(source, now_ms))
    return auth_throttled(std::max<int64_t>(1, (*wait_ms + 999) / 1000));
  if (auto refusal = hooks_.authenticate(authorization, who)) {
    if (refusal->status == 401) auth_throttle_.on_failure(source, now_ms);
    return from_refusal(*refusal);
  }
  return std::nullopt;
}

http_out api_router::handle(const http_in& in) {
  const std::string path = path_of(in.target);
  const route* r = find_route(path);
  if (r == nullptr) {
    http_out out = error_reply(route_not_found(in.method, path));
    out.endpoint = "other";
    return out;
  }
  const std::string endpoint = r->path == std::string("/v1/models") ? "/v1/models" : r->path;
  auto finish = [&](http_out out) {
    out.endpoint = endpoint;
    return out;
  };
  const bool responses_post = path == "/v1/responses" && in.method == "POST";
  if (in.method != r->method && !responses_post)
    return finish(error_reply(method_not_allowed(in.method, path, r->method)));
  const bool generates = path == "/v1/chat/completions" || path == "/v1/completions" || responses_post;
  const auto t0 = std::chrono::steady_clock::now();
  principal who;
  if (r->auth) {
    if (auto e = authenticate(in.authorization, in.client_address, &who)) {
      http_out out = error_reply(*e);
      if (generates) log_refusal(in, who, endpoint, "", out.status, t0);
      return finish(std::move(out));
    }
  }
  const double auth_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (path == "/health") return json_reply(200, json{{"status", "ok"}}, endpoint);
  if (path == "/version") return json_reply(200, json{{"version", kVersion}}, endpoint);
  if (path == "/ready") {
    if (!service_.ready()) return finish(error_reply(not_ready()));
    return json_reply(200, json{{"status", "ready"}}, endpoint);
  }
  if (path == "/metrics") {
    http_out out;
    out.content_type = "text/plain; version=0.0.4; charset=utf-8";
    // Each source's text as whole lines, one after the other.
    std::string families;
    const std::string throttle_text =
        "# HELP troupe:auth_throttled_total Requests refused (429) because their address failed "
        "authentication too often.\n# TYPE troupe:auth_throttled_total counter\n"
        "troupe:auth_throttled_total " + std::to_string(auth_throttle_.num_refused()) + "\n";
    // The engine's families carry model_name, as vLLM's do, so that a
    // dashboard filters them by model (and a gateway can merge several).
    for (const std::string& text : {actors::with_label(service_.metrics_text(), "model_name", service_.model().id),
                                    hooks_.metrics_text(), throttle_text}) {
      families += text;
      if (!families.empty() && families.back() != '\n') families += '\n';
    }
    if (tracer_) families += tracer_->metrics_text();
    out.body = metrics_.render(families);
    return finish(std::move(out));
  }
  if (responses_post) {
    std::string requested_model;
    http_out out = service_.ready() ? responses_generation(in, who, &requested_model) : error_reply(not_ready());
    if (!out.generation) log_refusal(in, who, endpoint, requested_model, out.status, t0);
    return finish(std::move(out));
  }
  if (path == "/v1/responses")
    return finish(error_reply(invalid_request(
        "/v1/responses is served over WebSocket only: connect with ws:// or wss:// and send "
        "{\"type\":\"response.create\", …} events.")));
  if (endpoint == "/v1/models") return finish(models(path));
  if (path == "/tokenize") return finish(tokenize(in));
  if (path == "/detokenize") return finish(detokenize(in));
  std::string requested_model;
  http_out out = service_.ready()
                     ? generation(in, path == "/v1/chat/completions" ? api_kind::chat : api_kind::completion,
                                  who, &requested_model)
                     : error_reply(not_ready());
  if (!out.generation) log_refusal(in, who, endpoint, requested_model, out.status, t0);
  if (out.generation && tracer_) {
    pending_generation& g = *out.generation;
    g.trace = new_request_trace(in.traceparent);
    g.auth_ms = auth_ms;
    g.operation = path == "/v1/chat/completions" ? "chat" : "text_completion";
    g.headers["traceparent"] = traceparent_of(g.trace);
  }
  return finish(std::move(out));
}

// A generation request refused before the engine (401, 400, 403, 429, 503)
// still gets its row in the request log: who tried what, from where. The
// principal is empty when authentication failed.
void api_router::log_refusal(const http_in& in, const principal& who, const std::string& endpoint,
                             const std::string& model, int status,
                             std::chrono::steady_clock::time_point t0) {
  request_record rec;
  rec.request_id = in.request_id;
  rec.principal_id = who.id;
  rec.model = model;
  rec.endpoint = endpoint;
  rec.status = status;
  rec.client_address = in.client_address;
  rec.total_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  rec.started_at_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count() -
                           static_cast<int64_t>(rec.total_ms);
  hooks_.record(who, /*estimated_tokens=*/0, rec);
}

http_out api_router::models(const std::string& path) {
  auto card = [](const actors::model_info& m) {
    return json{{"id", m.id}, {"object", "model"}, {"created", m.created}, {"owned_by", "troupe"},
                {"max_model_len", m.max_model_len}};
  };
  if (path == "/v1/models") {
    json data = json::array();
    for (const actors::model_info& m : service_.models()) data.push_back(card(m));
    return json_reply(200, json{{"object", "list"}, {"data", std::move(data)}}, "");
  }
  const std::string id = path.substr(std::string("/v1/models/").size());
  const auto m = id.empty() ? std::nullopt : service_.find_model(id);
  if (!m) return error_reply(model_not_found(id));
  return json_reply(200, card(*m), "");
}

http_out api_router::tokenize(const http_in& in) {
  parse_result parsed = parse_tokenize_request(in.body);
  if (auto* e = std::get_if<api_error>(&parsed)) return error_reply(*e);
  openai_request& req = std::get<openai_request>(parsed);
  const auto found = service_.find_model(req.model);
  if (!found) return error_reply(model_not_found(req.model));
  const actors::model_info& m = *found;
  std::string text;
  bool add_special = req.add_special_tokens;
  if (!req.messages.empty()) {
    std::string err;
    auto rendered = service_.render_chat(m.id, req.messages, /*add_generation_prompt=*/true, &err);
    if (!rendered) return error_reply(no_chat_template(m.id, err));
    text = *rendered;
    add_special = false;  // the template already wrote the special tokens
  } else {
    text = *req.prompt_text;
  }
  std::vector<int32_t> ids = service_.tokenize(m.id, text, add_special);
  return json_reply(200, json{{"tokens", ids}, {"count", ids.size()}, {"max_model_len", m.max_model_len}}, "");
}

http_out api_router::detokenize(const http_in& in) {
  parse_result parsed = parse_detokenize_request(in.body);
  if (auto* e = std::get_if<api_error>(&parsed)) return error_reply(*e);
  openai_request& req = std::get<openai_request>(parsed);
  const auto m = service_.find_model(req.model);
  if (!m) return error_reply(model_not_found(req.model));
  return json_reply(200, json{{"prompt", service_.detokenize(m->id, req.prompt_token_ids)}}, "");
}

std::optional<api_error> api_router::prepare(openai_request& req, api_kind kind, bool chat_messages,
                                             const principal& who, prepared_generation* out) {
  const auto found = service_.find_model(req.model);
  if (!found) return model_not_found(req.model);
  const actors::model_info& m = *found;
  const std::string prompt_param = chat_messages ? (kind == api_kind::chat ? "messages" : "input") : "prompt";
  const bool keep_text = hooks_.wants_text();
  std::vector<int32_t> ids;
  if (chat_messages) {
    std::string err;
    auto rendered = service_.render_chat_with_tools(
        m.id, req.messages, req.tools.active() ? req.tools.tools_json : std::string(),
        /*add_generation_prompt=*/true, &err);
    if (!rendered) {
      if (!m.has_chat_template) return no_chat_template(m.id, err);
      return invalid_request("Cannot render the messages with the chat template: " + err, prompt_param);
    }
    ids = service_.tokenize(m.id, *rendered, /*add_special_tokens=*/false);
    if (keep_text) out->prompt_text = *rendered;
  } else if (req.prompt_text) {
    ids = service_.tokenize(m.id, *req.prompt_text, /*add_special_tokens=*/true);
    if (keep_text) out->prompt_text = *req.prompt_text;
  } else {
    ids = std::move(req.prompt_token_ids);
    if (keep_text) out->prompt_text = service_.detokenize(m.id, ids);
  }
  if (ids.empty()) return invalid_request("The prompt is empty.", prompt_param);
  // Further prompts (completions): each tokenized and checked like the first.
  std::vector<std::vector<int32_t>> extra_ids;
  int64_t all_prompt_tokens = static_cast<int64_t>(ids.size());
  int64_t longest_prompt = static_cast<int64_t>(ids.size());
  for (size_t i = 0; i < req.extra_prompts.size(); ++i) {
    prompt_item& p = req.extra_prompts[i];
    std::vector<int32_t> more = p.text ? service_.tokenize(m.id, *p.text, /*add_special_tokens=*/true)
                                       : std::move(p.token_ids);
    if (more.empty()) return invalid_request("Prompt " + std::to_string(i + 1) + " is empty.", prompt_param);
    all_prompt_tokens += static_cast<int64_t>(more.size());
    longest_prompt = std::max<int64_t>(longest_prompt, static_cast<int64_t>(more.size()));
    extra_ids.push_back(std::move(more));
  }
  if (m.vocab_size > 0) {
    auto check_ids = [&](const std::vector<int32_t>& v, const char* param) -> std::optional<api_error> {
      for (int32_t t : v)
        if (t >= m.vocab_size)
          return invalid_request("Token id " + std::to_string(t) + " in '" + param +
                                     "' is outside the vocabulary (size " +
                                     std::to_string(m.vocab_size) + ").",
                                 std::string(param));
      return std::nullopt;
    };
    if (auto e = check_ids(req.params.stop_token_ids, "stop_token_ids")) return e;
    if (auto e = check_ids(req.params.logit_bias_token_ids, "logit_bias")) return e;
    if (!chat_messages) {
      if (auto e = check_ids(ids, "prompt")) return e;
      for (const auto& v : extra_ids)
        if (auto e = check_ids(v, "prompt")) return e;
    }
  }
  const int64_t prompt_len = longest_prompt;
  const int64_t max_len = m.max_model_len;
  int64_t max_tokens = 0;
  if (max_len > 0 && prompt_len >= max_len)
    return context_length_exceeded(max_len, prompt_len, req.max_tokens.value_or(0), prompt_param);
  if (req.max_tokens) {
    max_tokens = *req.max_tokens;
    if (max_len > 0 && prompt_len + max_tokens > max_len)
      return context_length_exceeded(max_len, prompt_len, max_tokens, prompt_param);
  } else if (kind == api_kind::chat) {
    max_tokens = max_len > 0 ? max_len - prompt_len : 256;  // up to the context
  } else {
    max_tokens = max_len > 0 ? std::min<int64_t>(16, max_len - prompt_len) : 16;
  }
  // Rate limits count prompt + max_tokens. A chat request without max_tokens
  // may run to the end of the context, but reserving the whole context would
  // let one such request exhaust a tokens-per-minute budget: reserve at most
  // kUnboundedEstimate per choice; record() corrects to the real count.
  constexpr int64_t kUnboundedEstimate = 1024;
  const int64_t reserved = req.max_tokens ? max_tokens : std::min(max_tokens, kUnboundedEstimate);
  const int32_t sequences_per_prompt = std::max(req.n, req.best_of);
  out->estimated_tokens =
      all_prompt_tokens + reserved * sequences_per_prompt * (1 + static_cast<int64_t>(extra_ids.size()));
  admission admitted;
  if (auto refusal = hooks_.admit(who, m.id, out->estimated_tokens, &admitted))
    return from_refusal(*refusal);
  out->headers = std::move(admitted.headers);

  actors::generation_request& r = out->request;
  r.model = m.id;
  r.prompt_token_ids = std::move(ids);
  r.add_special_tokens = false;
  r.params = req.params;
  if (!req.has_temperature && m.default_temperature) r.params.temperature = *m.default_temperature;
  if (!req.has_top_p && m.default_top_p) r.params.top_p = *m.default_top_p;
  if (!req.has_top_k && m.default_top_k) r.params.top_k = std::max(0, *m.default_top_k);
  if (!req.has_repetition_penalty && m.default_repetition_penalty)
    r.params.repetition_penalty = *m.default_repetition_penalty;
  r.params.max_tokens = static_cast<int32_t>(max_tokens);
  // best_of ranks choices by cumulative logprob: the engine reports them.
  r.params.return_logprobs = req.logprobs || req.best_of > req.n;
  r.params.num_top_logprobs = req.top_logprobs;
  r.params.guided_regex = req.structured.regex;
  if (req.tools.forced()) {
    if (!req.structured.regex.empty())
      return invalid_request("'tool_choice' forcing a call cannot be combined with response_format "
                             "or guided decoding.",
                             "tool_choice");
    if (auto e = forced_call_regex(req.tools, m.tool_call_format, &r.params.guided_regex)) return e;
  }
  r.has_seed = req.has_seed;
  r.stop = req.stop;
  r.include_stop_str_in_output = req.include_stop_str_in_output;
  r.n = sequences_per_prompt;
  r.extra_prompt_token_ids = std::move(extra_ids);
  r.principal = who.id;
  r.user = req.user.substr(0, 256);  // client-chosen text: bounded before it reaches the log
  return std::nullopt;
}

http_out api_router::generation(const http_in& in, api_kind kind, const principal& who,
                               std::string* requested_model) {
  parse_result parsed = kind == api_kind::chat ? parse_chat_request(in.body)
                                               : parse_completion_request(in.body);
  if (auto* e = std::get_if<api_error>(&parsed)) return error_reply(*e);
  openai_request& req = std::get<openai_request>(parsed);
  // Client-chosen text: bounded before it reaches the log.
  *requested_model = req.model.empty() ? service_.model().id : req.model.substr(0, 256);
  auto pending = std::make_shared<pending_generation>();
  if (auto e = prepare(req, kind, kind == api_kind::chat, who, pending.get())) return error_reply(*e);
  pending->request.request_id = new_id(kind == api_kind::chat ? "chatcmpl-" : "cmpl-");
  openai_formatter::options fo;
  fo.kind = kind;
  fo.id = pending->request.request_id;
  fo.model = pending->request.model;
  fo.created_unix_s = now_unix_s();
  fo.stream = req.stream;
  fo.include_usage = req.stream && req.include_usage;
  fo.n = req.n;
  if (req.tools.active())
    if (auto m = service_.find_model(pending->request.model)) fo.tool_call_format = m->tool_call_format;
  fo.best_of = std::max(req.n, req.best_of);
  fo.num_prompts = 1 + static_cast<int32_t>(req.extra_prompts.size());
  fo.logprobs = req.logprobs;
  if (req.echo) {
    // The prompts as text, in order (token-id prompts decoded).
    fo.echo_prompts.push_back(req.prompt_text ? *req.prompt_text
                                              : service_.detokenize(pending->request.model, pending->request.prompt_token_ids));
    for (size_t i = 0; i < req.extra_prompts.size(); ++i)
      fo.echo_prompts.push_back(req.extra_prompts[i].text
                                    ? *req.extra_prompts[i].text
                                    : service_.detokenize(pending->request.model, pending->request.extra_prompt_token_ids[i]));
  }
  pending->formatter = std::make_unique<openai_formatter>(fo);
  pending->stream = req.stream;
  pending->who = who;
  pending->endpoint = kind == api_kind::chat ? "/v1/chat/completions" : "/v1/completions";
  http_out out;
  out.generation = std::move(pending);
  if (req.stream) out.content_type = "text/event-stream";
  return out;
}

// POST /v1/responses: the WebSocket mode's request and events over HTTP
// (SSE with `stream: true`, else the response object).
http_out api_router::responses_generation(const http_in& in, const principal& who,
                                          std::string* requested_model) {
  parse_result parsed = parse_response_create(in.body);
  if (auto* e = std::get_if<api_error>(&parsed)) return error_reply(*e);
  openai_request& req = std::get<openai_request>(parsed);
  *requested_model = req.model.empty() ? service_.model().id : req.model.substr(0, 256);
  auto pending = std::make_shared<pending_generation>();
  if (auto e = prepare(req, api_kind::chat, /*chat_messages=*/true, who, pending.get())) {
    if (e->param == "messages") e->param = "input";
    return error_reply(*e);
  }
  pending->request.request_id = new_id("resp_");
  openai_formatter::options fo;
  fo.kind = api_kind::responses;
  fo.id = pending->request.request_id;
  fo.model = pending->request.model;
  fo.created_unix_s = now_unix_s();
  fo.stream = req.stream;
  pending->formatter = std::make_unique<openai_formatter>(fo);
  pending->stream = req.stream;
  pending->who = who;
  pending->endpoint = "/v1/responses";
  http_out out;
  out.generation = std::move(pending);
  if (req.stream) out.content_type = "text/event-stream";
  return out;
}

std::variant<pending_ws_generation, api_error> api_router::prepare_response_create(
    const std::string& event_json, const principal& who, std::string* requested_model) {
  parse_result parsed = parse_response_create(event_json);
  if (auto* e = std::get_if<api_error>(&parsed)) return *e;
  if (!service_.ready()) return not_ready();
  openai_request& req = std::get<openai_request>(parsed);
  *requested_model = req.model.empty() ? service_.model().id : req.model.substr(0, 256);
  pending_ws_generation out;
  // Responses default to "up to the context" like chat.
  if (auto e = prepare(req, api_kind::chat, /*chat_messages=*/true, who, &out)) {
    if (e->param == "messages") e->param = "input";
    return *e;
  }
  out.request.request_id = new_id("resp_");
  out.formatter = std::make_unique<ws_response_formatter>(out.request.request_id, req.stream_id,
                                                          out.request.model, now_unix_s());
  return out;
}

}  // namespace troupe::net

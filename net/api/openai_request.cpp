#include "net/api/openai_request.hpp"

#include <algorithm>
#include <cctype>
#include <type_traits>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

namespace troupe::net {
namespace {

using json = nlohmann::json;

// The dotted path of the value being parsed ("messages[0].content"), kept
// from nlohmann's parse callbacks, so that a number outside double range
// (which nlohmann refuses while lexing, before any value exists) can still
// be reported naming its field.
class path_tracker {
 public:
  bool on_event(int depth, json::parse_event_t event, const json& parsed) {
    using ev = json::parse_event_t;
    if (event == ev::object_start || event == ev::array_start) {
      frames_.push_back({event == ev::array_start, 0, ""});
    } else if (event == ev::object_end || event == ev::array_end) {
      if (!frames_.empty()) frames_.pop_back();
      bump();
    } else if (event == ev::key) {
      if (!frames_.empty() && parsed.is_string()) frames_.back().key = parsed.get<std::string>();
    } else if (event == ev::value) {
      bump();
    }
    (void)depth;
    return true;
  }
  std::string path() const {
    std::string out;
    for (const frame& f : frames_) {
      if (f.is_array) out += "[" + std::to_string(f.index) + "]";
      else out += (out.empty() ? "" : ".") + f.key;
    }
    return out;
  }

 private:
  struct frame {
    bool is_array;
    size_t index;
    std::string key;
  };
  void bump() {
    if (!frames_.empty() && frames_.back().is_array) ++frames_.back().index;
  }
  std::vector<frame> frames_;
};

// Parses the body into a JSON object; nlohmann rejects invalid UTF-8 inside
// strings, so such a body is a 400 like any malformed JSON.
std::variant<json, api_error> parse_object(std::string_view body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // Re-parse with exceptions only to learn where and why it broke.
    path_tracker where;
    try {
      (void)json::parse(body, [&where](int depth, json::parse_event_t ev, json& parsed) {
        return where.on_event(depth, ev, parsed);
      });
    } catch (const json::out_of_range&) {
      // nlohmann's 406: a number literal beyond double range (1e999999).
      const std::string field = where.path();
      if (field.empty()) return invalid_json("a number is outside the range of a double");
      return invalid_request("'" + field + "' is a number outside the representable range.", field);
    } catch (const json::exception& e) {
      std::string what = e.what();
      auto pos = what.find("] ");
      return invalid_json(pos == std::string::npos ? what : what.substr(pos + 2));
    }
    return invalid_json("malformed body");
  }
  if (!j.is_object()) return invalid_request("The request body must be a JSON object.");
  return j;
}

// Reads optional typed fields of one object; the first error sticks.
class reader {
 public:
  explicit reader(const json& obj, std::string prefix = "") : obj_(obj), prefix_(std::move(prefix)) {}

  const json* get(const char* key) const {
    auto it = obj_.find(key);
    if (it == obj_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  std::string name(const char* key) const { return prefix_ + key; }

  // The first error gives the status and `param`; each later one (another
  // field) is appended to the message, so one answer lists every bad field.
  void fail(api_error e) {
    if (!error) {
      error = std::move(e);
    } else if (e.param != error->param && error->message.find(e.message) == std::string::npos) {
      error->message += " " + e.message;
    }
  }

  void string(const char* key, std::string* out) {
    if (const json* v = get(key)) {
      if (!v->is_string()) return fail(wrong_type(name(key), "a string"));
      *out = v->get<std::string>();
    }
  }
  void boolean(const char* key, bool* out) {
    if (const json* v = get(key)) {
      if (!v->is_boolean()) return fail(wrong_type(name(key), "a boolean"));
      *out = v->get<bool>();
    }
  }
  bool integer(const char* key, int64_t lo, int64_t hi, int64_t* out) {
    const json* v = get(key);
    if (!v) return false;
    int64_t x = 0;
    if (v->is_number_integer()) {
      x = v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX) ? INT64_MAX
                                                                             : v->get<int64_t>();
    } else if (v->is_number_float() && std::isfinite(v->get<double>()) &&
               v->get<double>() == std::floor(v->get<double>()) &&
               std::fabs(v->get<double>()) < 9e18) {
      x = static_cast<int64_t>(v->get<double>());
    } else {
      fail(wrong_type(name(key), "an integer"));
      return false;
    }
    if (x < lo || x > hi) {
      fail(invalid_request("'" + name(key) + "' must be between " + std::to_string(lo) + " and " +
                               std::to_string(hi) + ", got " + std::to_string(x) + ".",
                           name(key)));
      return false;
    }
    *out = x;
    return true;
  }
  template <class T>
  void integer_as(const char* key, int64_t lo, int64_t hi, T* out) {
    int64_t x = 0;
    if (integer(key, lo, hi, &x)) *out = static_cast<T>(x);
  }
  // True when the field is present and valid.
  bool number(const char* key, double lo, double hi, float* out, bool lo_open = false) {
    const json* v = get(key);
    if (!v || v->is_null()) return false;
    if (!v->is_number()) return fail(wrong_type(name(key), "a number")), false;
    double x = v->get<double>();
    if (!std::isfinite(x) || x < lo || x > hi || (lo_open && x == lo)) {
      std::string range = (lo_open ? "(" : "[") + trim(lo) + ", " + trim(hi) + "]";
      fail(invalid_request("'" + name(key) + "' must be in " + range + ", got " + trim(x) + ".",
                           name(key)));
      return false;
    }
    *out = static_cast<float>(x);
    return true;
  }
  static std::string trim(double x) {
    std::string s = std::to_string(x);
    while (s.size() > 1 && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }

  std::optional<api_error> error;

 private:
  const json& obj_;
  std::string prefix_;
};

constexpr size_t kMaxStopStrings = 64;
constexpr size_t kMaxStopTokenIds = 64;
constexpr size_t kMaxLogitBias = 1024;
constexpr size_t kMaxPrompts = 64;

// stop_token_ids: extra ids that end a sequence (vLLM); the model's eos ids
// are added by the engine side. Range-checked against the vocabulary later.
void read_stop_token_ids(reader& r, openai_request* out) {
  const json* v = r.get("stop_token_ids");
  if (!v) return;
  if (!v->is_array()) return r.fail(wrong_type("stop_token_ids", "an array of token ids"));
  if (v->size() > kMaxStopTokenIds)
    return r.fail(invalid_request("'stop_token_ids' may hold at most " +
                                      std::to_string(kMaxStopTokenIds) + " ids.",
                                  "stop_token_ids"));
  for (const json& t : *v) {
    if (!t.is_number_unsigned() || t.get<uint64_t>() > uint64_t(std::numeric_limits<int32_t>::max()))
      return r.fail(wrong_type("stop_token_ids", "an array of non-negative integer token ids"));
    out->params.stop_token_ids.push_back(static_cast<int32_t>(t.get<int64_t>()));
  }
}

// logit_bias: {"token id": bias in [-100, 100]} (OpenAI); keys are decimal ids.
void read_logit_bias(reader& r, openai_request* out) {
  const json* v = r.get("logit_bias");
  if (!v) return;
  if (!v->is_object()) return r.fail(wrong_type("logit_bias", "an object mapping token ids to biases"));
  if (v->size() > kMaxLogitBias)
    return r.fail(invalid_request("'logit_bias' may hold at most " + std::to_string(kMaxLogitBias) +
                                      " entries.",
                                  "logit_bias"));
  for (auto it = v->begin(); it != v->end(); ++it) {
    const std::string& key = it.key();
    const bool digits = !key.empty() && key.size() <= 10 &&
                        std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; });
    const int64_t id = digits ? std::stoll(key) : -1;
    if (!digits || id > std::numeric_limits<int32_t>::max())
      return r.fail(invalid_request("'logit_bias' keys must be token ids (non-negative integers as "
                                    "strings); got '" + key.substr(0, 32) + "'.",
                                    "logit_bias"));
    if (!it->is_number() || !std::isfinite(it->get<double>()) || it->get<double>() < -100.0 ||
        it->get<double>() > 100.0)
      return r.fail(invalid_request("'logit_bias' values must be numbers in [-100, 100]; token " +
                                        key + " has " + it->dump().substr(0, 32) + ".",
                                    "logit_bias"));
    out->params.logit_bias_token_ids.push_back(static_cast<int32_t>(id));
    out->params.logit_bias_values.push_back(static_cast<float>(it->get<double>()));
  }
}

// Fields of the OpenAI schemas this server does not implement: refused with
// a 400 naming them when set to something that would change the output.
void refuse_if_set(reader& r, const char* key, const std::string& why) {
  const json* v = r.get(key);
  if (!v) return;
  if ((v->is_array() || v->is_string()) && v->empty()) return;
  if (v->is_boolean() && !v->get<bool>()) return;
  r.fail(invalid_request("'" + std::string(key) + "' is not supported: " + why, key));
}

// Fields accepted and ignored (docs/serving.md says why), type-checked.
void ignored_string(reader& r, const char* key) {
  std::string unused;
  r.string(key, &unused);
}
void ignored_object(reader& r, const char* key) {
  if (const json* v = r.get(key); v && !v->is_object()) r.fail(wrong_type(key, "an object"));
}

// Chat fields about tools, audio and hosted features.
void read_chat_extras(reader& r, std::string_view body, openai_request* out) {
  refuse_if_set(r, "functions", "the deprecated function-calling form is not served; use 'tools'.");
  if (const json* fc = r.get("function_call")) {
    if (!(fc->is_string() && (fc->get<std::string>() == "none" || fc->get<std::string>() == "auto")))
      r.fail(invalid_request("'function_call' is not supported; use 'tools' and 'tool_choice'.",
                             "function_call"));
  }
  if (r.error) return;
  // Read with key order kept (tool schemas generate in their order).
  const nlohmann::ordered_json ordered = nlohmann::ordered_json::parse(body, nullptr, false);
  if (auto e = read_tool_request(ordered, &out->tools)) return r.fail(*e);
  refuse_if_set(r, "audio", "this model produces text only.");
  if (const json* m = r.get("modalities")) {
    if (!m->is_array()) return r.fail(wrong_type("modalities", "an array of strings"));
    for (const json& x : *m)
      if (!x.is_string() || x.get<std::string>() != "text")
        return r.fail(invalid_request("'modalities' may only contain \"text\".", "modalities"));
  }
  refuse_if_set(r, "prediction", "predicted outputs are not implemented.");
  refuse_if_set(r, "web_search_options", "this server has no web search.");
  refuse_if_set(r, "store", "this server does not store completions for later retrieval.");
  ignored_object(r, "metadata");
  ignored_string(r, "service_tier");
  ignored_string(r, "reasoning_effort");
  ignored_string(r, "verbosity");
  ignored_string(r, "safety_identifier");
  ignored_string(r, "prompt_cache_key");
}

// Fields every generation endpoint takes beyond sampling: stop_token_ids,
// logit_bias, include_stop_str_in_output, structured output.
void read_generation_extras(reader& r, std::string_view body, openai_request* out) {
  read_stop_token_ids(r, out);
  read_logit_bias(r, out);
  r.boolean("include_stop_str_in_output", &out->include_stop_str_in_output);
  if (r.error) return;
  if (auto e = read_structured_output(body, &out->structured)) r.fail(*e);
}

void read_stop(reader& r, openai_request* out) {
  const json* v = r.get("stop");
  if (!v) return;
  if (v->is_string()) {
    if (!v->get<std::string>().empty()) out->stop.push_back(v->get<std::string>());
    return;
  }
  if (!v->is_array()) return r.fail(wrong_type("stop", "a string or an array of strings"));
  // OpenAI allows 4; like vLLM we take more, up to a bound that keeps the
  // per-token matching cheap.
  if (v->size() > kMaxStopStrings)
    return r.fail(invalid_request("'stop' may hold at most " + std::to_string(kMaxStopStrings) +
                                      " sequences.",
                                  "stop"));
  for (const json& s : *v) {
    if (!s.is_string()) return r.fail(wrong_type("stop", "a string or an array of strings"));
    if (!s.get<std::string>().empty()) out->stop.push_back(s.get<std::string>());
  }
}

// Sampling fields shared by every generation endpoint (OpenAI's plus the
// vLLM-style extras top_k, min_p, repetition_penalty, ignore_eos).
void read_sampling(reader& r, openai_request* out) {
  engine::sampling_params& p = out->params;
  r.string("model", &out->model);
  out->has_temperature = r.number("temperature", 0.0, 2.0, &p.temperature);
  out->has_top_p = r.number("top_p", 0.0, 1.0, &p.top_p, /*lo_open=*/true);
  int64_t top_k = 0;
  if (r.integer("top_k", -1, std::numeric_limits<int32_t>::max(), &top_k)) {
    p.top_k = top_k < 0 ? 0 : static_cast<int32_t>(top_k);
    out->has_top_k = true;
  }
  r.number("min_p", 0.0, 1.0, &p.min_p);
  r.number("presence_penalty", -2.0, 2.0, &p.presence_penalty);
  r.number("frequency_penalty", -2.0, 2.0, &p.frequency_penalty);
  out->has_repetition_penalty =
      r.number("repetition_penalty", 0.0, 2.0, &p.repetition_penalty, /*lo_open=*/true);
  int64_t seed = 0;
  if (r.integer("seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                &seed)) {
    p.seed = static_cast<uint64_t>(seed);
    out->has_seed = true;
  }
  r.boolean("ignore_eos", &p.ignore_eos);
  r.string("user", &out->user);
  read_stop(r, out);
}

void read_stream(reader& r, openai_request* out) {
  r.boolean("stream", &out->stream);
  if (const json* so = r.get("stream_options")) {
    if (!so->is_object()) return r.fail(wrong_type("stream_options", "an object"));
    reader inner(*so, "stream_options.");
    inner.boolean("include_usage", &out->include_usage);
    bool obfuscation = false;  // padding against length side channels: not needed here
    inner.boolean("include_obfuscation", &obfuscation);
    if (inner.error) r.fail(*inner.error);
  }
}

void read_max_tokens(reader& r, const char* key, openai_request* out) {
  int64_t v = 0;
  if (r.integer(key, 1, std::numeric_limits<int32_t>::max(), &v)) out->max_tokens = v;
}

// A message's content: a string, or an array of {"type":"text"|"input_text", "text"} parts.
bool read_content(const json& content, const std::string& param, std::string* out, reader& r) {
  if (content.is_string()) {
    *out = content.get<std::string>();
    return true;
  }
  if (!content.is_array()) {
    r.fail(wrong_type(param, "a string or an array of content parts"));
    return false;
  }
  for (const json& part : content) {
    auto type = part.is_object() ? part.find("type") : part.end();
    auto text = part.is_object() ? part.find("text") : part.end();
    if (type == part.end() || !type->is_string() || text == part.end() || !text->is_string()) {
      r.fail(invalid_request("'" + param + "' parts must be {\"type\":\"text\",\"text\":…}.", param));
      return false;
    }
    const std::string t = type->get<std::string>();
    if (t != "text" && t != "input_text" && t != "output_text") {
      r.fail(invalid_request("Content part type '" + t + "' is not supported by this model.", param));
      return false;
    }
    *out += text->get<std::string>();
  }
  return true;
}

void read_messages(reader& r, const json& arr, const char* key, openai_request* out) {
  if (!arr.is_array()) return r.fail(wrong_type(key, "an array of messages"));
  if (arr.empty()) return r.fail(invalid_request(std::string("'") + key + "' must not be empty.", key));
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string param = std::string(key) + "[" + std::to_string(i) + "]";
    const json& m = arr[i];
    if (!m.is_object()) return r.fail(wrong_type(param, "an object"));
    auto role = m.find("role");
    if (role == m.end() || !role->is_string())
      return r.fail(invalid_request("'" + param + ".role' is a required string.", param + ".role"));
    actors::chat_message msg;
    msg.role = role->get<std::string>();
    static const char* roles[] = {"system", "developer", "user", "assistant", "tool"};
    bool known = false;
    for (const char* k : roles) known = known || msg.role == k;
    if (!known)
      return r.fail(invalid_request("'" + param + ".role' must be one of system, developer, user, "
                                    "assistant, tool; got '" + msg.role + "'.",
                                    param + ".role"));
    if (auto tc = m.find("tool_calls"); tc != m.end() && !tc->is_null() &&
                                         !(tc->is_array() && tc->empty())) {
      if (msg.role != "assistant")
        return r.fail(invalid_request("Only assistant messages carry 'tool_calls'.", param + ".tool_calls"));
      if (auto e = normalize_tool_calls(*tc, param + ".tool_calls", &msg.tool_calls_json)) return r.fail(*e);
    }
    if (auto id = m.find("tool_call_id"); id != m.end() && !id->is_null()) {
      if (!id->is_string()) return r.fail(wrong_type(param + ".tool_call_id", "a string"));
      msg.tool_call_id = id->get<std::string>();
    }
    if (auto nm = m.find("name"); nm != m.end() && !nm->is_null()) {
      if (!nm->is_string()) return r.fail(wrong_type(param + ".name", "a string"));
      msg.name = nm->get<std::string>();
    }
    auto content = m.find("content");
    if (content != m.end() && !content->is_null() &&
        !read_content(*content, param + ".content", &msg.content, r))
      return;
    out->messages.push_back(std::move(msg));
  }
}

bool is_token_array(const json& v) {
  if (!v.is_array() || v.empty()) return false;
  for (const json& t : v)
    if (!t.is_number_integer()) return false;
  return true;
}

// One prompt: "text" or [ids…].
bool read_one_prompt(reader& r, const json& p, prompt_item* out) {
  if (p.is_string()) {
    out->text = p.get<std::string>();
    return true;
  }
  if (!is_token_array(p)) {
    r.fail(wrong_type("prompt", "a string, an array of token ids, or an array of these"));
    return false;
  }
  for (const json& t : p) {
    if (!t.is_number_unsigned() || t.get<uint64_t>() > uint64_t(std::numeric_limits<int32_t>::max())) {
      r.fail(invalid_request("'prompt' token ids must be non-negative 32-bit integers.", "prompt"));
      return false;
    }
    out->token_ids.push_back(static_cast<int32_t>(t.get<int64_t>()));
  }
  return true;
}

// prompt: "text" | [ids…] | ["text", …] | [[ids…], …] (several prompts).
void read_prompt(reader& r, openai_request* out) {
  const json* v = r.get("prompt");
  if (!v) return r.fail(invalid_request("'prompt' is a required property.", "prompt"));
  std::vector<const json*> prompts;
  if (v->is_string() || is_token_array(*v)) {
    prompts.push_back(v);
  } else if (v->is_array() && !v->empty()) {
    for (const json& p : *v) prompts.push_back(&p);
  } else {
    return r.fail(wrong_type("prompt", "a string, an array of token ids, or an array of these"));
  }
  if (prompts.size() > kMaxPrompts)
    return r.fail(invalid_request("'prompt' may hold at most " + std::to_string(kMaxPrompts) +
                                      " prompts.",
                                  "prompt"));
  for (size_t i = 0; i < prompts.size(); ++i) {
    prompt_item item;
    if (!read_one_prompt(r, *prompts[i], &item)) return;
    if (i == 0) {
      out->prompt_text = std::move(item.text);
      out->prompt_token_ids = std::move(item.token_ids);
    } else {
      out->extra_prompts.push_back(std::move(item));
    }
  }
}

template <class Fill>
parse_result parse_with(std::string_view body, Fill fill) {
  auto parsed = parse_object(body);
  if (auto* e = std::get_if<api_error>(&parsed)) return *e;
  const json& j = std::get<json>(parsed);
  openai_request out;
  reader r(j);
  if constexpr (std::is_invocable_v<Fill, reader&, const json&, openai_request*, std::string_view>)
    fill(r, j, &out, body);
  else
    fill(r, j, &out);
  if (r.error) return *r.error;
  return out;
}

}  // namespace

parse_result parse_chat_request(std::string_view body) {
  return parse_with(body, [](reader& r, const json& j, openai_request* out, std::string_view text) {
    auto m = j.find("messages");
    if (m == j.end() || m->is_null())
      return r.fail(invalid_request("'messages' is a required property.", "messages"));
    read_messages(r, *m, "messages", out);
    read_sampling(r, out);
    read_stream(r, out);
    read_max_tokens(r, "max_tokens", out);
    read_max_tokens(r, "max_completion_tokens", out);
    r.integer_as("n", 1, 128, &out->n);
    r.boolean("logprobs", &out->logprobs);
    r.integer_as("top_logprobs", 0, 20, &out->top_logprobs);
    if (out->top_logprobs > 0 && !out->logprobs)
      r.fail(invalid_request("'top_logprobs' requires 'logprobs' to be true.", "top_logprobs"));
    read_chat_extras(r, text, out);
    read_generation_extras(r, text, out);
  });
}

parse_result parse_completion_request(std::string_view body) {
  return parse_with(body, [](reader& r, const json&, openai_request* out, std::string_view text) {
    read_prompt(r, out);
    read_sampling(r, out);
    read_stream(r, out);
    read_max_tokens(r, "max_tokens", out);
    r.integer_as("n", 1, 128, &out->n);
    int64_t lp = 0;
    if (r.integer("logprobs", 0, 5, &lp)) {
      out->logprobs = true;
      out->top_logprobs = static_cast<int32_t>(lp);
    }
    r.boolean("echo", &out->echo);
    r.integer_as("best_of", 1, 128, &out->best_of);
    if (out->best_of > 0 && out->best_of < out->n)
      r.fail(invalid_request("'best_of' must be at least 'n'.", "best_of"));
    if (out->best_of > out->n && out->stream)
      r.fail(invalid_request("'best_of' greater than 'n' cannot be streamed: the best choices are "
                             "known only at the end.",
                             "best_of"));
    if (out->echo && out->logprobs)
      r.fail(invalid_request("'echo' together with 'logprobs' (prompt logprobs) is not supported.",
                             "echo"));
    refuse_if_set(r, "suffix", "the model has no fill-in-the-middle template for insertion.");
    read_generation_extras(r, text, out);
  });
}

parse_result parse_tokenize_request(std::string_view body) {
  return parse_with(body, [](reader& r, const json& j, openai_request* out) {
    r.string("model", &out->model);
    r.boolean("add_special_tokens", &out->add_special_tokens);
    if (auto m = j.find("messages"); m != j.end() && !m->is_null()) {
      read_messages(r, *m, "messages", out);
      return;
    }
    auto p = j.find("prompt");
    if (p == j.end() || p->is_null())
      return r.fail(invalid_request("'prompt' or 'messages' is required.", "prompt"));
    if (!p->is_string()) return r.fail(wrong_type("prompt", "a string"));
    out->prompt_text = p->get<std::string>();
  });
}

parse_result parse_detokenize_request(std::string_view body) {
  return parse_with(body, [](reader& r, const json& j, openai_request* out) {
    r.string("model", &out->model);
    auto t = j.find("tokens");
    if (t == j.end() || t->is_null())
      return r.fail(invalid_request("'tokens' is a required property.", "tokens"));
    if (!t->is_array()) return r.fail(wrong_type("tokens", "an array of token ids"));
    for (const json& id : *t) {
      if (!id.is_number_unsigned() || id.get<uint64_t>() > uint64_t(std::numeric_limits<int32_t>::max()))
        return r.fail(invalid_request("'tokens' must hold non-negative 32-bit integers.", "tokens"));
      out->prompt_token_ids.push_back(static_cast<int32_t>(id.get<int64_t>()));
    }
  });
}

parse_result parse_response_create(std::string_view event_json) {
  return parse_with(event_json, [event_json](reader& r, const json& j, openai_request* out) {
    r.string("stream_id", &out->stream_id);
    for (char ch : out->stream_id) {
      bool ok = std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' || ch == '-';
      if (!ok || out->stream_id.size() > 256)
        return r.fail(invalid_request("'stream_id' must match ^[A-Za-z0-9_.-]+$ (at most 256).",
                                      "stream_id"));
    }
    std::string instructions;
    r.string("instructions", &instructions);
    if (!instructions.empty()) out->messages.push_back({"system", instructions});
    auto in = j.find("input");
    if (in == j.end() || in->is_null())
      return r.fail(invalid_request("'input' is a required property.", "input"));
    if (in->is_string()) {
      out->messages.push_back({"user", in->get<std::string>()});
    } else if (in->is_array()) {
      read_messages(r, *in, "input", out);
    } else {
      r.fail(wrong_type("input", "a string or an array of input messages"));
    }
    read_sampling(r, out);
    read_max_tokens(r, "max_output_tokens", out);
    r.boolean("stream", &out->stream);  // POST /v1/responses (the WebSocket ignores it)
    read_generation_extras(r, event_json, out);
  });
}

}  // namespace troupe::net

#include "net/api/openai_response.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "actors/engine/chat/tool_calls.hpp"

namespace troupe::net {
namespace {

using json = nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json utf8_bytes(const std::string& s) {
  json a = json::array();
  for (unsigned char c : s) a.push_back(int(c));
  return a;
}

// Chat logprobs: {"content":[{"token","logprob","bytes","top_logprobs":[…]}]}.
json chat_logprobs(const std::vector<actors::token_logprob_text>& lps) {
  json content = json::array();
  for (const auto& lp : lps) {
    json top = json::array();
    for (const auto& [tok, v] : lp.top)
      top.push_back({{"token", tok}, {"logprob", v}, {"bytes", utf8_bytes(tok)}});
    content.push_back({{"token", lp.token},
                       {"logprob", lp.logprob},
                       {"bytes", utf8_bytes(lp.token)},
                       {"top_logprobs", top}});
  }
  return json{{"content", content}, {"refusal", nullptr}};
}

// Completions logprobs: {tokens, token_logprobs, top_logprobs:[{tok:lp}], text_offset}.
json completion_logprobs(const std::vector<actors::token_logprob_text>& lps, size_t* offset) {
  json tokens = json::array(), token_lps = json::array(), tops = json::array(),
       offsets = json::array();
  for (const auto& lp : lps) {
    tokens.push_back(lp.token);
    token_lps.push_back(lp.logprob);
    json top = json::object();
    for (const auto& [tok, v] : lp.top) top[tok] = v;
    tops.push_back(top);
    offsets.push_back(*offset);
    *offset += lp.token.size();
  }
  return json{{"tokens", tokens}, {"token_logprobs", token_lps}, {"top_logprobs", tops},
              {"text_offset", offsets}};
}

json usage_json(int32_t prompt, int32_t completion, int32_t cached) {
  return json{{"prompt_tokens", prompt},
              {"completion_tokens", completion},
              {"total_tokens", prompt + completion},
              {"prompt_tokens_details", {{"cached_tokens", cached}}}};
}

}  // namespace

openai_formatter::~openai_formatter() = default;

openai_formatter::openai_formatter(options o) : opt_(std::move(o)) {
  if (opt_.kind == api_kind::responses)
    responses_ = std::make_unique<ws_response_formatter>(opt_.id, "", opt_.model, opt_.created_unix_s);
  opt_.best_of = std::max({1, opt_.n, opt_.best_of});
  choices_.resize(static_cast<size_t>(opt_.best_of) * std::max<int32_t>(1, opt_.num_prompts));
}

std::string openai_formatter::chunk(const std::string& choices_json) const {
  json c{{"id", opt_.id},
         {"object", opt_.kind == api_kind::chat ? "chat.completion.chunk" : "text_completion"},
         {"created", opt_.created_unix_s},
         {"model", opt_.model},
         {"system_fingerprint", nullptr},
         {"choices", json::parse(choices_json)}};
  if (opt_.include_usage) c["usage"] = nullptr;
  return "data: " + dump(c) + "\n\n";
}

std::string openai_formatter::call_id(int32_t choice, size_t k) const {
  // Unique per response: the response id's random part, the choice and the call.
  return "call_" + opt_.id.substr(opt_.id.find('-') + 1) + "_" + std::to_string(choice) + "_" +
         std::to_string(k);
}

openai_formatter::message_parts openai_formatter::split_message(const std::string& text) const {
  message_parts parts;
  if (opt_.tool_call_format.empty()) {
    parts.content = text;
    return parts;
  }
  const engine::tool_call_format f = opt_.tool_call_format == "hermes" ? engine::tool_call_format::hermes
                                     : opt_.tool_call_format == "mistral"
                                         ? engine::tool_call_format::mistral
                                         : engine::tool_call_format::llama3_json;
  engine::tool_call_parse p = engine::parse_tool_calls(f, text);
  parts.content = p.calls.empty() ? std::optional<std::string>(text) : p.content;
  for (auto& c : p.calls) parts.calls.emplace_back(std::move(c.name), std::move(c.arguments_json));
  return parts;
}

// With tools on, a choice streams nothing until it ends; then its text goes
// out as one content delta, or as OpenAI streams calls: per call a delta with
// id, type, name and empty arguments, then one with the arguments; the last
// chunk has finish_reason "tool_calls".
std::string openai_formatter::tool_stream_chunks(int32_t index, const actors::generation_event& ev) {
  const choice& c = choices_[index];
  const message_parts parts = split_message(c.text);
  std::string out;
  auto emit = [&](json delta, json finish) {
    json ch{{"index", index}, {"delta", std::move(delta)}, {"logprobs", nullptr}, {"finish_reason", finish}};
    out += chunk(dump(json::array({ch})));
  };
  if (parts.calls.empty()) {
    if (!c.text.empty()) emit(json{{"content", c.text}}, nullptr);
    emit(json::object(), ev.finish_reason_text);
    return out;
  }
  if (parts.content) emit(json{{"content", *parts.content}}, nullptr);
  for (size_t k = 0; k < parts.calls.size(); ++k) {
    emit(json{{"tool_calls", json::array({{{"index", k}, {"id", call_id(index, k)}, {"type", "function"},
                                            {"function", {{"name", parts.calls[k].first}, {"arguments", ""}}}}})}},
         nullptr);
    emit(json{{"tool_calls", json::array({{{"index", k}, {"function", {{"arguments", parts.calls[k].second}}}}})}},
         nullptr);
  }
  emit(json::object(), "tool_calls");
  return out;
}

std::string openai_formatter::stream_choice(int32_t index, const actors::generation_event& ev,
                                            bool first) {
  json ch{{"index", index}};
  json finish = ev.finished == engine::finish_reason::none ? json(nullptr)
                                                           : json(ev.finish_reason_text);
  if (opt_.kind == api_kind::chat) {
    json delta = json::object();
    if (first) delta["role"] = "assistant";
    if (first || !ev.text_delta.empty()) delta["content"] = ev.text_delta;
    ch["delta"] = delta;
    ch["logprobs"] = opt_.logprobs && !ev.logprobs.empty() ? chat_logprobs(ev.logprobs) : json(nullptr);
  } else {
    std::string text = ev.text_delta;
    const size_t prompt = static_cast<size_t>(index) / std::max(1, opt_.best_of);
    if (prompt < opt_.echo_prompts.size() && index >= 0 &&
        static_cast<size_t>(index) < choices_.size() && !choices_[index].echo_sent) {
      choices_[index].echo_sent = true;
      text = opt_.echo_prompts[prompt] + text;
    }
    ch["text"] = text;
    ch["logprobs"] = opt_.logprobs && !ev.logprobs.empty()
                         ? completion_logprobs(ev.logprobs, &completion_text_offset_)
                         : json(nullptr);
  }
  ch["finish_reason"] = finish;
  return dump(json::array({ch}));
}

void openai_formatter::on_choice_event(const actors::generation_event& ev, format_step* out) {
  format_step& step = *out;
  const size_t idx = static_cast<size_t>(ev.index);
  if (idx >= choices_.size()) choices_.resize(idx + 1);
  choice& c = choices_[idx];
  c.text += ev.text_delta;
  for (const auto& lp : ev.logprobs) c.cumulative_logprob += lp.logprob;
  if (opt_.logprobs) c.logprobs.insert(c.logprobs.end(), ev.logprobs.begin(), ev.logprobs.end());
  if (ev.finished != engine::finish_reason::none) {
    c.finish_reason = ev.finish_reason_text;
    last_finish_reason_ = ev.finish_reason_text;
  }
  if (opt_.stream) {
    const bool has_payload = !ev.text_delta.empty() || ev.finished != engine::finish_reason::none ||
                             (opt_.logprobs && !ev.logprobs.empty());
    if (opt_.kind == api_kind::chat && !c.role_sent) {
      // The first chunk of a choice carries its role (and an empty content).
      c.role_sent = true;
      actors::generation_event role_only;
      step.bytes += chunk(stream_choice(ev.index, role_only, /*first=*/true));
    }
    if (!opt_.tool_call_format.empty() && opt_.kind == api_kind::chat) {
      if (ev.finished != engine::finish_reason::none) {
        c.finish_reason = ev.finish_reason_text;
        step.bytes += tool_stream_chunks(ev.index, ev);
        if (!split_message(c.text).calls.empty()) c.finish_reason = last_finish_reason_ = "tool_calls";
      }
    } else if (has_payload) {
      step.bytes += chunk(stream_choice(ev.index, ev, /*first=*/false));
    }
  }
}

format_step openai_formatter::on_responses_event(const actors::generation_event& ev) {
  format_step step;
  std::vector<std::string> events;
  if (!responses_started_) {
    responses_started_ = true;
    events.push_back(responses_->created_event());
  }
  if (ev.error != actors::service_error::none && !opt_.stream) {
    step.complete = true;
    step.error = from_service_error(ev.error, ev.error_message);
    return step;
  }
  step.complete = responses_->on_event(ev, &events);
  if (ev.done) {
    prompt_tokens_ = ev.prompt_tokens;
    completion_tokens_ = ev.completion_tokens;
    last_finish_reason_ = ev.finish_reason_text.empty() ? "stop" : ev.finish_reason_text;
  }
  if (opt_.stream) {
    for (const std::string& e : events) {
      const json j = json::parse(e);
      step.bytes += "event: " + j.value("type", std::string("message")) + "\ndata: " + e + "\n\n";
    }
  } else if (step.complete && !events.empty()) {
    step.bytes = dump(json::parse(events.back())["response"]);  // the response.completed's response
  }
  return step;
}

format_step openai_formatter::on_event(const actors::generation_event& ev) {
  if (opt_.kind == api_kind::responses) return on_responses_event(ev);
  format_step step;
  if (ev.error != actors::service_error::none) {
    api_error e = from_service_error(ev.error, ev.error_message);
    last_finish_reason_ = "error";
    step.complete = true;
    if (opt_.stream) step.bytes = sse_error_event(e);
    else step.error = std::move(e);
    return step;
  }
  // The request's final event may stand alone (index -1: no choice, only the
  // usage); a choice event may also carry done itself.
  if (ev.index >= 0 && ev.index < 1024) on_choice_event(ev, &step);
  if (ev.done) {
    prompt_tokens_ = ev.prompt_tokens;
    completion_tokens_ = ev.completion_tokens;
    cached_tokens_ = ev.cached_prompt_tokens;
    step.complete = true;
    if (opt_.stream) {
      if (opt_.include_usage) {
        json u{{"id", opt_.id},
               {"object", opt_.kind == api_kind::chat ? "chat.completion.chunk" : "text_completion"},
               {"created", opt_.created_unix_s},
               {"model", opt_.model},
               {"system_fingerprint", nullptr},
               {"choices", json::array()},
               {"usage", usage_json(prompt_tokens_, completion_tokens_, cached_tokens_)}};
        step.bytes += "data: " + dump(u) + "\n\n";
      }
      step.bytes += "data: [DONE]\n\n";
    } else {
      step.bytes = final_body();
    }
  }
  return step;
}

std::string openai_formatter::final_body() const {
  json choices = json::array();
  size_t offset = 0;
  // Which generated sequences become the returned choices, in order: per
  // prompt, the n of its best_of sequences with the highest cumulative
  // logprob (all of them, in order, when best_of == n).
  const size_t per_prompt = static_cast<size_t>(std::max(1, opt_.best_of));
  const size_t keep = static_cast<size_t>(std::max(1, opt_.n));
  std::vector<size_t> order;
  for (size_t p = 0; p * per_prompt < choices_.size(); ++p) {
    std::vector<size_t> group;
    for (size_t k = 0; k < per_prompt && p * per_prompt + k < choices_.size(); ++k)
      group.push_back(p * per_prompt + k);
    if (per_prompt > keep) {
      std::stable_sort(group.begin(), group.end(), [&](size_t a, size_t b) {
        return choices_[a].cumulative_logprob > choices_[b].cumulative_logprob;
      });
      group.resize(std::min(keep, group.size()));
    }
    order.insert(order.end(), group.begin(), group.end());
  }
  for (size_t i = 0; i < order.size(); ++i) {
    const choice& c = choices_[order[i]];
    json ch{{"index", i}};
    std::string finish_reason = c.finish_reason;
    if (opt_.kind == api_kind::chat) {
      const message_parts parts = split_message(c.text);
      ch["message"] = {{"role", "assistant"},
                       {"content", parts.content ? json(*parts.content) : json(nullptr)},
                       {"refusal", nullptr},
                       {"annotations", json::array()}};
      if (!parts.calls.empty()) {
        json calls = json::array();
        for (size_t k = 0; k < parts.calls.size(); ++k)
          calls.push_back({{"id", call_id(static_cast<int32_t>(i), k)}, {"type", "function"},
                           {"function", {{"name", parts.calls[k].first}, {"arguments", parts.calls[k].second}}}});
        ch["message"]["tool_calls"] = calls;
        finish_reason = "tool_calls";
      }
      ch["logprobs"] = opt_.logprobs ? chat_logprobs(c.logprobs) : json(nullptr);
    } else {
      const size_t prompt = order[i] / per_prompt;
      ch["text"] = prompt < opt_.echo_prompts.size() ? opt_.echo_prompts[prompt] + c.text : c.text;
      offset = 0;
      ch["logprobs"] = opt_.logprobs ? completion_logprobs(c.logprobs, &offset) : json(nullptr);
    }
    ch["finish_reason"] = finish_reason.empty() ? json(nullptr) : json(finish_reason);
    choices.push_back(ch);
  }
  json body{{"id", opt_.id},
            {"object", opt_.kind == api_kind::chat ? "chat.completion" : "text_completion"},
            {"created", opt_.created_unix_s},
            {"model", opt_.model},
            {"system_fingerprint", nullptr},
            {"choices", choices},
            {"usage", usage_json(prompt_tokens_, completion_tokens_, cached_tokens_)}};
  return dump(body);
}

ws_response_formatter::ws_response_formatter(std::string response_id, std::string stream_id,
                                             std::string model, int64_t created_unix_s)
    : response_id_(std::move(response_id)),
      stream_id_(std::move(stream_id)),
      model_(std::move(model)),
      item_id_("msg_" + response_id_.substr(response_id_.find('_') + 1)),
      created_(created_unix_s) {}

std::string ws_response_formatter::response_object(const std::string& status, bool with_usage) const {
  json content = json::array();
  json output = json::array();
  if (!text_.empty() || status == "completed") {
    content.push_back({{"type", "output_text"}, {"text", text_}, {"annotations", json::array()}});
    output.push_back({{"type", "message"}, {"id", item_id_}, {"status", status == "completed" ? "completed" : "incomplete"},
                      {"role", "assistant"}, {"content", content}});
  }
  json r{{"id", response_id_}, {"object", "response"}, {"created_at", created_},
         {"status", status}, {"model", model_}, {"output", output}};
  r["usage"] = with_usage ? json{{"input_tokens", input_tokens_}, {"output_tokens", output_tokens_},
                                 {"total_tokens", input_tokens_ + output_tokens_}}
                          : json(nullptr);
  return dump(r);
}

std::string ws_response_formatter::stamp(std::string type_and_fields) {
  json j = json::parse(type_and_fields);
  j["sequence_number"] = sequence_number_++;
  if (!stream_id_.empty()) j["stream_id"] = stream_id_;
  return dump(j);
}

std::string ws_response_formatter::created_event() {
  json j{{"type", "response.created"}, {"response", json::parse(response_object("in_progress", false))}};
  return stamp(dump(j));
}

std::string ws_response_formatter::message_item(const std::string& status) const {
  json content = json::array();
  if (status == "completed")
    content.push_back({{"type", "output_text"}, {"text", text_}, {"annotations", json::array()}});
  return dump(json{{"type", "message"}, {"id", item_id_}, {"status", status}, {"role", "assistant"},
                   {"content", content}});
}

void ws_response_formatter::open_item(std::vector<std::string>* out) {
  if (item_open_) return;
  item_open_ = true;
  out->push_back(stamp(dump(json{{"type", "response.in_progress"},
                                 {"response", json::parse(response_object("in_progress", false))}})));
  out->push_back(stamp(dump(json{{"type", "response.output_item.added"}, {"output_index", 0},
                                 {"item", json::parse(message_item("in_progress"))}})));
  out->push_back(stamp(dump(json{{"type", "response.content_part.added"}, {"item_id", item_id_},
                                 {"output_index", 0}, {"content_index", 0},
                                 {"part", {{"type", "output_text"}, {"text", ""}, {"annotations", json::array()}}}})));
}

bool ws_response_formatter::on_event(const actors::generation_event& ev, std::vector<std::string>* out) {
  if (ev.error != actors::service_error::none) {
    api_error e = from_service_error(ev.error, ev.error_message);
    out->push_back(ws_error_event(e, stream_id_));
    return true;
  }
  open_item(out);
  // Responses streams have one output (index 0); the final event may stand
  // alone with index -1.
  if (ev.index == 0 && !ev.text_delta.empty()) {
    text_ += ev.text_delta;
    json d{{"type", "response.output_text.delta"}, {"item_id", item_id_}, {"output_index", 0},
           {"content_index", 0}, {"delta", ev.text_delta}};
    out->push_back(stamp(dump(d)));
  }
  if (!ev.done) return false;
  input_tokens_ = ev.prompt_tokens;
  output_tokens_ = ev.completion_tokens;
  json done{{"type", "response.output_text.done"}, {"item_id", item_id_}, {"output_index", 0},
            {"content_index", 0}, {"text", text_}};
  out->push_back(stamp(dump(done)));
  out->push_back(stamp(dump(json{{"type", "response.content_part.done"}, {"item_id", item_id_},
                                 {"output_index", 0}, {"content_index", 0},
                                 {"part", {{"type", "output_text"}, {"text", text_}, {"annotations", json::array()}}}})));
  out->push_back(stamp(dump(json{{"type", "response.output_item.done"}, {"output_index", 0},
                                 {"item", json::parse(message_item("completed"))}})));
  json completed{{"type", "response.completed"},
                 {"response", json::parse(response_object("completed", true))}};
  out->push_back(stamp(dump(completed)));
  return true;
}

std::string ws_response_formatter::cancelled_event() {
  json j{{"type", "response.cancelled"}, {"response", json::parse(response_object("cancelled", false))}};
  return stamp(dump(j));
}

}  // namespace troupe::net

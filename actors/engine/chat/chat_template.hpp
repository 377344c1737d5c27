#pragma once
// Hugging Face chat templates: the `chat_template` Jinja string of
// tokenizer_config.json, rendered the way transformers' apply_chat_template
// does (Jinja with trim_blocks and lstrip_blocks, loop controls, the
// raise_exception and strftime_now globals, and a tojson that keeps non-ASCII
// text and key order). The Jinja subset is implemented here, in C++; see
// jinja_*.hpp for what it covers.
//
// Values are JSON. Pass nlohmann::ordered_json to keep the key order the
// client sent (tools rendered with `| tojson` then match Python byte for
// byte); nlohmann::json works too but sorts keys.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace troupe::engine {

namespace jinja {
struct compiled_template;
}

class chat_template {
 public:
  // Lexes and parses; on a syntax error, an unknown filter or test, returns
  // nullopt and sets *error (when error is not null) to "line L, column C: …".
  static std::optional<chat_template> parse(std::string_view source, std::string* error);

  // Renders with the keys of context (a JSON object) as variables. Errors
  // (raise_exception, an undefined operand, a type error, the output or loop
  // limits) return nullopt with "line L, column C: …" in *error.
  std::optional<std::string> render(const nlohmann::ordered_json& context, std::string* error) const;
  std::optional<std::string> render(const nlohmann::json& context, std::string* error) const;

 private:
  std::shared_ptr<const jinja::compiled_template> compiled_;
};

// What apply_chat_template(messages, tools=…, add_generation_prompt=…, **extra)
// passes to the template: messages, tools (None when absent), documents
// (None), add_generation_prompt, bos_token, eos_token, then the keys of
// extra_context (e.g. {"enable_thinking": false}).
std::optional<std::string> render_chat(const chat_template& tmpl, const nlohmann::ordered_json& messages,
                                       bool add_generation_prompt, std::string_view bos_token,
                                       std::string_view eos_token,
                                       const std::optional<nlohmann::ordered_json>& tools, std::string* error,
                                       const nlohmann::ordered_json& extra_context = nlohmann::ordered_json::object());

// The template text of a parsed tokenizer_config.json: `chat_template` as a
// string, or from its list form [{"name": …, "template": …}] the entry called
// `name` ("default" unless asked otherwise). nullopt with *error when absent.
std::optional<std::string> chat_template_source(const nlohmann::ordered_json& tokenizer_config,
                                                std::string* error, std::string_view name = "default");

// The text of a special token entry of tokenizer_config.json ("bos_token"),
// given as a string or as {"content": …}; "" when absent or null.
std::string special_token_text(const nlohmann::ordered_json& tokenizer_config, std::string_view key);

}  // namespace troupe::engine

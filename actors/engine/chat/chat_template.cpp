#include "actors/engine/chat/chat_template.hpp"

#include "actors/engine/chat/jinja_error.hpp"
#include "actors/engine/chat/jinja_lexer.hpp"
#include "actors/engine/chat/jinja_parser.hpp"
#include "actors/engine/chat/jinja_renderer.hpp"

namespace troupe::engine {

namespace jinja {
struct compiled_template {
  std::string source;  // newline-normalized; error offsets point into it
  stmt_list body;
};
}  // namespace jinja

namespace {

void set_error(std::string* error, std::string message) {
  if (error) *error = std::move(message);
}

}  // namespace

std::optional<chat_template> chat_template::parse(std::string_view source, std::string* error) {
  auto compiled = std::make_shared<jinja::compiled_template>();
  try {
    jinja::lexed_template lexed = jinja::lex(source);
    compiled->source = std::move(lexed.source);
    compiled->body = jinja::parse(lexed);
  } catch (const jinja::template_error& e) {
    std::string normalized = compiled->source.empty() ? std::string(source) : compiled->source;
    set_error(error, "chat template syntax error at " + jinja::describe_error(normalized, e.offset, e.what()));
    return std::nullopt;
  } catch (const std::exception& e) {
    set_error(error, std::string("chat template syntax error: ") + e.what());
    return std::nullopt;
  }
  chat_template t;
  t.compiled_ = std::move(compiled);
  return t;
}

std::optional<std::string> chat_template::render(const nlohmann::ordered_json& context, std::string* error) const {
  if (!context.is_object()) {
    set_error(error, "chat template context must be a JSON object");
    return std::nullopt;
  }
  try {
    return jinja::render(compiled_->body, context, jinja::render_limits{});
  } catch (const jinja::template_error& e) {
    set_error(error, "chat template error at " + jinja::describe_error(compiled_->source, e.offset, e.what()));
  } catch (const std::exception& e) {
    set_error(error, std::string("chat template error: ") + e.what());
  }
  return std::nullopt;
}

std::optional<std::string> chat_template::render(const nlohmann::json& context, std::string* error) const {
  return render(nlohmann::ordered_json(context), error);
}

std::optional<std::string> render_chat(const chat_template& tmpl, const nlohmann::ordered_json& messages,
                                       bool add_generation_prompt, std::string_view bos_token,
                                       std::string_view eos_token,
                                       const std::optional<nlohmann::ordered_json>& tools, std::string* error,
                                       const nlohmann::ordered_json& extra_context) {
  if (!messages.is_array()) {
    set_error(error, "chat messages must be a JSON array");
    return std::nullopt;
  }
  nlohmann::ordered_json context = nlohmann::ordered_json::object();
  context["messages"] = messages;
  context["tools"] = tools ? *tools : nlohmann::ordered_json(nullptr);
  context["documents"] = nullptr;
  context["add_generation_prompt"] = add_generation_prompt;
  context["bos_token"] = std::string(bos_token);
  context["eos_token"] = std::string(eos_token);
  if (extra_context.is_object()) {
    for (const auto& [key, v] : extra_context.items()) context[key] = v;
  }
  return tmpl.render(context, error);
}

std::optional<std::string> chat_template_source(const nlohmann::ordered_json& tokenizer_config,
                                                std::string* error, std::string_view name) {
  auto it = tokenizer_config.find("chat_template");
  if (it == tokenizer_config.end() || it->is_null()) {
    set_error(error, "tokenizer_config.json has no chat_template");
    return std::nullopt;
  }
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array()) {
    for (const auto& entry : *it) {
      if (entry.is_object() && entry.value("name", "") == name && entry.contains("template") &&
          entry["template"].is_string()) {
        return entry["template"].get<std::string>();
      }
    }
    set_error(error, "tokenizer_config.json has no chat_template named '" + std::string(name) + "'");
    return std::nullopt;
  }
  set_error(error, "tokenizer_config.json: chat_template must be a string or a list of named templates");
  return std::nullopt;
}

std::string special_token_text(const nlohmann::ordered_json& tokenizer_config, std::string_view key) {
  auto it = tokenizer_config.find(std::string(key));
  if (it == tokenizer_config.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) return (*it)["content"].get<std::string>();
  return "";
}

}  // namespace troupe::engine

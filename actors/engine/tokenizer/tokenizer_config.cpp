#include "actors/engine/tokenizer/tokenizer_config.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace troupe::engine {
namespace {

std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A special token is written as a string or as an AddedToken object
// {"content": ..., "__type": "AddedToken", ...}; null means none.
bool read_token(const nlohmann::json& doc, const char* key, std::optional<std::string>& out,
                std::string* error) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return true;
  if (it->is_string()) {
    out = it->get<std::string>();
    return true;
  }
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    out = (*it)["content"].get<std::string>();
    return true;
  }
  if (error != nullptr) *error = std::string(key) + ": expected a string or an AddedToken object";
  return false;
}

bool read_bool(const nlohmann::json& doc, const char* key, std::optional<bool>& out,
               std::string* error) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return true;
  if (!it->is_boolean()) {
    if (error != nullptr) *error = std::string(key) + ": expected true or false";
    return false;
  }
  out = it->get<bool>();
  return true;
}

bool read_chat_template(const nlohmann::json& value, tokenizer_config& config, std::string* error) {
  if (value.is_null()) return true;
  if (value.is_string()) {
    config.chat_template = value.get<std::string>();
    return true;
  }
  if (value.is_array()) {
    for (const auto& entry : value) {
      if (!entry.is_object() || !entry.contains("name") || !entry.contains("template") ||
          !entry["name"].is_string() || !entry["template"].is_string()) {
        if (error != nullptr) *error = "chat_template: list entries must be {name, template}";
        return false;
      }
      config.named_chat_templates[entry["name"].get<std::string>()] =
          entry["template"].get<std::string>();
    }
    if (auto it = config.named_chat_templates.find("default");
        it != config.named_chat_templates.end()) {
      config.chat_template = it->second;
    }
    return true;
  }
  if (error != nullptr) *error = "chat_template: expected a string or a list of {name, template}";
  return false;
}

}  // namespace

std::optional<tokenizer_config> tokenizer_config::from_json_text(const std::string& json_text,
                                                                 std::string* error) {
  nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    if (error != nullptr) *error = "not a JSON object";
    return std::nullopt;
  }
  tokenizer_config c;
  if (auto it = doc.find("chat_template"); it != doc.end()) {
    if (!read_chat_template(*it, c, error)) return std::nullopt;
  }
  if (!read_token(doc, "bos_token", c.bos_token, error) ||
      !read_token(doc, "eos_token", c.eos_token, error) ||
      !read_token(doc, "pad_token", c.pad_token, error) ||
      !read_token(doc, "unk_token", c.unk_token, error) ||
      !read_bool(doc, "add_bos_token", c.add_bos_token, error) ||
      !read_bool(doc, "add_eos_token", c.add_eos_token, error)) {
    return std::nullopt;
  }
  if (auto it = doc.find("clean_up_tokenization_spaces"); it != doc.end() && it->is_boolean()) {
    c.clean_up_tokenization_spaces = it->get<bool>();
  }
  return c;
}

std::optional<tokenizer_config> tokenizer_config::load(const std::string& path, std::string* error) {
  auto text = read_file(path);
  if (!text) {
    if (error != nullptr) *error = path + ": cannot open";
    return std::nullopt;
  }
  std::string why;
  auto config = from_json_text(*text, &why);
  if (!config) {
    if (error != nullptr) *error = path + ": " + why;
    return std::nullopt;
  }
  if (config->chat_template.empty() && config->named_chat_templates.empty()) {
    auto dir = std::filesystem::path(path).parent_path();
    if (auto jinja = read_file(dir / "chat_template.jinja")) {
      config->chat_template = *jinja;
    } else if (auto json = read_file(dir / "chat_template.json")) {
      nlohmann::json doc = nlohmann::json::parse(*json, nullptr, false);
      if (doc.is_object() && doc.contains("chat_template") &&
          !read_chat_template(doc["chat_template"], *config, &why)) {
        if (error != nullptr) *error = (dir / "chat_template.json").string() + ": " + why;
        return std::nullopt;
      }
    }
  }
  return config;
}

}  // namespace troupe::engine

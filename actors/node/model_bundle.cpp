#include "actors/node/model_bundle.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace troupe::actors {

namespace fs = std::filesystem;

namespace {

bool read_text(const fs::path& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}

std::string served_name_of(const std::string& dir, const std::string& served_name) {
  if (!served_name.empty()) return served_name;
  std::string id = fs::path(dir).lexically_normal().filename().string();
  if (id.empty()) id = fs::path(dir).lexically_normal().parent_path().filename().string();
  return id;
}

// Everything but the tokenizer itself, shared by both constructions.
bool fill_bundle(model_bundle& bundle, const std::string& where, const std::string& tokenizer_config_json,
                 const std::string& generation_config_json, const std::string& chat_template_override,
                 std::string* error) {
  if (!tokenizer_config_json.empty()) {
    auto cfg = engine::tokenizer_config::from_json_text(tokenizer_config_json, error);
    if (!cfg) return false;
    bundle.tokenizer_config = std::move(*cfg);
  }
  const std::string template_source = chat_template_override.empty()
                                          ? bundle.tokenizer_config.chat_template
                                          : chat_template_override;
  if (!template_source.empty()) {
    std::string template_error;
    auto tmpl = engine::chat_template::parse(template_source, &template_error);
    if (!tmpl) {
      *error = "chat template of " + where + ": " + template_error;
      return false;
    }
    bundle.chat_template = std::move(*tmpl);
    bundle.tool_call_format = engine::detect_tool_call_format(template_source);
  }
  if (!generation_config_json.empty()) {
    auto gen = engine::parse_generation_config(generation_config_json, error);
    if (!gen) return false;
    bundle.generation = *gen;
  }
  bundle.eos_token_ids = bundle.generation.eos_token_ids;
  if (bundle.eos_token_ids.empty() && bundle.tokenizer_config.eos_token) {
    if (auto id = bundle.tokenizer.token_to_id(*bundle.tokenizer_config.eos_token))
      bundle.eos_token_ids.push_back(*id);
  }
  bundle.created_unix_s = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  return true;
}

}  // namespace

std::optional<worker_info> read_worker_model_files(const std::string& dir, const std::string& served_name,
                                                   const std::string& chat_template_override,
                                                   std::string* error) {
  worker_info info;
  info.model_id = served_name_of(dir, served_name);
  info.chat_template_override = chat_template_override;
  if (!read_text(fs::path(dir) / "tokenizer.json", &info.tokenizer_json)) {
    *error = (fs::path(dir) / "tokenizer.json").string() + ": cannot open";
    return std::nullopt;
  }
  const fs::path tok_cfg = fs::path(dir) / "tokenizer_config.json";
  if (fs::exists(tok_cfg) && !read_text(tok_cfg, &info.tokenizer_config_json)) {
    *error = tok_cfg.string() + ": cannot open";
    return std::nullopt;
  }
  const fs::path gen_cfg = fs::path(dir) / "generation_config.json";
  if (fs::exists(gen_cfg) && !read_text(gen_cfg, &info.generation_config_json)) {
    *error = gen_cfg.string() + ": cannot open";
    return std::nullopt;
  }
  return info;
}

std::shared_ptr<model_bundle> model_bundle_from_info(const worker_info& info, std::string* error) {
  auto bundle = std::make_shared<model_bundle>();
  bundle->id = info.model_id;
  bundle->max_model_len = info.max_model_len;
  auto tok = engine::tokenizer::from_json_text(info.tokenizer_json, error);
  if (!tok) return nullptr;
  bundle->tokenizer = std::move(*tok);
  const std::string where = "model '" + info.model_id + "'";
  if (!fill_bundle(*bundle, where, info.tokenizer_config_json, info.generation_config_json,
                   info.chat_template_override, error))
    return nullptr;
  return bundle;
}

std::shared_ptr<model_bundle> load_model_bundle(const std::string& dir, const std::string& served_name,
                                                const std::string& chat_template_override,
                                                std::string* error) {
  auto info = read_worker_model_files(dir, served_name, chat_template_override, error);
  if (!info) return nullptr;
  auto bundle = model_bundle_from_info(*info, error);
  if (bundle) bundle->dir = dir;
  return bundle;
}

}  // namespace troupe::actors

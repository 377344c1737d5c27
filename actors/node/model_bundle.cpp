#include "actors/node/model_bundle.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace troupe::actors {

namespace fs = std::filesystem;

std::shared_ptr<model_bundle> load_model_bundle(const std::string& dir, const std::string& served_name,
                                                const std::string& chat_template_override,
                                                std::string* error) {
  auto bundle = std::make_shared<model_bundle>();
  bundle->dir = dir;
  bundle->id = served_name.empty() ? fs::path(dir).lexically_normal().filename().string() : served_name;
  if (bundle->id.empty()) bundle->id = fs::path(dir).lexically_normal().parent_path().filename().string();
  auto tok = engine::tokenizer::load((fs::path(dir) / "tokenizer.json").string(), error);
  if (!tok) return nullptr;
  bundle->tokenizer = std::move(*tok);
  const fs::path tok_cfg = fs::path(dir) / "tokenizer_config.json";
  if (fs::exists(tok_cfg)) {
    auto cfg = engine::tokenizer_config::load(tok_cfg.string(), error);
    if (!cfg) return nullptr;
    bundle->tokenizer_config = std::move(*cfg);
  }
  std::string template_source = chat_template_override.empty()
                                    ? bundle->tokenizer_config.chat_template
                                    : chat_template_override;
  if (!template_source.empty()) {
    std::string template_error;
    auto tmpl = engine::chat_template::parse(template_source, &template_error);
    if (!tmpl) {
      *error = "chat template of " + dir + ": " + template_error;
      return nullptr;
    }
    bundle->chat_template = std::move(*tmpl);
    bundle->tool_call_format = engine::detect_tool_call_format(template_source);
  }
  auto gen = engine::load_generation_config(dir, error);
  if (!gen) return nullptr;
  bundle->generation = *gen;
  bundle->eos_token_ids = gen->eos_token_ids;
  if (bundle->eos_token_ids.empty() && bundle->tokenizer_config.eos_token) {
    if (auto id = bundle->tokenizer.token_to_id(*bundle->tokenizer_config.eos_token))
      bundle->eos_token_ids.push_back(*id);
  }
  bundle->created_unix_s = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  return bundle;
}

}  // namespace troupe::actors

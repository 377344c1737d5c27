#pragma once
// Everything the gateway side knows about the served model: tokenizer, chat
// template, generation defaults and limits. Immutable once loaded, shared by
// all request actors.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/engine/chat/chat_template.hpp"
#include "actors/engine/chat/tool_calls.hpp"
#include "actors/engine/model/generation_config.hpp"
#include "actors/engine/tokenizer/tokenizer.hpp"
#include "actors/engine/tokenizer/tokenizer_config.hpp"
#include "actors/node/worker_info.hpp"

namespace troupe::actors {

struct model_bundle {
  std::string id;  // served model name
  std::string dir;
  engine::tokenizer tokenizer;
  engine::tokenizer_config tokenizer_config;
  std::optional<engine::chat_template> chat_template;
  engine::tool_call_format tool_call_format = engine::tool_call_format::llama3_json;  // from the template text
  engine::generation_config generation;
  std::vector<int32_t> eos_token_ids;
  int32_t max_model_len = 0;
  int64_t created_unix_s = 0;
};

// Loads tokenizer.json, tokenizer_config.json (chat template, bos/eos),
// generation_config.json from dir. chat_template_override, when non-empty, is
// a template source that replaces the model's.
std::shared_ptr<model_bundle> load_model_bundle(const std::string& dir, const std::string& served_name,
                                                const std::string& chat_template_override,
                                                std::string* error);

// The texts a worker announces (tokenizer.json, tokenizer_config.json,
// generation_config.json, template override) read from its model folder; the
// engine fields of the info are left for the caller.
std::optional<worker_info> read_worker_model_files(const std::string& dir, const std::string& served_name,
                                                   const std::string& chat_template_override,
                                                   std::string* error);

// The gateway's bundle, built from what a worker announced: the same result as
// load_model_bundle on the worker's folder, without the folder.
std::shared_ptr<model_bundle> model_bundle_from_info(const worker_info& info, std::string* error);

}  // namespace troupe::actors

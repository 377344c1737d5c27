#pragma once
// The parts of a Hugging Face tokenizer_config.json the server needs: the
// chat template and the special token strings.
#include <map>
#include <optional>
#include <string>

namespace troupe::engine {

struct tokenizer_config {
  // The default chat template ("" when the model has none). When the file
  // gives a list of named templates, this is the one named "default".
  std::string chat_template;
  // Every named template when the file gives a list (name -> template).
  std::map<std::string, std::string> named_chat_templates;
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
  std::optional<std::string> pad_token;
  std::optional<std::string> unk_token;
  // Whether the slow tokenizer prepends BOS (absent in many files).
  std::optional<bool> add_bos_token;
  std::optional<bool> add_eos_token;
  bool clean_up_tokenization_spaces = false;

  // Reads tokenizer_config.json. When it has no chat_template, a
  // chat_template.jinja (or chat_template.json) beside it is used, as newer
  // checkpoints ship the template separately.
  static std::optional<tokenizer_config> load(const std::string& path, std::string* error);
  static std::optional<tokenizer_config> from_json_text(const std::string& json_text,
                                                        std::string* error);
};

}  // namespace troupe::engine

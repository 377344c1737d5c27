#pragma once
// The `post_processor` section of tokenizer.json, for single sequences: the
// special ids placed around the encoded text when add_special_tokens is
// requested. Supported: TemplateProcessing (its "single" template),
// BertProcessing, RobertaProcessing, ByteLevel (no effect on ids), Sequence,
// and null.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace troupe::engine::tokenization {

class post_processor {
 public:
  static std::optional<post_processor> from_json(const nlohmann::json& spec, std::string* error);

  // Wraps `ids` (the encoded sequence) with the special ids of every processor.
  std::vector<int32_t> apply(std::vector<int32_t> ids) const;

 private:
  // One processor: ids before and after the sequence.
  struct wrap {
    std::vector<int32_t> before;
    std::vector<int32_t> after;
  };
  std::vector<wrap> wraps_;
};

}  // namespace troupe::engine::tokenization

#pragma once
// The `normalizer` section of tokenizer.json: a chain of text rewrites applied
// to each piece of input between added tokens, before pre-tokenization.
// Supported: NFC, NFD, NFKC, NFKD, Prepend, Replace (string or regex pattern),
// Sequence, and null.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace troupe::engine::tokenization {

class normalizer {
 public:
  // `spec` is the JSON value of "normalizer" (may be null).
  static std::optional<normalizer> from_json(const nlohmann::json& spec, std::string* error);

  std::string normalize(std::string_view text) const;
  bool is_identity() const { return steps_.empty(); }

  struct step;

 private:
  std::vector<std::shared_ptr<const step>> steps_;
};

}  // namespace troupe::engine::tokenization

#pragma once
// The BPE model of tokenizer.json: a vocabulary, ranked merges, and the
// per-word merge loop of Hugging Face `tokenizers` (lowest-rank pair first,
// leftmost on ties), with byte_fallback (<0xNN> tokens), unk_token (fused or
// not), continuing_subword_prefix / end_of_word_suffix and ignore_merges.
// Results are cached per word; the cache is bounded and thread-safe.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace troupe::engine::tokenization {

struct string_hash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using token_map = std::unordered_map<std::string, int32_t, string_hash, std::equal_to<>>;

class bpe_model {
 public:
  // `spec` is the JSON value of "model"; its type must be BPE.
  static std::optional<bpe_model> from_json(const nlohmann::json& spec, std::string* error);

  // Appends the ids of one pre-tokenized word.
  void tokenize(std::string_view word, std::vector<int32_t>& out) const;

  const token_map& vocab() const { return vocab_; }
  std::optional<int32_t> token_to_id(std::string_view token) const;

  static constexpr size_t max_cached_words = 10000;
  static constexpr size_t max_cached_word_bytes = 256;

 private:
  std::vector<int32_t> merge_word(std::string_view word) const;

  struct merge {
    int32_t rank;
    int32_t new_id;
  };
  struct cache;

  token_map vocab_;
  std::unordered_map<uint64_t, merge> merges_;  // (left id << 32 | right id) -> merge
  std::optional<std::string> unk_token_;
  std::optional<std::string> continuing_subword_prefix_;
  std::optional<std::string> end_of_word_suffix_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  std::vector<int32_t> byte_token_ids_;  // [256] id of <0xNN>, -1 when missing
  std::shared_ptr<cache> cache_;
};

}  // namespace troupe::engine::tokenization

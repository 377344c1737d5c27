#pragma once
// A tokenizer read from a Hugging Face tokenizer.json, producing exactly the
// ids of the `tokenizers` library for BPE models of both families:
//   - byte-level (GPT-2, Llama 3, Qwen2/3): NFC, Split regexes + ByteLevel;
//   - SentencePiece-style (Llama 2, Mistral, TinyLlama): Prepend/Replace or
//     Metaspace, byte_fallback, unk_token.
// The pipeline is HF's: added tokens are cut out of the text first; each
// remaining piece is normalized, pre-tokenized into words, and each word is
// encoded by the BPE model; special ids are added by the post-processor only
// when asked for.
//
// Any bytes are accepted: bytes that are not valid UTF-8 are never matched by
// the pre-tokenizer regexes and reach the model as single-byte symbols
// (byte-level models map them like any byte; byte_fallback models emit <0xNN>).
//
// A tokenizer is immutable after load (its word cache is internally
// synchronized); copies share the loaded data and may be used from any thread.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::engine {

struct tokenizer_data;

class tokenizer {
 public:
  // Reads a tokenizer.json. On failure returns nullopt and, when `error` is
  // given, says which file and which component (e.g. "pre_tokenizer:
  // unsupported pre_tokenizer type 'Whitespace'").
  static std::optional<tokenizer> load(const std::string& tokenizer_json_path, std::string* error);
  // The same from the JSON text itself.
  static std::optional<tokenizer> from_json_text(std::string_view json_text, std::string* error);

  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const;

  // Concatenated text of `ids`; ids out of range are ignored, special tokens
  // are dropped when `skip_special_tokens`. Invalid UTF-8 becomes U+FFFD.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const;

  // One more than the largest id of the vocabulary or the added tokens.
  int32_t vocab_size() const;
  std::optional<int32_t> token_to_id(std::string_view token) const;
  // The token string of `id` (as stored in the vocabulary); empty when unknown.
  std::string id_to_token(int32_t id) const;
  // Whether `id` is an added token marked special (skipped when decoding
  // with skip_special_tokens).
  bool is_special(int32_t id) const;

 private:
  friend class incremental_detokenizer;
  std::shared_ptr<const tokenizer_data> data_;
};

// Streaming decoder for generated ids: push() returns the text that became
// final with that id; the concatenation of all pushes and flush() equals
// tokenizer::decode of all ids. Every returned string is valid UTF-8:
// incomplete byte sequences are held back until completed (or, at flush,
// replaced by U+FFFD as decode would).
class incremental_detokenizer {
 public:
  explicit incremental_detokenizer(const tokenizer& tok, bool skip_special_tokens = true);
  ~incremental_detokenizer();
  incremental_detokenizer(incremental_detokenizer&&) noexcept;
  incremental_detokenizer& operator=(incremental_detokenizer&&) noexcept;

  std::string push(int32_t id);
  std::string flush();

 private:
  struct state;
  std::shared_ptr<const tokenizer_data> data_;
  bool skip_special_tokens_;
  std::unique_ptr<state> state_;
};

}  // namespace troupe::engine

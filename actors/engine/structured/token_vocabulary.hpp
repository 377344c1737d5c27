#pragma once
// The byte string each token id stands for, for grammar masks: what the
// detokenizer would append for that token in the middle of a text. Special
// tokens (and ids with no token) have none and are never allowed by a
// grammar; the end-of-sequence ids are handled by the caller.
//
// Tokens are also kept in byte order with the length of the prefix each
// shares with the one before (lcp), so a mask is computed in one pass that
// walks each distinct prefix once, like a trie walk.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "actors/engine/tokenizer/tokenizer.hpp"

namespace troupe::engine::structured {

struct token_vocabulary {
  int32_t vocab_size = 0;                // ids [0, vocab_size); >= the tokenizer's (padded heads)
  std::vector<std::string> bytes;        // [vocab_size]; empty = never allowed
  std::vector<int32_t> sorted_ids;       // usable ids in byte order
  std::vector<int32_t> lcp;              // [sorted_ids.size()] shared prefix with the previous
  int32_t max_token_bytes = 0;

  int32_t mask_words() const { return (vocab_size + 31) / 32; }
};

// From explicit byte strings (tests); empty strings are unusable ids.
std::shared_ptr<const token_vocabulary> make_vocabulary(std::vector<std::string> bytes);

// From a loaded tokenizer: byte-level BPE tokens map back through GPT-2's
// byte table; SentencePiece-style tokens turn U+2581 into a space and <0xNN>
// into that byte. vocab_size may exceed the tokenizer's (the extra ids are
// unusable).
std::shared_ptr<const token_vocabulary> vocabulary_from_tokenizer(const tokenizer& tok,
                                                                  int32_t vocab_size);

}  // namespace troupe::engine::structured

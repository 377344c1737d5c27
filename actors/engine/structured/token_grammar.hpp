#pragma once
// A byte automaton lifted to tokens: which token ids may come next in each
// automaton state (a bitmask over the vocabulary, computed on first use and
// cached per state), and the state after a token. One grammar is shared by
// every request that uses the same pattern; masks are thread-safe to read.
#include <climits>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/engine/structured/byte_dfa.hpp"
#include "actors/engine/structured/token_vocabulary.hpp"

namespace troupe::engine::structured {

class token_grammar {
 public:
  token_grammar(byte_dfa dfa, std::shared_ptr<const token_vocabulary> vocab);

  // [vocab.mask_words()] bit t set = token t keeps the output a prefix of
  // some match. End-of-sequence ids are not included (see accepting()).
  const std::vector<uint32_t>& mask(int32_t state) const;
  // The same, restricted to tokens after which a match can still be
  // completed within `tokens_after` more tokens (each adds at least one byte
  // toward the nearest match, as single-byte tokens exist): so an output
  // constrained this way is a whole match by the time max_tokens runs out,
  // whenever max_tokens allows that at one byte per token. Returns
  // mask(state) when the budget does not bind or no token meets it.
  const std::vector<uint32_t>& mask_within(int32_t state, int32_t tokens_after) const;
  // Bytes on the shortest path from `state` to a match (0 when accepting).
  int32_t distance_to_match(int32_t state) const { return state < 0 ? INT32_MAX : distance_[state]; }
  // The state after token `id`, or -1 if the token is not allowed.
  int32_t advance(int32_t state, int32_t id) const;
  // The output so far is a whole match (end of sequence is allowed).
  bool accepting(int32_t state) const { return state >= 0 && dfa_.accepting[state]; }
  // A whole match that no byte can extend: generation is over.
  bool complete(int32_t state) const {
    return accepting(state) && !dfa_.has_exit[state];
  }
  const byte_dfa& dfa() const { return dfa_; }
  const token_vocabulary& vocabulary() const { return *vocab_; }

 private:
  struct state_masks {
    std::vector<uint32_t> all;
    // (distance to a match after the token, token id) of every allowed token,
    // by distance.
    std::vector<std::pair<int32_t, int32_t>> by_distance;
    std::unordered_map<int32_t, std::unique_ptr<std::vector<uint32_t>>> within;  // by budget
  };
  state_masks& masks_of(int32_t state) const;  // mu_ held

  byte_dfa dfa_;
  std::shared_ptr<const token_vocabulary> vocab_;
  std::vector<int32_t> distance_;  // [num_states] bytes to the nearest match
  mutable std::mutex mu_;
  mutable std::unordered_map<int32_t, std::unique_ptr<state_masks>> masks_;
};

// Compiled grammars by pattern (the regex text), least recently used evicted
// beyond `capacity`. Not thread-safe: the engine's thread owns it.
class grammar_cache {
 public:
  grammar_cache(std::shared_ptr<const token_vocabulary> vocab, size_t capacity = 64)
      : vocab_(std::move(vocab)), capacity_(capacity) {}
  // nullptr with *error when the pattern does not compile.
  std::shared_ptr<const token_grammar> get(const std::string& pattern, std::string* error);
  bool has_vocabulary() const { return vocab_ != nullptr; }

 private:
  std::shared_ptr<const token_vocabulary> vocab_;
  size_t capacity_;
  uint64_t clock_ = 0;
  struct entry {
    std::shared_ptr<const token_grammar> grammar;
    uint64_t used = 0;
  };
  std::unordered_map<std::string, entry> entries_;
};

}  // namespace troupe::engine::structured

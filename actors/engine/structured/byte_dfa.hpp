#pragma once
// A deterministic automaton over bytes, made from a byte_nfa by subset
// construction. State 0 is the start; -1 is the dead state (no match can
// follow). Only states from which the accepting state is still reachable are
// kept, so "not dead" means "this prefix can still be completed".
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/engine/structured/byte_regex.hpp"

namespace troupe::engine::structured {

struct byte_dfa {
  // [num_states * 256] next state or -1.
  std::vector<int32_t> next;
  std::vector<uint8_t> accepting;   // [num_states]
  std::vector<uint8_t> has_exit;    // [num_states] some byte leads to a live state

  int32_t num_states() const { return static_cast<int32_t>(accepting.size()); }
  int32_t step(int32_t state, uint8_t byte) const {
    return next[static_cast<size_t>(state) * 256 + byte];
  }
  // The state after `bytes` from `state`, or -1.
  int32_t walk(int32_t state, std::string_view bytes) const;
  bool matches(std::string_view text) const {
    const int32_t s = walk(0, text);
    return s >= 0 && accepting[s];
  }
};

// nullopt with *error when the automaton would exceed max_states.
std::optional<byte_dfa> determinize(const byte_nfa& nfa, std::string* error,
                                    int32_t max_states = 50000);

// compile_regex + determinize.
std::optional<byte_dfa> regex_to_dfa(std::string_view pattern, std::string* error);

}  // namespace troupe::engine::structured

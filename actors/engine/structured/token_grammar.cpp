#include "actors/engine/structured/token_grammar.hpp"

#include <algorithm>

namespace troupe::engine::structured {

token_grammar::token_grammar(byte_dfa dfa, std::shared_ptr<const token_vocabulary> vocab)
    : dfa_(std::move(dfa)), vocab_(std::move(vocab)) {
  // Shortest distances to acceptance: breadth-first over reversed edges.
  const int32_t n = dfa_.num_states();
  std::vector<std::vector<int32_t>> preds(n);
  for (int32_t s = 0; s < n; ++s)
    for (int b = 0; b < 256; ++b) {
      const int32_t t = dfa_.step(s, static_cast<uint8_t>(b));
      if (t >= 0 && (preds[t].empty() || preds[t].back() != s)) preds[t].push_back(s);
    }
  distance_.assign(n, INT32_MAX);
  std::vector<int32_t> queue;
  for (int32_t s = 0; s < n; ++s)
    if (dfa_.accepting[s]) {
      distance_[s] = 0;
      queue.push_back(s);
    }
  for (size_t k = 0; k < queue.size(); ++k)
    for (int32_t p : preds[queue[k]])
      if (distance_[p] == INT32_MAX) {
        distance_[p] = distance_[queue[k]] + 1;
        queue.push_back(p);
      }
}

token_grammar::state_masks& token_grammar::masks_of(int32_t state) const {
  auto it = masks_.find(state);
  if (it != masks_.end()) return *it->second;
  auto m = std::make_unique<state_masks>();
  m->all.assign(vocab_->mask_words(), 0u);
  if (state >= 0) {
    // Walk the tokens in byte order; states[d] is the automaton state after
    // the first d bytes of the current token (shared with the previous token
    // up to its lcp). A dead prefix rejects every token that shares it.
    std::vector<int32_t> states(vocab_->max_token_bytes + 1, -1);
    states[0] = state;
    int32_t known = 0;  // states[0..known] are valid for the previous token
    const auto& ids = vocab_->sorted_ids;
    for (size_t k = 0; k < ids.size(); ++k) {
      const std::string& b = vocab_->bytes[ids[k]];
      int32_t d = std::min(vocab_->lcp[k], known);
      if (states[d] < 0) {
        known = d;
        continue;
      }
      bool dead = false;
      for (size_t j = static_cast<size_t>(d); j < b.size(); ++j) {
        states[j + 1] = dfa_.step(states[j], static_cast<uint8_t>(b[j]));
        if (states[j + 1] < 0) {
          known = static_cast<int32_t>(j) + 1;
          dead = true;
          break;
        }
      }
      if (dead) continue;
      known = static_cast<int32_t>(b.size());
      m->all[ids[k] >> 5] |= 1u << (ids[k] & 31);
      m->by_distance.emplace_back(distance_[states[b.size()]], ids[k]);
    }
    std::sort(m->by_distance.begin(), m->by_distance.end());
  }
  auto& ref = *m;
  masks_.emplace(state, std::move(m));
  return ref;
}

const std::vector<uint32_t>& token_grammar::mask(int32_t state) const {
  std::lock_guard<std::mutex> lock(mu_);
  return masks_of(state).all;
}

const std::vector<uint32_t>& token_grammar::mask_within(int32_t state, int32_t tokens_after) const {
  std::lock_guard<std::mutex> lock(mu_);
  state_masks& m = masks_of(state);
  if (m.by_distance.empty() || m.by_distance.back().first <= tokens_after) return m.all;
  const int32_t budget = std::max(tokens_after, 0);
  // No token fits the budget (max_tokens too small for any match at one byte
  // per token): fall back to the plain mask, best effort.
  if (m.by_distance.front().first > budget) return m.all;
  auto it = m.within.find(budget);
  if (it != m.within.end()) return *it->second;
  if (m.within.size() > 256) m.within.clear();  // bounded: budgets only bind near the end
  auto w = std::make_unique<std::vector<uint32_t>>(vocab_->mask_words(), 0u);
  for (const auto& [dist, id] : m.by_distance) {
    if (dist > budget) break;
    (*w)[id >> 5] |= 1u << (id & 31);
  }
  auto& ref = *w;
  m.within.emplace(budget, std::move(w));
  return ref;
}

int32_t token_grammar::advance(int32_t state, int32_t id) const {
  if (state < 0 || id < 0 || id >= vocab_->vocab_size) return -1;
  const std::string& b = vocab_->bytes[id];
  if (b.empty()) return -1;
  return dfa_.walk(state, b);
}

std::shared_ptr<const token_grammar> grammar_cache::get(const std::string& pattern,
                                                        std::string* error) {
  ++clock_;
  auto it = entries_.find(pattern);
  if (it != entries_.end()) {
    it->second.used = clock_;
    return it->second.grammar;
  }
  if (!vocab_) {
    *error = "this engine has no token vocabulary for structured output";
    return nullptr;
  }
  auto dfa = regex_to_dfa(pattern, error);
  if (!dfa) return nullptr;
  auto g = std::make_shared<const token_grammar>(std::move(*dfa), vocab_);
  if (entries_.size() >= capacity_) {
    auto oldest = entries_.begin();
    for (auto e = entries_.begin(); e != entries_.end(); ++e)
      if (e->second.used < oldest->second.used) oldest = e;
    entries_.erase(oldest);
  }
  entries_.emplace(pattern, entry{g, clock_});
  return g;
}

}  // namespace troupe::engine::structured

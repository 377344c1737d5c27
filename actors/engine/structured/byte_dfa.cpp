#include "actors/engine/structured/byte_dfa.hpp"

#include <algorithm>
#include <unordered_map>

namespace troupe::engine::structured {
namespace {

struct vec_hash {
  size_t operator()(const std::vector<int32_t>& v) const {
    uint64_t h = 1469598103934665603ull;
    for (int32_t x : v) h = (h ^ static_cast<uint32_t>(x)) * 1099511628211ull;
    return static_cast<size_t>(h);
  }
};

// Adds the epsilon closure of `seeds` (sorted, unique) to `out`. Only states
// with a byte transition or the accepting state matter for identity, so the
// closure keeps just those.
void closure(const byte_nfa& nfa, std::vector<int32_t>& stack, std::vector<uint32_t>& seen,
             uint32_t stamp, std::vector<int32_t>* out) {
  out->clear();
  while (!stack.empty()) {
    const int32_t s = stack.back();
    stack.pop_back();
    if (seen[s] == stamp) continue;
    seen[s] = stamp;
    const nfa_state& st = nfa.states[s];
    if (st.next >= 0 || s == nfa.accept) out->push_back(s);
    for (int32_t t : st.epsilon)
      if (seen[t] != stamp) stack.push_back(t);
  }
  std::sort(out->begin(), out->end());
}

}  // namespace

int32_t byte_dfa::walk(int32_t state, std::string_view bytes) const {
  for (unsigned char c : bytes) {
    if (state < 0) return -1;
    state = step(state, c);
  }
  return state;
}

std::optional<byte_dfa> determinize(const byte_nfa& nfa, std::string* error, int32_t max_states) {
  std::vector<uint32_t> seen(nfa.states.size(), 0);
  uint32_t stamp = 0;
  std::vector<int32_t> stack;
  std::unordered_map<std::vector<int32_t>, int32_t, vec_hash> ids;
  std::vector<std::vector<int32_t>> sets;
  std::vector<int32_t> next;
  std::vector<uint8_t> accepting;

  std::vector<int32_t> cur;
  stack.push_back(nfa.start);
  closure(nfa, stack, seen, ++stamp, &cur);
  ids.emplace(cur, 0);
  sets.push_back(cur);

  std::vector<std::vector<int32_t>> by_byte(256);
  for (size_t d = 0; d < sets.size(); ++d) {
    const std::vector<int32_t> members = sets[d];
    accepting.push_back(std::binary_search(members.begin(), members.end(), nfa.accept) ? 1 : 0);
    for (auto& v : by_byte) v.clear();
    for (int32_t s : members) {
      const nfa_state& st = nfa.states[s];
      if (st.next < 0) continue;
      for (int b = 0; b < 256; ++b)
        if (st.bytes.test(b)) by_byte[b].push_back(st.next);
    }
    next.resize((d + 1) * 256, -1);
    // Bytes with the same seeds share one closure (a state has few distinct
    // seed sets: usually one per class of bytes).
    std::vector<std::pair<const std::vector<int32_t>*, int32_t>> groups;
    for (int b = 0; b < 256; ++b) {
      if (by_byte[b].empty()) continue;
      int32_t target = -1;
      for (const auto& [seeds, t] : groups)
        if (*seeds == by_byte[b]) {
          target = t;
          break;
        }
      if (target < 0) {
        stack = by_byte[b];
        closure(nfa, stack, seen, ++stamp, &cur);
        auto it = ids.find(cur);
        if (it == ids.end()) {
          if (static_cast<int32_t>(sets.size()) >= max_states) {
            *error = "the grammar is too large (more than " + std::to_string(max_states) +
                     " automaton states)";
            return std::nullopt;
          }
          it = ids.emplace(cur, static_cast<int32_t>(sets.size())).first;
          sets.push_back(cur);
        }
        target = it->second;
        groups.emplace_back(&by_byte[b], target);
      }
      next[d * 256 + b] = target;
    }
  }

  // Prune states that cannot reach acceptance (reverse reachability).
  const int32_t n = static_cast<int32_t>(sets.size());
  std::vector<std::vector<int32_t>> preds(n);
  for (int32_t d = 0; d < n; ++d)
    for (int b = 0; b < 256; ++b) {
      const int32_t t = next[static_cast<size_t>(d) * 256 + b];
      if (t >= 0 && (preds[t].empty() || preds[t].back() != d)) preds[t].push_back(d);
    }
  std::vector<uint8_t> live(n, 0);
  std::vector<int32_t> work;
  for (int32_t d = 0; d < n; ++d)
    if (accepting[d]) {
      live[d] = 1;
      work.push_back(d);
    }
  while (!work.empty()) {
    const int32_t t = work.back();
    work.pop_back();
    for (int32_t p : preds[t])
      if (!live[p]) {
        live[p] = 1;
        work.push_back(p);
      }
  }
  if (!live[0]) {
    *error = "the pattern matches nothing";
    return std::nullopt;
  }
  // Renumber live states, start first.
  std::vector<int32_t> renum(n, -1);
  int32_t m = 0;
  for (int32_t d = 0; d < n; ++d)
    if (live[d]) renum[d] = m++;
  byte_dfa out;
  out.next.assign(static_cast<size_t>(m) * 256, -1);
  out.accepting.assign(m, 0);
  out.has_exit.assign(m, 0);
  for (int32_t d = 0; d < n; ++d) {
    if (!live[d]) continue;
    const int32_t r = renum[d];
    out.accepting[r] = accepting[d];
    for (int b = 0; b < 256; ++b) {
      const int32_t t = next[static_cast<size_t>(d) * 256 + b];
      const int32_t rt = t >= 0 ? renum[t] : -1;
      out.next[static_cast<size_t>(r) * 256 + b] = rt;
      if (rt >= 0) out.has_exit[r] = 1;
    }
  }
  return out;
}

std::optional<byte_dfa> regex_to_dfa(std::string_view pattern, std::string* error) {
  auto nfa = compile_regex(pattern, error);
  if (!nfa) return std::nullopt;
  return determinize(*nfa, error);
}

}  // namespace troupe::engine::structured

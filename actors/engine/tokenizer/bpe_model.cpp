#include "actors/engine/tokenizer/bpe_model.hpp"

#include <cstdio>
#include <mutex>
#include <queue>

#include <nlohmann/json.hpp>

#include "actors/engine/tokenizer/utf8.hpp"

namespace troupe::engine::tokenization {

struct bpe_model::cache {
  std::mutex mutex;
  std::unordered_map<std::string, std::vector<int32_t>, string_hash, std::equal_to<>> words;
};

namespace {

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

bool split_merge(const nlohmann::json& m, std::string& left, std::string& right) {
  if (m.is_string()) {
    // "a b": HF requires exactly one separating space.
    const auto& s = m.get_ref<const std::string&>();
    size_t space = s.find(' ');
    if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) return false;
    left = s.substr(0, space);
    right = s.substr(space + 1);
    return true;
  }
  if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
    left = m[0].get<std::string>();
    right = m[1].get<std::string>();
    return true;
  }
  return false;
}

std::optional<std::string> optional_string(const nlohmann::json& spec, const char* key) {
  auto it = spec.find(key);
  if (it == spec.end() || it->is_null()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

std::optional<bpe_model> bpe_model::from_json(const nlohmann::json& spec, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<bpe_model> {
    if (error != nullptr) *error = "model: " + why;
    return std::nullopt;
  };
  try {
    std::string type = spec.value("type", std::string("BPE"));
    if (type != "BPE") return fail("unsupported model type '" + type + "' (only BPE)");
    if (spec.contains("dropout") && !spec["dropout"].is_null() && spec["dropout"].get<double>() > 0) {
      return fail("BPE dropout is not supported (encoding would not be deterministic)");
    }
    bpe_model m;
    const auto& vocab = spec.at("vocab");
    m.vocab_.reserve(vocab.size());
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
      m.vocab_.emplace(it.key(), it.value().get<int32_t>());
    }
    m.unk_token_ = optional_string(spec, "unk_token");
    m.continuing_subword_prefix_ = optional_string(spec, "continuing_subword_prefix");
    m.end_of_word_suffix_ = optional_string(spec, "end_of_word_suffix");
    m.fuse_unk_ = spec.value("fuse_unk", false);
    m.byte_fallback_ = spec.value("byte_fallback", false);
    m.ignore_merges_ = spec.value("ignore_merges", false);

    const auto& merges = spec.at("merges");
    m.merges_.reserve(merges.size());
    size_t prefix_length = m.continuing_subword_prefix_ ? m.continuing_subword_prefix_->size() : 0;
    std::string left, right;
    for (size_t rank = 0; rank < merges.size(); ++rank) {
      if (!split_merge(merges[rank], left, right)) {
        return fail("merge " + std::to_string(rank) + " is not \"a b\" or [a, b]: " + merges[rank].dump());
      }
      auto l = m.vocab_.find(left);
      auto r = m.vocab_.find(right);
      if (l == m.vocab_.end() || r == m.vocab_.end()) {
        return fail("merge " + std::to_string(rank) + " uses a token missing from the vocab");
      }
      // The merged token drops the right part's continuing-subword prefix.
      std::string merged = left;
      if (prefix_length > 0 && right.compare(0, prefix_length, *m.continuing_subword_prefix_) == 0) {
        merged += right.substr(prefix_length);
      } else {
        merged += right;
      }
      auto n = m.vocab_.find(merged);
      if (n == m.vocab_.end()) {
        return fail("merge " + std::to_string(rank) + " yields a token missing from the vocab");
      }
      // Later duplicates win, as when HF collects the merges into a map.
      m.merges_[pair_key(l->second, r->second)] = {static_cast<int32_t>(rank), n->second};
    }
    m.byte_token_ids_.assign(256, -1);
    char name[8];
    for (int b = 0; b < 256; ++b) {
      std::snprintf(name, sizeof(name), "<0x%02X>", b);
      if (auto it = m.vocab_.find(std::string_view(name)); it != m.vocab_.end()) {
        m.byte_token_ids_[b] = it->second;
      }
    }
    if (m.unk_token_ && !m.vocab_.count(*m.unk_token_)) {
      return fail("unk_token '" + *m.unk_token_ + "' is not in the vocab");
    }
    m.cache_ = std::make_shared<cache>();
    return m;
  } catch (const nlohmann::json::exception& e) {
    return fail(std::string("malformed: ") + e.what());
  }
}

std::optional<int32_t> bpe_model::token_to_id(std::string_view token) const {
  auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

void bpe_model::tokenize(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    // A word that is itself a token is emitted as is (Llama 3 relies on this).
    if (auto it = vocab_.find(word); it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  bool cacheable = word.size() <= max_cached_word_bytes;
  if (cacheable) {
    std::lock_guard lock(cache_->mutex);
    if (auto it = cache_->words.find(word); it != cache_->words.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> ids = merge_word(word);
  out.insert(out.end(), ids.begin(), ids.end());
  if (cacheable) {
    std::lock_guard lock(cache_->mutex);
    if (cache_->words.size() >= max_cached_words) cache_->words.clear();
    cache_->words.emplace(std::string(word), std::move(ids));
  }
}

std::vector<int32_t> bpe_model::merge_word(std::string_view w) const {
  // Symbols form a doubly linked list over the initial characters; a merged
  // symbol keeps its left position and the right one is marked dead.
  struct symbol {
    int32_t id;
    int32_t prev;
    int32_t next;
    bool alive;
  };
  std::vector<symbol> symbols;
  symbols.reserve(w.size());
  auto add = [&](int32_t id) {
    int32_t index = static_cast<int32_t>(symbols.size());
    if (index > 0) symbols.back().next = index;
    symbols.push_back({id, index - 1, -1, true});
  };

  int32_t pending_unk = -1;  // id of an unk not yet added (it may still fuse)
  for (size_t i = 0; i < w.size();) {
    size_t length = char_length(w, i);
    bool first = i == 0;
    bool last = i + length == w.size();
    std::string piece;
    piece.reserve(length + 16);
    if (!first && continuing_subword_prefix_) piece.append(*continuing_subword_prefix_);
    piece.append(w.data() + i, length);
    if (last && end_of_word_suffix_) piece.append(*end_of_word_suffix_);
    i += length;

    if (auto it = vocab_.find(piece); it != vocab_.end()) {
      if (pending_unk >= 0) {
        add(pending_unk);
        pending_unk = -1;
      }
      add(it->second);
      continue;
    }
    if (byte_fallback_) {
      bool all_bytes = true;
      for (char c : piece) all_bytes = all_bytes && byte_token_ids_[static_cast<uint8_t>(c)] >= 0;
      if (all_bytes) {
        // As in HF, a pending unk is not flushed before byte tokens.
        for (char c : piece) add(byte_token_ids_[static_cast<uint8_t>(c)]);
        continue;
      }
    }
    if (unk_token_) {
      int32_t unk_id = vocab_.find(*unk_token_)->second;
      if (pending_unk >= 0 && !fuse_unk_) add(pending_unk);
      pending_unk = unk_id;
    }
  }
  if (pending_unk >= 0) add(pending_unk);

  struct candidate {
    int32_t rank;
    int32_t pos;
    int32_t new_id;
    bool operator<(const candidate& o) const {  // max-heap: lowest rank, then leftmost
      if (rank != o.rank) return rank > o.rank;
      return pos > o.pos;
    }
  };
  std::priority_queue<candidate> queue;
  auto push_pair = [&](int32_t pos) {
    int32_t next = symbols[pos].next;
    if (next < 0) return;
    auto it = merges_.find(pair_key(symbols[pos].id, symbols[next].id));
    if (it != merges_.end()) queue.push({it->second.rank, pos, it->second.new_id});
  };
  for (int32_t pos = 0; pos + 1 < static_cast<int32_t>(symbols.size()); ++pos) push_pair(pos);

  while (!queue.empty()) {
    candidate top = queue.top();
    queue.pop();
    symbol& left = symbols[top.pos];
    if (!left.alive || left.next < 0) continue;
    symbol& right = symbols[left.next];
    // Skip stale entries: the pair at this position changed since it was queued.
    auto it = merges_.find(pair_key(left.id, right.id));
    if (it == merges_.end() || it->second.new_id != top.new_id) continue;
    left.id = top.new_id;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.pos;
    if (left.prev >= 0) push_pair(left.prev);
    push_pair(top.pos);
  }

  std::vector<int32_t> ids;
  for (const auto& s : symbols) {
    if (s.alive) ids.push_back(s.id);
  }
  return ids;
}

}  // namespace troupe::engine::tokenization

#include "actors/engine/structured/token_vocabulary.hpp"

#include <algorithm>

#include "actors/engine/tokenizer/byte_level.hpp"

namespace troupe::engine::structured {
namespace {

// Decodes one UTF-8 code point at s[i], advancing i; -1 on malformed input.
int64_t next_code_point(const std::string& s, size_t& i) {
  const unsigned char c = static_cast<unsigned char>(s[i++]);
  if (c < 0x80) return c;
  int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : -1;
  if (extra < 0) return -1;
  int64_t cp = c & (0x3F >> extra);
  for (int k = 0; k < extra; ++k) {
    if (i >= s.size()) return -1;
    cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
  }
  return cp;
}

std::string byte_level_bytes(const std::string& token) {
  std::string out;
  for (size_t i = 0; i < token.size();) {
    const int64_t cp = next_code_point(token, i);
    const int b = cp < 0 ? -1 : tokenization::char_to_byte(static_cast<char32_t>(cp));
    if (b < 0) return {};
    out += static_cast<char>(b);
  }
  return out;
}

std::string sentencepiece_bytes(const std::string& token) {
  if (token.size() == 6 && token.rfind("<0x", 0) == 0 && token[5] == '>') {
    return std::string(1, static_cast<char>(std::stoi(token.substr(3, 2), nullptr, 16)));
  }
  std::string out;
  static const std::string space_mark = "\xE2\x96\x81";  // U+2581
  for (size_t i = 0; i < token.size();) {
    if (token.compare(i, space_mark.size(), space_mark) == 0) {
      out += ' ';
      i += space_mark.size();
    } else {
      out += token[i++];
    }
  }
  return out;
}

}  // namespace

std::shared_ptr<const token_vocabulary> make_vocabulary(std::vector<std::string> bytes) {
  auto v = std::make_shared<token_vocabulary>();
  v->vocab_size = static_cast<int32_t>(bytes.size());
  v->bytes = std::move(bytes);
  for (int32_t id = 0; id < v->vocab_size; ++id)
    if (!v->bytes[id].empty()) v->sorted_ids.push_back(id);
  std::sort(v->sorted_ids.begin(), v->sorted_ids.end(),
            [&](int32_t a, int32_t b) { return v->bytes[a] < v->bytes[b]; });
  v->lcp.assign(v->sorted_ids.size(), 0);
  for (size_t k = 0; k < v->sorted_ids.size(); ++k) {
    const std::string& cur = v->bytes[v->sorted_ids[k]];
    v->max_token_bytes = std::max<int32_t>(v->max_token_bytes, static_cast<int32_t>(cur.size()));
    if (k == 0) continue;
    const std::string& prev = v->bytes[v->sorted_ids[k - 1]];
    size_t l = 0;
    while (l < cur.size() && l < prev.size() && cur[l] == prev[l]) ++l;
    v->lcp[k] = static_cast<int32_t>(l);
  }
  return v;
}

std::shared_ptr<const token_vocabulary> vocabulary_from_tokenizer(const tokenizer& tok,
                                                                  int32_t vocab_size) {
  const int32_t n = std::max(vocab_size, tok.vocab_size());
  std::vector<std::string> tokens(n);
  int32_t num_space_marks = 0, num_tokens = 0;
  for (int32_t id = 0; id < tok.vocab_size(); ++id) {
    if (tok.is_special(id)) continue;
    tokens[id] = tok.id_to_token(id);
    if (tokens[id].empty()) continue;
    ++num_tokens;
    if (tokens[id].find("\xE2\x96\x81") != std::string::npos) ++num_space_marks;
  }
  // SentencePiece vocabularies mark word starts with U+2581 in a large share
  // of their tokens; byte-level ones never contain it.
  const bool sentencepiece = num_space_marks * 20 > num_tokens;
  for (auto& t : tokens)
    if (!t.empty()) t = sentencepiece ? sentencepiece_bytes(t) : byte_level_bytes(t);
  tokens.resize(vocab_size > 0 ? vocab_size : n);
  return make_vocabulary(std::move(tokens));
}

}  // namespace troupe::engine::structured

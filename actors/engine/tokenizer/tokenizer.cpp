#include "actors/engine/tokenizer/tokenizer.hpp"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "actors/engine/tokenizer/tokenizer_data.hpp"

namespace troupe::engine {

using tokenization::text_piece;
using tokenization::word;

std::optional<tokenizer> tokenizer::load(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (error != nullptr) *error = path + ": cannot open";
    return std::nullopt;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string why;
  auto t = from_json_text(buffer.str(), &why);
  if (!t && error != nullptr) *error = path + ": " + why;
  return t;
}

std::optional<tokenizer> tokenizer::from_json_text(std::string_view json_text, std::string* error) {
  auto data = tokenizer_data::from_json_text(json_text, error);
  if (!data) return std::nullopt;
  tokenizer t;
  t.data_ = std::move(data);
  return t;
}

std::vector<int32_t> tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  const tokenizer_data& d = *data_;
  std::vector<int32_t> ids;
  std::vector<word> words;
  auto encode_normalized = [&](std::string_view normalized, bool at_input_start) {
    for (const text_piece& p : d.normalized_added.split(normalized)) {
      if (p.token_id) {
        ids.push_back(*p.token_id);
        continue;
      }
      words.clear();
      d.pre.split(normalized.substr(p.begin, p.end - p.begin), at_input_start && p.begin == 0,
                  words);
      for (const auto& w : words) d.model.tokenize(w.text, ids);
    }
  };
  for (const text_piece& p : d.raw_added.split(text)) {
    if (p.token_id) {
      ids.push_back(*p.token_id);
      continue;
    }
    std::string normalized = d.norm.normalize(text.substr(p.begin, p.end - p.begin));
    encode_normalized(normalized, p.begin == 0);
  }
  if (add_special_tokens) ids = d.post.apply(std::move(ids));
  return ids;
}

std::string tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  incremental_detokenizer stream(*this, skip_special_tokens);
  std::string text;
  for (int32_t id : ids) text += stream.push(id);
  text += stream.flush();
  return text;
}

int32_t tokenizer::vocab_size() const { return static_cast<int32_t>(data_->id_to_token.size()); }

std::optional<int32_t> tokenizer::token_to_id(std::string_view token) const {
  if (auto it = data_->added_ids.find(token); it != data_->added_ids.end()) return it->second;
  return data_->model.token_to_id(token);
}

std::string tokenizer::id_to_token(int32_t id) const {
  if (id < 0 || id >= vocab_size()) return {};
  return data_->id_to_token[id];
}

bool tokenizer::is_special(int32_t id) const {
  return id >= 0 && id < vocab_size() && data_->special[id];
}

struct incremental_detokenizer::state {
  tokenization::decode_stream stream;
};

incremental_detokenizer::incremental_detokenizer(const tokenizer& tok, bool skip_special_tokens)
    : data_(tok.data_),
      skip_special_tokens_(skip_special_tokens),
      state_(std::make_unique<state>(state{data_->dec.start()})) {}

incremental_detokenizer::~incremental_detokenizer() = default;
incremental_detokenizer::incremental_detokenizer(incremental_detokenizer&&) noexcept = default;
incremental_detokenizer& incremental_detokenizer::operator=(incremental_detokenizer&&) noexcept =
    default;

std::string incremental_detokenizer::push(int32_t id) {
  const tokenizer_data& d = *data_;
  if (id < 0 || id >= static_cast<int32_t>(d.id_to_token.size()) || !d.known[id]) return {};
  if (skip_special_tokens_ && d.special[id]) return {};
  return state_->stream.push(d.id_to_token[id]);
}

std::string incremental_detokenizer::flush() { return state_->stream.finish(); }

}  // namespace troupe::engine

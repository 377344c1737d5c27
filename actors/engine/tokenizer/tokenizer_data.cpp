#include "actors/engine/tokenizer/tokenizer_data.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace troupe::engine {
namespace {

template <class T>
bool take(std::optional<T> parsed, T& into) {
  if (!parsed) return false;
  into = std::move(*parsed);
  return true;
}

const nlohmann::json& field(const nlohmann::json& doc, const char* key) {
  static const nlohmann::json null_value;
  auto it = doc.find(key);
  return it == doc.end() ? null_value : *it;
}

}  // namespace

std::shared_ptr<const tokenizer_data> tokenizer_data::from_json_text(std::string_view json_text,
                                                                     std::string* error) {
  nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    if (error != nullptr) *error = "not a JSON object";
    return nullptr;
  }
  auto d = std::make_shared<tokenizer_data>();
  if (!doc.contains("model")) {
    if (error != nullptr) *error = "model: missing";
    return nullptr;
  }
  if (!take(tokenization::normalizer::from_json(field(doc, "normalizer"), error), d->norm) ||
      !take(tokenization::pre_tokenizer::from_json(field(doc, "pre_tokenizer"), error), d->pre) ||
      !take(tokenization::bpe_model::from_json(doc["model"], error), d->model) ||
      !take(tokenization::post_processor::from_json(field(doc, "post_processor"), error), d->post) ||
      !take(tokenization::decoder::from_json(field(doc, "decoder"), error), d->dec)) {
    return nullptr;
  }

  std::vector<tokenization::added_token> added;
  try {
    for (const auto& a : field(doc, "added_tokens")) {
      tokenization::added_token t;
      t.content = a.at("content").get<std::string>();
      t.id = a.at("id").get<int32_t>();
      t.special = a.value("special", false);
      t.single_word = a.value("single_word", false);
      t.lstrip = a.value("lstrip", false);
      t.rstrip = a.value("rstrip", false);
      t.normalized = a.value("normalized", !t.special);
      if (t.content.empty()) continue;
      // A token already in the model vocabulary keeps the model's id (HF).
      if (auto model_id = d->model.token_to_id(t.content)) t.id = *model_id;
      if (t.id < 0) {
        if (error != nullptr) *error = "added_tokens: negative id for '" + t.content + "'";
        return nullptr;
      }
      added.push_back(std::move(t));
    }
  } catch (const nlohmann::json::exception& e) {
    if (error != nullptr) *error = std::string("added_tokens: malformed: ") + e.what();
    return nullptr;
  }

  int32_t size = 0;
  for (const auto& [token, id] : d->model.vocab()) size = std::max(size, id + 1);
  for (const auto& t : added) size = std::max(size, t.id + 1);
  d->id_to_token.assign(size, std::string());
  d->known.assign(size, false);
  d->special.assign(size, false);
  for (const auto& [token, id] : d->model.vocab()) {
    if (id < 0) continue;
    d->id_to_token[id] = token;
    d->known[id] = true;
  }

  // HF matches special tokens before the other added tokens when both could
  // match at the same place; patterns are listed in that order.
  std::vector<std::string> raw_patterns, normalized_patterns;
  std::vector<tokenization::added_token> raw_tokens, normalized_tokens;
  for (bool specials : {true, false}) {
    for (const auto& t : added) {
      if (t.special != specials) continue;
      if (t.normalized) {
        normalized_patterns.push_back(d->norm.normalize(t.content));
        normalized_tokens.push_back(t);
      } else {
        raw_patterns.push_back(t.content);
        raw_tokens.push_back(t);
      }
    }
  }
  for (const auto& t : added) {
    d->id_to_token[t.id] = t.content;
    d->known[t.id] = true;
    d->special[t.id] = t.special;
    d->added_ids[t.content] = t.id;
  }
  d->raw_added = tokenization::added_token_matcher(std::move(raw_patterns), std::move(raw_tokens));
  d->normalized_added =
      tokenization::added_token_matcher(std::move(normalized_patterns), std::move(normalized_tokens));
  return d;
}

}  // namespace troupe::engine

#include "actors/engine/tokenizer/post_processor.hpp"

#include <nlohmann/json.hpp>

namespace troupe::engine::tokenization {
namespace {

template <class Wrap>
bool add_wraps(const nlohmann::json& spec, std::vector<Wrap>& wraps, std::string* error) {
  auto fail = [&](const std::string& why) {
    if (error != nullptr) *error = "post_processor: " + why;
    return false;
  };
  if (spec.is_null()) return true;
  if (!spec.is_object() || !spec.contains("type")) return fail("expected an object with a type");
  std::string type = spec["type"].get<std::string>();
  if (type == "Sequence") {
    for (const auto& child : spec.at("processors")) {
      if (!add_wraps(child, wraps, error)) return false;
    }
    return true;
  }
  if (type == "ByteLevel") return true;  // adjusts offsets only
  Wrap w;
  if (type == "TemplateProcessing") {
    const auto& specials = spec.at("special_tokens");
    bool seen_sequence = false;
    for (const auto& piece : spec.at("single")) {
      if (piece.contains("Sequence")) {
        if (piece["Sequence"].at("id").get<std::string>() != "A") {
          return fail("TemplateProcessing: single template refers to sequence B");
        }
        seen_sequence = true;
      } else if (piece.contains("SpecialToken")) {
        std::string name = piece["SpecialToken"].at("id").get<std::string>();
        if (!specials.contains(name)) return fail("TemplateProcessing: unknown special token " + name);
        auto& side = seen_sequence ? w.after : w.before;
        for (const auto& id : specials[name].at("ids")) side.push_back(id.get<int32_t>());
      } else {
        return fail("TemplateProcessing: unknown template piece " + piece.dump());
      }
    }
  } else if (type == "BertProcessing" || type == "RobertaProcessing") {
    w.before.push_back(spec.at("cls").at(1).get<int32_t>());
    w.after.push_back(spec.at("sep").at(1).get<int32_t>());
  } else {
    return fail("unsupported post_processor type '" + type + "'");
  }
  wraps.push_back(std::move(w));
  return true;
}

}  // namespace

std::optional<post_processor> post_processor::from_json(const nlohmann::json& spec, std::string* error) {
  post_processor p;
  try {
    if (!add_wraps(spec, p.wraps_, error)) return std::nullopt;
  } catch (const nlohmann::json::exception& e) {
    if (error != nullptr) *error = std::string("post_processor: malformed: ") + e.what();
    return std::nullopt;
  }
  return p;
}

std::vector<int32_t> post_processor::apply(std::vector<int32_t> ids) const {
  for (const auto& w : wraps_) {
    if (w.before.empty() && w.after.empty()) continue;
    std::vector<int32_t> wrapped = w.before;
    wrapped.insert(wrapped.end(), ids.begin(), ids.end());
    wrapped.insert(wrapped.end(), w.after.begin(), w.after.end());
    ids = std::move(wrapped);
  }
  return ids;
}

}  // namespace troupe::engine::tokenization

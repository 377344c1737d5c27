#include "actors/engine/tokenizer/normalizer.hpp"

#include <cstdlib>

#include <nlohmann/json.hpp>
#include <utf8proc.h>

#include "actors/engine/tokenizer/regex.hpp"
#include "actors/engine/tokenizer/utf8.hpp"

namespace troupe::engine::tokenization {

struct normalizer::step {
  virtual ~step() = default;
  virtual std::string apply(std::string_view text) const = 0;
};

namespace {

// Unicode normalization of each maximal run of valid UTF-8; bytes that are
// not valid UTF-8 pass through unchanged (HF never sees them: its input is a
// Rust String).
struct unicode_form final : normalizer::step {
  int options;
  explicit unicode_form(int o) : options(o) {}

  std::string apply(std::string_view text) const override {
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
      size_t run_end = i;
      while (run_end < text.size()) {
        size_t n = valid_sequence_length(text, run_end);
        if (n == 0) break;
        run_end += n;
      }
      if (run_end > i) append_normalized(text.substr(i, run_end - i), out);
      if (run_end < text.size()) out += text[run_end++];
      i = run_end;
    }
    return out;
  }

  void append_normalized(std::string_view run, std::string& out) const {
    bool ascii = true;
    for (char c : run) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
    if (ascii) {  // ASCII is invariant under every normalization form
      out.append(run);
      return;
    }
    utf8proc_uint8_t* result = nullptr;
    utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(run.data()),
                                      static_cast<utf8proc_ssize_t>(run.size()), &result,
                                      static_cast<utf8proc_option_t>(options));
    if (n < 0) {
      out.append(run);
    } else {
      out.append(reinterpret_cast<const char*>(result), static_cast<size_t>(n));
    }
    std::free(result);
  }
};

struct prepend final : normalizer::step {
  std::string prefix;
  std::string apply(std::string_view text) const override {
    if (text.empty()) return {};  // HF prepends only to non-empty strings
    std::string out = prefix;
    out.append(text);
    return out;
  }
};

struct replace_string final : normalizer::step {
  std::string pattern, content;
  std::string apply(std::string_view text) const override {
    if (pattern.empty()) return std::string(text);
    std::string out;
    size_t i = 0;
    while (true) {
      size_t hit = text.find(pattern, i);
      if (hit == std::string_view::npos) break;
      out.append(text.substr(i, hit - i));
      out += content;
      i = hit + pattern.size();
    }
    out.append(text.substr(i));
    return out;
  }
};

struct replace_regex final : normalizer::step {
  regex pattern;
  std::string content;
  replace_regex(regex r, std::string c) : pattern(std::move(r)), content(std::move(c)) {}
  std::string apply(std::string_view text) const override {
    std::string out;
    size_t i = 0;
    for (const auto& m : pattern.find_all(text)) {
      out.append(text.substr(i, m.begin - i));
      out += content;
      i = m.end;
    }
    out.append(text.substr(i));
    return out;
  }
};

bool add_steps(const nlohmann::json& spec, std::vector<std::shared_ptr<const normalizer::step>>& steps,
               std::string* error) {
  if (spec.is_null()) return true;
  auto fail = [&](const std::string& why) {
    if (error != nullptr) *error = "normalizer: " + why;
    return false;
  };
  if (!spec.is_object() || !spec.contains("type")) return fail("expected an object with a type");
  std::string type = spec["type"].get<std::string>();
  if (type == "Sequence") {
    for (const auto& child : spec.at("normalizers")) {
      if (!add_steps(child, steps, error)) return false;
    }
    return true;
  }
  if (type == "NFC") {
    steps.push_back(std::make_shared<unicode_form>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  } else if (type == "NFD") {
    steps.push_back(std::make_shared<unicode_form>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE));
  } else if (type == "NFKC") {
    steps.push_back(
        std::make_shared<unicode_form>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT));
  } else if (type == "NFKD") {
    steps.push_back(
        std::make_shared<unicode_form>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT));
  } else if (type == "Prepend") {
    auto p = std::make_shared<prepend>();
    p->prefix = spec.at("prepend").get<std::string>();
    steps.push_back(p);
  } else if (type == "Replace") {
    const auto& pattern = spec.at("pattern");
    std::string content = spec.at("content").get<std::string>();
    if (pattern.contains("String")) {
      auto r = std::make_shared<replace_string>();
      r->pattern = pattern["String"].get<std::string>();
      r->content = std::move(content);
      steps.push_back(r);
    } else if (pattern.contains("Regex")) {
      std::string regex_error;
      auto compiled = regex::compile(pattern["Regex"].get<std::string>(), &regex_error);
      if (!compiled) return fail("Replace: " + regex_error);
      steps.push_back(std::make_shared<replace_regex>(std::move(*compiled), std::move(content)));
    } else {
      return fail("Replace: pattern must be String or Regex");
    }
  } else {
    return fail("unsupported normalizer type '" + type + "'");
  }
  return true;
}

}  // namespace

std::optional<normalizer> normalizer::from_json(const nlohmann::json& spec, std::string* error) {
  normalizer n;
  try {
    if (!add_steps(spec, n.steps_, error)) return std::nullopt;
  } catch (const nlohmann::json::exception& e) {
    if (error != nullptr) *error = std::string("normalizer: malformed: ") + e.what();
    return std::nullopt;
  }
  return n;
}

std::string normalizer::normalize(std::string_view text) const {
  std::string current(text);
  for (const auto& s : steps_) current = s->apply(current);
  return current;
}

}  // namespace troupe::engine::tokenization

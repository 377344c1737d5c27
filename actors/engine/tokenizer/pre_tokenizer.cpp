#include "actors/engine/tokenizer/pre_tokenizer.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "actors/engine/tokenizer/byte_level.hpp"
#include "actors/engine/tokenizer/regex.hpp"
#include "actors/engine/tokenizer/utf8.hpp"

namespace troupe::engine::tokenization {

struct pre_tokenizer::step {
  virtual ~step() = default;
  // Rewrites/splits one word into zero or more words appended to `out`.
  virtual void apply(word w, std::vector<word>& out) const = 0;
};

namespace {

// HF's SplitDelimiterBehavior.
enum class delimiter_behavior { removed, isolated, merged_with_previous, merged_with_next, contiguous };

struct span {
  size_t begin, end;
  bool is_match;
};

// Cuts `w` along `matches` (which cover the whole text, in order) following
// HF NormalizedString::split.
void split_by(const word& w, std::vector<span> matches, delimiter_behavior behavior,
              std::vector<word>& out) {
  std::vector<span> pieces;
  switch (behavior) {
    case delimiter_behavior::removed:
      for (const auto& m : matches) {
        if (!m.is_match) pieces.push_back(m);
      }
      break;
    case delimiter_behavior::isolated:
      pieces = matches;
      break;
    case delimiter_behavior::merged_with_previous: {
      bool previous_match = false;
      for (const auto& m : matches) {
        if (m.is_match && !previous_match && !pieces.empty()) {
          pieces.back().end = m.end;
        } else {
          pieces.push_back(m);
        }
        previous_match = m.is_match;
      }
      break;
    }
    case delimiter_behavior::merged_with_next: {
      bool previous_match = false;
      for (auto it = matches.rbegin(); it != matches.rend(); ++it) {
        if (it->is_match && !previous_match && !pieces.empty()) {
          pieces.back().begin = it->begin;
        } else {
          pieces.push_back(*it);
        }
        previous_match = it->is_match;
      }
      std::reverse(pieces.begin(), pieces.end());
      break;
    }
    case delimiter_behavior::contiguous: {
      bool previous_match = false;
      for (const auto& m : matches) {
        if (m.is_match == previous_match && !pieces.empty()) {
          pieces.back().end = m.end;
        } else {
          pieces.push_back(m);
        }
        previous_match = m.is_match;
      }
      break;
    }
  }
  for (const auto& p : pieces) {
    if (p.end <= p.begin) continue;
    out.push_back({w.text.substr(p.begin, p.end - p.begin), w.at_input_start && p.begin == 0});
  }
}

// Turns match ranges into spans covering the whole text (HF Pattern::find_matches).
std::vector<span> cover(size_t length, const std::vector<byte_range>& found, bool invert) {
  std::vector<span> spans;
  if (length == 0) return {{0, 0, false}};
  size_t previous = 0;
  for (const auto& m : found) {
    if (previous != m.begin) spans.push_back({previous, m.begin, invert});
    spans.push_back({m.begin, m.end, !invert});
    previous = m.end;
  }
  if (previous != length) spans.push_back({previous, length, invert});
  return spans;
}

struct split_step final : pre_tokenizer::step {
  regex pattern;
  delimiter_behavior behavior;
  bool invert;
  split_step(regex p, delimiter_behavior b, bool i) : pattern(std::move(p)), behavior(b), invert(i) {}
  void apply(word w, std::vector<word>& out) const override {
    auto spans = cover(w.text.size(), pattern.find_all(w.text), invert);
    split_by(w, std::move(spans), behavior, out);
  }
};

// GPT-2's pre-tokenization pattern, used by ByteLevel when use_regex is set.
constexpr std::string_view gpt2_pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

struct byte_level_step final : pre_tokenizer::step {
  bool add_prefix_space;
  std::optional<regex> pattern;  // set when use_regex
  void apply(word w, std::vector<word>& out) const override {
    if (add_prefix_space && (w.text.empty() || w.text[0] != ' ')) w.text.insert(0, " ");
    std::vector<word> pieces;
    if (pattern) {
      split_by(w, cover(w.text.size(), pattern->find_all(w.text), false),
               delimiter_behavior::isolated, pieces);
    } else if (!w.text.empty()) {
      pieces.push_back(std::move(w));
    }
    for (auto& p : pieces) {
      std::string mapped;
      append_byte_level(p.text, mapped);
      out.push_back({std::move(mapped), p.at_input_start});
    }
  }
};

enum class prepend_scheme { always, first, never };

struct metaspace_step final : pre_tokenizer::step {
  std::string replacement;
  prepend_scheme scheme = prepend_scheme::always;
  bool split = true;
  void apply(word w, std::vector<word>& out) const override {
    std::string text;
    for (char c : w.text) {
      if (c == ' ') {
        text += replacement;
      } else {
        text += c;
      }
    }
    bool starts_with_replacement = text.compare(0, replacement.size(), replacement) == 0;
    bool prepend = !starts_with_replacement &&
                   (scheme == prepend_scheme::always ||
                    (scheme == prepend_scheme::first && w.at_input_start));
    if (prepend) text.insert(0, replacement);
    word rewritten{std::move(text), w.at_input_start};
    if (!split) {
      if (!rewritten.text.empty()) out.push_back(std::move(rewritten));
      return;
    }
    std::vector<byte_range> found;
    for (size_t i = rewritten.text.find(replacement); i != std::string::npos;
         i = rewritten.text.find(replacement, i + replacement.size())) {
      found.push_back({i, i + replacement.size()});
    }
    split_by(rewritten, cover(rewritten.text.size(), found, false),
             delimiter_behavior::merged_with_next, out);
  }
};

struct digits_step final : pre_tokenizer::step {
  bool individual_digits;
  void apply(word w, std::vector<word>& out) const override {
    std::vector<byte_range> found;
    for (size_t i = 0; i < w.text.size();) {
      if (w.text[i] >= '0' && w.text[i] <= '9') {
        size_t j = i + 1;
        while (!individual_digits && j < w.text.size() && w.text[j] >= '0' && w.text[j] <= '9') ++j;
        found.push_back({i, j});
        i = j;
      } else {
        ++i;
      }
    }
    // HF Digits matches char::is_numeric; ASCII digits are what real files need.
    split_by(w, cover(w.text.size(), found, false),
             individual_digits ? delimiter_behavior::isolated : delimiter_behavior::contiguous, out);
  }
};

std::optional<delimiter_behavior> parse_behavior(const std::string& s) {
  if (s == "Removed") return delimiter_behavior::removed;
  if (s == "Isolated") return delimiter_behavior::isolated;
  if (s == "MergedWithPrevious") return delimiter_behavior::merged_with_previous;
  if (s == "MergedWithNext") return delimiter_behavior::merged_with_next;
  if (s == "Contiguous") return delimiter_behavior::contiguous;
  return std::nullopt;
}

bool add_steps(const nlohmann::json& spec, std::vector<std::shared_ptr<const pre_tokenizer::step>>& steps,
               std::string* error) {
  if (spec.is_null()) return true;
  auto fail = [&](const std::string& why) {
    if (error != nullptr) *error = "pre_tokenizer: " + why;
    return false;
  };
  if (!spec.is_object() || !spec.contains("type")) return fail("expected an object with a type");
  std::string type = spec["type"].get<std::string>();
  if (type == "Sequence") {
    for (const auto& child : spec.at("pretokenizers")) {
      if (!add_steps(child, steps, error)) return false;
    }
    return true;
  }
  std::string regex_error;
  if (type == "Split") {
    const auto& pattern = spec.at("pattern");
    std::optional<regex> compiled;
    if (pattern.contains("Regex")) {
      compiled = regex::compile(pattern["Regex"].get<std::string>(), &regex_error);
    } else if (pattern.contains("String")) {
      compiled = regex::literal(pattern["String"].get<std::string>(), &regex_error);
    } else {
      return fail("Split: pattern must be Regex or String");
    }
    if (!compiled) return fail("Split: " + regex_error);
    auto behavior = parse_behavior(spec.at("behavior").get<std::string>());
    if (!behavior) return fail("Split: unsupported behavior " + spec.at("behavior").dump());
    steps.push_back(
        std::make_shared<split_step>(std::move(*compiled), *behavior, spec.value("invert", false)));
  } else if (type == "ByteLevel") {
    auto s = std::make_shared<byte_level_step>();
    s->add_prefix_space = spec.value("add_prefix_space", true);
    if (spec.value("use_regex", true)) {
      s->pattern = regex::compile(gpt2_pattern, &regex_error);
      if (!s->pattern) return fail("ByteLevel: " + regex_error);
    }
    steps.push_back(s);
  } else if (type == "Metaspace") {
    auto s = std::make_shared<metaspace_step>();
    s->replacement = spec.value("replacement", std::string("\xE2\x96\x81"));
    s->split = spec.value("split", true);
    std::string scheme = spec.value("prepend_scheme", std::string());
    if (scheme.empty()) {
      scheme = spec.value("add_prefix_space", true) ? "always" : "never";
    }
    if (scheme == "always") {
      s->scheme = prepend_scheme::always;
    } else if (scheme == "first") {
      s->scheme = prepend_scheme::first;
    } else if (scheme == "never") {
      s->scheme = prepend_scheme::never;
    } else {
      return fail("Metaspace: unsupported prepend_scheme '" + scheme + "'");
    }
    steps.push_back(s);
  } else if (type == "Digits") {
    auto s = std::make_shared<digits_step>();
    s->individual_digits = spec.value("individual_digits", false);
    steps.push_back(s);
  } else {
    return fail("unsupported pre_tokenizer type '" + type + "'");
  }
  return true;
}

}  // namespace

std::optional<pre_tokenizer> pre_tokenizer::from_json(const nlohmann::json& spec, std::string* error) {
  pre_tokenizer p;
  try {
    if (!add_steps(spec, p.steps_, error)) return std::nullopt;
  } catch (const nlohmann::json::exception& e) {
    if (error != nullptr) *error = std::string("pre_tokenizer: malformed: ") + e.what();
    return std::nullopt;
  }
  return p;
}

void pre_tokenizer::split(std::string_view piece, bool at_input_start, std::vector<word>& out) const {
  std::vector<word> current;
  if (!piece.empty()) current.push_back({std::string(piece), at_input_start});
  for (const auto& s : steps_) {
    std::vector<word> next;
    next.reserve(current.size());
    for (auto& w : current) s->apply(std::move(w), next);
    current = std::move(next);
  }
  for (auto& w : current) {
    if (!w.text.empty()) out.push_back(std::move(w));
  }
}

}  // namespace troupe::engine::tokenization

#include "actors/engine/tokenizer/regex.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "actors/engine/tokenizer/utf8.hpp"

namespace troupe::engine::tokenization {

struct regex::code {
  pcre2_code* compiled = nullptr;
  ~code() { pcre2_code_free(compiled); }
};

namespace {

// The Unicode White_Space property (what Oniguruma's \s matches), as the body
// of a character class.
constexpr std::string_view white_space_body =
    "\\t\\n\\x{0B}\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}"
    "\\x{202F}\\x{205F}\\x{3000}";

}  // namespace

std::string translate_whitespace_classes(std::string_view p) {
  std::string out;
  out.reserve(p.size() + 64);
  bool in_class = false;
  size_t class_start = 0;  // index in p just after '[' or '[^'
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char e = p[i + 1];
      ++i;
      if (e == 's') {
        if (in_class) {
          out += white_space_body;
        } else {
          out += '[';
          out += white_space_body;
          out += ']';
        }
      } else if (e == 'S' && !in_class) {
        out += "[^";
        out += white_space_body;
        out += ']';
      } else {
        out += '\\';
        out += e;
      }
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      class_start = i + 1;
      continue;
    }
    if (in_class && c == '[' && i + 1 < p.size() && p[i + 1] == ':') {
      size_t close = p.find(":]", i + 2);
      if (close != std::string_view::npos) {
        out.append(p.substr(i, close + 2 - i));
        i = close + 1;
        continue;
      }
    }
    if (in_class && c == ']' && i != class_start) in_class = false;
    out += c;
  }
  return out;
}

std::optional<regex> regex::compile(std::string_view pattern, std::string* error) {
  std::string translated = translate_whitespace_classes(pattern);
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* compiled = pcre2_compile(
      reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
      PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error_code, &error_offset, nullptr);
  if (compiled == nullptr) {
    if (error != nullptr) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(error_code, message, sizeof(message));
      *error = "regex '" + std::string(pattern) + "' does not compile at offset " +
               std::to_string(error_offset) + ": " + reinterpret_cast<const char*>(message);
    }
    return std::nullopt;
  }
  // JIT is an optimisation only; matching falls back to the interpreter.
  pcre2_jit_compile(compiled, PCRE2_JIT_COMPLETE);
  auto holder = std::make_shared<code>();
  holder->compiled = compiled;
  regex r;
  r.code_ = std::move(holder);
  return r;
}

std::optional<regex> regex::literal(std::string_view literal, std::string* error) {
  std::string quoted;
  for (char c : literal) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          static_cast<unsigned char>(c) >= 0x80)) {
      quoted += '\\';
    }
    quoted += c;
  }
  return compile(quoted, error);
}

std::vector<byte_range> regex::find_all(std::string_view subject) const {
  std::vector<byte_range> matches;
  pcre2_match_data* data = pcre2_match_data_create_from_pattern(code_->compiled, nullptr);
  auto* text = reinterpret_cast<PCRE2_SPTR>(subject.data());
  size_t search_from = 0;
  std::optional<size_t> last_match_end;
  while (search_from <= subject.size()) {
    int rc = pcre2_match(code_->compiled, text, subject.size(), search_from, 0, data, nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      rc = pcre2_match(code_->compiled, text, subject.size(), search_from, PCRE2_NO_JIT, data,
                       nullptr);
    }
    if (rc < 0) break;  // no match (or a resource error: treat the rest as unmatched)
    PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data);
    size_t begin = ovector[0];
    size_t end = ovector[1];
    // The onig crate's rule: an empty match right where the previous match
    // ended is skipped by one character; any other match is taken.
    if (begin == end && last_match_end == end) {
      if (search_from >= subject.size()) break;
      search_from += char_length(subject, search_from);
      continue;
    }
    matches.push_back({begin, end});
    last_match_end = end;
    search_from = end;
  }
  pcre2_match_data_free(data);
  return matches;
}

}  // namespace troupe::engine::tokenization

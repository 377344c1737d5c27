#include "actors/engine/chat/jinja_strings.hpp"

#include <algorithm>
#include <stdexcept>

#include "actors/engine/chat/jinja_value.hpp"

namespace troupe::engine::jinja {

std::string py_strip(std::string_view s, const std::string* chars, bool left, bool right) {
  std::u32string cps = utf8_decode(s);
  std::u32string set = chars ? utf8_decode(*chars) : std::u32string();
  auto strippable = [&](char32_t c) { return chars ? set.find(c) != std::u32string::npos : is_py_space(c); };
  size_t begin = 0;
  size_t end = cps.size();
  if (left) {
    while (begin < end && strippable(cps[begin])) ++begin;
  }
  if (right) {
    while (end > begin && strippable(cps[end - 1])) --end;
  }
  return utf8_encode(std::u32string_view(cps).substr(begin, end - begin));
}

namespace {

std::vector<std::string> split_whitespace(std::string_view s, int64_t max_splits, bool from_right) {
  std::u32string cps = utf8_decode(s);
  if (from_right) std::reverse(cps.begin(), cps.end());
  std::vector<std::u32string> parts;
  size_t i = 0;
  while (i < cps.size()) {
    while (i < cps.size() && is_py_space(cps[i])) ++i;
    if (i >= cps.size()) break;
    if (max_splits >= 0 && static_cast<int64_t>(parts.size()) == max_splits) {
      parts.push_back(cps.substr(i));  // the remainder keeps its trailing whitespace, as in Python
      break;
    }
    size_t start = i;
    while (i < cps.size() && !is_py_space(cps[i])) ++i;
    parts.push_back(cps.substr(start, i - start));
  }
  std::vector<std::string> out;
  for (auto& p : parts) {
    if (from_right) std::reverse(p.begin(), p.end());
    out.push_back(utf8_encode(p));
  }
  if (from_right) std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace

std::vector<std::string> py_split(std::string_view s, const std::string* sep, int64_t max_splits) {
  if (!sep) return split_whitespace(s, max_splits, false);
  if (sep->empty()) throw std::invalid_argument("empty separator");
  std::vector<std::string> out;
  size_t start = 0;
  while (max_splits < 0 || static_cast<int64_t>(out.size()) < max_splits) {
    size_t at = s.find(*sep, start);
    if (at == std::string_view::npos) break;
    out.emplace_back(s.substr(start, at - start));
    start = at + sep->size();
  }
  out.emplace_back(s.substr(start));
  return out;
}

std::vector<std::string> py_rsplit(std::string_view s, const std::string* sep, int64_t max_splits) {
  if (!sep) return split_whitespace(s, max_splits, true);
  if (sep->empty()) throw std::invalid_argument("empty separator");
  std::vector<std::string> out;
  size_t end = s.size();
  while (max_splits < 0 || static_cast<int64_t>(out.size()) < max_splits) {
    if (end < sep->size()) break;
    size_t at = s.rfind(*sep, end - sep->size());
    if (at == std::string_view::npos) break;
    out.emplace_back(s.substr(at + sep->size(), end - at - sep->size()));
    end = at;
  }
  out.emplace_back(s.substr(0, end));
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::string> py_splitlines(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' || s[i] == '\r') {
      out.emplace_back(s.substr(start, i - start));
      if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  if (start < s.size()) out.emplace_back(s.substr(start));
  return out;
}

std::string py_replace(std::string_view s, std::string_view old, std::string_view with, int64_t count,
                       size_t max_result_bytes) {
  int64_t num_matches = old.empty() ? static_cast<int64_t>(utf8_length(s)) + 1 : py_count(s, old);
  if (count >= 0) num_matches = std::min(num_matches, count);
  if (with.size() > old.size() &&
      s.size() + static_cast<size_t>(num_matches) * (with.size() - old.size()) > max_result_bytes) {
    throw std::length_error("replace() result is too large");
  }
  std::string out;
  if (old.empty()) {
    // Python inserts `with` before every code point and at the end.
    std::u32string cps = utf8_decode(s);
    int64_t done = 0;
    for (char32_t c : cps) {
      if (count < 0 || done < count) {
        out += with;
        ++done;
      }
      out += utf8_encode(std::u32string_view(&c, 1));
    }
    if (count < 0 || done < count) out += with;
    return out;
  }
  size_t start = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    size_t at = s.find(old, start);
    if (at == std::string_view::npos) break;
    out += s.substr(start, at - start);
    out += with;
    start = at + old.size();
    ++done;
  }
  out += s.substr(start);
  return out;
}

namespace {

// Simple case mappings of Basic Latin, Latin-1, Latin Extended-A, Greek and
// Cyrillic (what European-language prompts contain); other scripts are kept.
char32_t lower_cp(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0x80) return c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if (c >= 0x100 && c <= 0x137 && c % 2 == 0 && c != 0x130) return c + 1;
  if (c >= 0x139 && c <= 0x148 && c % 2 == 1) return c + 1;
  if (c >= 0x14A && c <= 0x177 && c % 2 == 0) return c + 1;
  if (c == 0x178) return 0xFF;
  if (c >= 0x179 && c <= 0x17E && c % 2 == 1) return c + 1;
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

char32_t upper_cp(char32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if (c < 0x80) return c;
  if (c == 0xB5) return 0x39C;
  if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 32;
  if (c == 0xFF) return 0x178;
  if (c == 0x131) return 'I';
  if (c >= 0x101 && c <= 0x137 && c % 2 == 1) return c - 1;
  if (c >= 0x13A && c <= 0x148 && c % 2 == 0) return c - 1;
  if (c >= 0x14B && c <= 0x177 && c % 2 == 1) return c - 1;
  if (c >= 0x17A && c <= 0x17E && c % 2 == 0) return c - 1;
  if (c == 0x17F) return 'S';
  if (c == 0x3C2) return 0x3A3;
  if (c >= 0x3B1 && c <= 0x3C9) return c - 32;
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  return c;
}

constexpr char32_t sharp_s = 0xDF;  // "ß".upper() == "SS"

bool is_lowercase_letter(char32_t c) { return c == sharp_s || upper_cp(c) != c; }
bool is_uppercase_letter(char32_t c) { return lower_cp(c) != c; }
bool is_cased(char32_t c) { return is_lowercase_letter(c) || is_uppercase_letter(c); }

void append_upper(char32_t c, std::u32string& out) {
  if (c == sharp_s) {
    out += U"SS";
  } else {
    out.push_back(upper_cp(c));
  }
}

}  // namespace

std::string py_lower(std::string_view s) {
  std::u32string cps = utf8_decode(s);
  for (char32_t& c : cps) c = lower_cp(c);
  return utf8_encode(cps);
}

std::string py_upper(std::string_view s) {
  std::u32string out;
  for (char32_t c : utf8_decode(s)) append_upper(c, out);
  return utf8_encode(out);
}

std::string py_title(std::string_view s) {
  std::u32string out;
  bool previous_is_cased = false;
  for (char32_t c : utf8_decode(s)) {
    if (previous_is_cased) {
      out.push_back(lower_cp(c));
    } else if (c == sharp_s) {
      out += U"Ss";
    } else {
      out.push_back(upper_cp(c));
    }
    previous_is_cased = is_cased(c);
  }
  return utf8_encode(out);
}

std::string jinja_title(std::string_view s) {
  std::u32string out;
  bool word_start = true;
  for (char32_t c : utf8_decode(s)) {
    bool separator = c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || is_py_space(c);
    if (separator) {
      out.push_back(c);
    } else if (word_start) {
      append_upper(c, out);
    } else {
      out.push_back(lower_cp(c));
    }
    word_start = separator;
  }
  return utf8_encode(out);
}

std::string py_capitalize(std::string_view s) {
  std::u32string cps = utf8_decode(s);
  std::u32string out;
  for (size_t i = 0; i < cps.size(); ++i) {
    if (i == 0 && cps[0] == sharp_s) {
      out += U"Ss";
    } else {
      out.push_back(i == 0 ? upper_cp(cps[0]) : lower_cp(cps[i]));
    }
  }
  return utf8_encode(out);
}

bool py_islower(std::string_view s) {
  bool has_lower = false;
  for (char32_t c : utf8_decode(s)) {
    if (is_uppercase_letter(c)) return false;
    has_lower = has_lower || is_lowercase_letter(c);
  }
  return has_lower;
}

bool py_isupper(std::string_view s) {
  bool has_upper = false;
  for (char32_t c : utf8_decode(s)) {
    if (is_lowercase_letter(c)) return false;
    has_upper = has_upper || is_uppercase_letter(c);
  }
  return has_upper;
}

int64_t py_count(std::string_view s, std::string_view needle) {
  if (needle.empty()) return static_cast<int64_t>(utf8_length(s)) + 1;
  int64_t n = 0;
  for (size_t at = s.find(needle); at != std::string_view::npos; at = s.find(needle, at + needle.size())) ++n;
  return n;
}

int64_t py_find(std::string_view s, std::string_view needle, bool from_right) {
  size_t at = from_right ? s.rfind(needle) : s.find(needle);
  if (at == std::string_view::npos) return -1;
  return static_cast<int64_t>(utf8_length(s.substr(0, at)));
}

}  // namespace troupe::engine::jinja

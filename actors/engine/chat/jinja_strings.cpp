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
      size_t end = cps.size();
      while (end > i && is_py_space(cps[end - 1])) --end;
      parts.push_back(cps.substr(i, end - i));
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

std::string py_replace(std::string_view s, std::string_view old, std::string_view with, int64_t count) {
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

std::string py_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string py_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string py_title(std::string_view s) {
  std::string out(s);
  bool previous_is_letter = false;
  for (char& c : out) {
    bool lower = c >= 'a' && c <= 'z';
    bool upper = c >= 'A' && c <= 'Z';
    if (lower && !previous_is_letter) c = static_cast<char>(c - 'a' + 'A');
    if (upper && previous_is_letter) c = static_cast<char>(c - 'A' + 'a');
    previous_is_letter = lower || upper || (static_cast<unsigned char>(c) >= 0x80);
  }
  return out;
}

std::string py_capitalize(std::string_view s) {
  std::string out = py_lower(s);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
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

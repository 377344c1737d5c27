#pragma once
// Python str methods that chat templates use, on UTF-8 strings, with Python's
// semantics (whitespace = str.isspace, counts in code points). Case mapping
// covers ASCII only.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::engine::jinja {

// chars == nullptr: strip whitespace; else strip any code point in *chars.
std::string py_strip(std::string_view s, const std::string* chars, bool left, bool right);
// sep == nullptr: split on runs of whitespace. Throws std::invalid_argument on an empty sep.
std::vector<std::string> py_split(std::string_view s, const std::string* sep, int64_t max_splits);
std::vector<std::string> py_rsplit(std::string_view s, const std::string* sep, int64_t max_splits);
std::vector<std::string> py_splitlines(std::string_view s);
// count < 0: all occurrences.
std::string py_replace(std::string_view s, std::string_view old, std::string_view with, int64_t count);
std::string py_lower(std::string_view s);
std::string py_upper(std::string_view s);
std::string py_title(std::string_view s);
std::string py_capitalize(std::string_view s);
int64_t py_count(std::string_view s, std::string_view needle);
// Code point index of the first (last) occurrence, or -1.
int64_t py_find(std::string_view s, std::string_view needle, bool from_right);

}  // namespace troupe::engine::jinja

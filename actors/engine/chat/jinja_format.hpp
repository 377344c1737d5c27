#pragma once
// Python's text forms of JSON data: repr() of None/True/numbers/str/list/dict
// (what `{{ value }}` prints) and json.dumps (what Hugging Face's tojson prints).
#include <string>

#include "actors/engine/chat/jinja_value.hpp"

namespace troupe::engine::jinja {

std::string py_repr(const json& j);
// repr() of a str: single quotes unless it contains only single quotes.
std::string py_string_repr(const std::string& s);
std::string py_float_repr(double d);

// Python json.dumps(x, ensure_ascii, indent, separators, sort_keys): what
// Hugging Face's tojson filter emits. indent < 0 means no indentation; empty
// separators mean Python's defaults (", " or "," when indented, and ": ").
struct json_dump_options {
  int indent = -1;
  bool ensure_ascii = false;
  bool sort_keys = false;
  std::string item_separator;
  std::string key_separator;
};
std::string py_json_dumps(const json& j, const json_dump_options& options);

}  // namespace troupe::engine::jinja

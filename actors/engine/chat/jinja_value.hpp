#pragma once
// The runtime value of the Jinja subset: JSON data (nlohmann::ordered_json, so
// that objects keep the key order the caller gave, as Python dicts do), plus
// the few things JSON cannot hold: Jinja's Undefined, a namespace() object, a
// built-in function, a bound method ("abc".startswith) and a macro.
// JSON data is shared and never mutated, so copying a value is cheap and
// messages[0] aliases into its parent instead of copying it.
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace troupe::engine::jinja {

using json = nlohmann::ordered_json;

struct stmt;
struct value;

// namespace(): the one mutable object of Jinja (`{% set ns.x = 1 %}`).
struct namespace_object {
  std::vector<std::pair<std::string, value>> attrs;  // insertion order
  value* find(std::string_view name);
};

struct value {
  enum class kind { undefined, data, ns, function, method, macro };

  kind k = kind::undefined;
  std::shared_ptr<const json> data;           // kind::data
  std::shared_ptr<namespace_object> ns;       // kind::ns
  std::string name;                           // function / method name; undefined: what was missing
  std::shared_ptr<const value> receiver;      // kind::method: the object the method is bound to
  const stmt* macro = nullptr;                // kind::macro: the macro statement (owned by the template)

  static value undefined(std::string what = {});
  static value of(json j);
  // A value aliasing a sub-object of parent's JSON (no copy).
  static value alias(const value& parent, const json& inside);
  static value function(std::string function_name);
  static value method(value bound_to, std::string method_name);

  bool is_undefined() const { return k == kind::undefined; }
  bool is_data() const { return k == kind::data; }
  const json& j() const { return *data; }
  bool is_string() const { return is_data() && data->is_string(); }
  bool is_null() const { return is_data() && data->is_null(); }
  bool is_array() const { return is_data() && data->is_array(); }
  bool is_object() const { return is_data() && data->is_object(); }
  bool is_number() const { return is_data() && data->is_number(); }  // not bool
  bool is_bool() const { return is_data() && data->is_boolean(); }
};

// Python truth value: Undefined, None, False, 0, "", [] and {} are false.
bool truthy(const value& v);

// Python str(): strings as-is, None -> "None", True -> "True", lists and dicts
// as Python repr ("['a', 1]"), Undefined -> "".
std::string to_str(const value& v);
std::string py_repr(const json& j);
std::string py_float_repr(double d);

// Python json.dumps(x, ensure_ascii, indent, sort_keys) with its default
// separators (", " and ": ", or "," and ": " when indented): what Hugging Face's
// tojson filter emits. indent < 0 means no indentation.
std::string py_json_dumps(const json& j, int indent, bool ensure_ascii, bool sort_keys);

// Python ==, with 1 == 1.0 == True.
bool equals(const value& a, const value& b);

// Python <; throws std::invalid_argument when the types cannot be ordered.
bool less_than(const json& a, const json& b);

// UTF-8 as code points (Python str indexing, len and slicing count code points).
std::u32string utf8_decode(std::string_view s);
std::string utf8_encode(std::u32string_view s);
size_t utf8_length(std::string_view s);
// str.isspace() for one code point.
bool is_py_space(char32_t c);

// A short name of the type for error messages ("string", "list", "dict", ...).
std::string type_name(const value& v);

}  // namespace troupe::engine::jinja

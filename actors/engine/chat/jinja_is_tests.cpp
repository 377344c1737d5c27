// Jinja's built-in tests (`x is defined`, `x is string`, `n is divisibleby 3`, …).
#include <algorithm>
#include <array>
#include <cmath>

#include "actors/engine/chat/jinja_builtins.hpp"
#include "actors/engine/chat/jinja_error.hpp"
#include "actors/engine/chat/jinja_strings.hpp"

namespace troupe::engine::jinja {

namespace {

constexpr std::array known_tests = {
    "boolean", "callable", "defined", "divisibleby", "eq",  "equalto", "escaped",  "even",
    "false",   "filter",   "float",   "ge",          "gt",  "greaterthan", "in",   "integer",
    "iterable", "le",      "lessthan", "lower",      "lt",  "mapping", "ne",       "none",
    "number",  "odd",      "sameas",  "sequence",    "string", "test", "true",     "undefined",
    "upper",   "==",       "!=",      "<",           "<=",  ">",       ">=",
};

[[noreturn]] void fail(const call_args& args, const std::string& message) {
  throw template_error(args.offset, message);
}

}  // namespace

bool is_known_test(std::string_view name) {
  return std::find(known_tests.begin(), known_tests.end(), name) != known_tests.end();
}

bool call_test(std::string_view name, const value& v, const call_args& args) {
  const json* j = v.is_data() ? &v.j() : nullptr;
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return j && j->is_null();
  if (name == "boolean") return j && j->is_boolean();
  if (name == "true") return j && j->is_boolean() && j->get<bool>();
  if (name == "false") return j && j->is_boolean() && !j->get<bool>();
  if (name == "integer") return j && j->is_number_integer();
  if (name == "float") return j && j->is_number_float();
  if (name == "number") return j && (j->is_number() || j->is_boolean());
  if (name == "string") return j && j->is_string();
  if (name == "mapping") return j && j->is_object();
  // Jinja's Undefined is iterable (as empty) and has a length.
  if (name == "iterable" || name == "sequence") return v.is_undefined() || (j && (j->is_string() || j->is_array() || j->is_object()));
  if (name == "callable") return v.k == value::kind::function || v.k == value::kind::method || v.k == value::kind::macro;
  if (name == "escaped") return false;
  if (name == "filter") return v.is_string() && is_known_filter(j->get_ref<const std::string&>());
  if (name == "test") return v.is_string() && is_known_test(j->get_ref<const std::string&>());
  if (name == "lower") return py_islower(to_str(v));
  if (name == "upper") return py_isupper(to_str(v));
  if (name == "odd" || name == "even" || name == "divisibleby") {
    // value % 2 == 1 / value % 2 == 0 / value % num == 0, with Python's modulo.
    if (!j || !(j->is_number() || j->is_boolean())) fail(args, "test '" + std::string(name) + "' needs a number");
    double n = j->is_boolean() ? (j->get<bool>() ? 1.0 : 0.0) : j->get<double>();
    double d = 2.0;
    if (name == "divisibleby") {
      const value* num = args.get(0, "num");
      if (!num || !num->is_number()) fail(args, "divisibleby needs a number");
      d = num->j().get<double>();
      if (d == 0) fail(args, "integer modulo by zero");
    }
    double r = std::fmod(n, d);
    if (r != 0 && ((r < 0) != (d < 0))) r += d;
    return name == "odd" ? r == 1.0 : r == 0.0;
  }
  const value* other = args.get(0, "other");
  if (!other) fail(args, "test '" + std::string(name) + "' needs an argument");
  if (name == "sameas") {
    if (j && other->is_data() && (j->is_null() || j->is_boolean())) return *j == other->j();
    return v.is_data() && other->is_data() ? v.data == other->data : equals(v, *other);
  }
  if (name == "eq" || name == "equalto" || name == "==") return equals(v, *other);
  if (name == "ne" || name == "!=") return !equals(v, *other);
  if (name == "in") {
    if (!other->is_data()) fail(args, "'in' test needs a container");
    const json& c = other->j();
    if (c.is_string()) return v.is_string() && c.get<std::string>().find(j->get<std::string>()) != std::string::npos;
    if (c.is_array()) return std::any_of(c.begin(), c.end(), [&](const json& x) { return equals(v, value::of(x)); });
    if (c.is_object()) {
      if (v.is_array() || v.is_object()) fail(args, "unhashable type: '" + type_name(v) + "'");
      return v.is_string() && c.contains(j->get<std::string>());
    }
    fail(args, "'in' test needs a container");
  }
  if (!j || !other->is_data()) fail(args, "cannot compare " + type_name(v) + " and " + type_name(*other));
  try {
    if (name == "lt" || name == "lessthan" || name == "<") return less_than(*j, other->j());
    if (name == "gt" || name == "greaterthan" || name == ">") return less_than(other->j(), *j);
    if (name == "le" || name == "<=") return !less_than(other->j(), *j);
    if (name == "ge" || name == ">=") return !less_than(*j, other->j());
  } catch (const std::invalid_argument& e) {
    fail(args, e.what());
  }
  fail(args, "no test named '" + std::string(name) + "'");
}

}  // namespace troupe::engine::jinja

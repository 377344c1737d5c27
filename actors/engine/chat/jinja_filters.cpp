// Jinja's built-in filters and tests (the subset chat templates use), with
// Hugging Face's tojson: json.dumps(x, ensure_ascii=False, indent=…, sort_keys=…).
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include "actors/engine/chat/jinja_builtins.hpp"
#include "actors/engine/chat/jinja_error.hpp"
#include "actors/engine/chat/jinja_strings.hpp"

namespace troupe::engine::jinja {

const value* call_args::get(size_t index, std::string_view name) const {
  if (index < positional.size()) return &positional[index];
  for (const auto& [key, v] : keywords) {
    if (key == name) return &v;
  }
  return nullptr;
}

namespace {

constexpr std::array known_filters = {
    "abs",   "capitalize", "count",  "d",         "default", "e",         "escape", "first",
    "float", "int",        "items",  "join",      "last",    "length",    "list",   "lower",
    "map",   "reject",     "rejectattr", "replace", "reverse", "safe",    "select", "selectattr",
    "sort",  "string",     "sum",    "title",     "tojson",  "trim",      "unique", "upper",
};

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

const std::string& string_arg(const call_args& args, const value* v, const char* what) {
  if (!v || !v->is_string()) fail(args, std::string(what) + " must be a string");
  return v->j().get_ref<const std::string&>();
}

int64_t int_arg(const call_args& args, const value* v, const char* what) {
  if (!v || !v->is_data() || !v->j().is_number_integer()) fail(args, std::string(what) + " must be an integer");
  return v->j().get<int64_t>();
}

// The items a for loop or a filter iterates: list items, dict keys, string
// characters; Undefined iterates as empty.
std::vector<value> iterate(const value& v, const call_args& args) {
  std::vector<value> out;
  if (v.is_undefined()) return out;
  if (v.is_array()) {
    for (const auto& item : v.j()) out.push_back(value::alias(v, item));
  } else if (v.is_object()) {
    for (const auto& [key, _] : v.j().items()) out.push_back(value::of(key));
  } else if (v.is_string()) {
    for (char32_t c : utf8_decode(v.j().get_ref<const std::string&>())) {
      out.push_back(value::of(utf8_encode(std::u32string_view(&c, 1))));
    }
  } else {
    fail(args, "'" + type_name(v) + "' object is not iterable");
  }
  return out;
}

json to_json_list(const std::vector<value>& items, const call_args& args) {
  json out = json::array();
  for (const auto& item : items) {
    if (!item.is_data()) fail(args, "cannot put a " + type_name(item) + " into a list");
    out.push_back(item.j());
  }
  return out;
}

// item.attribute with Jinja's dotted paths ("function.name") and integer parts.
value attribute_of(const value& item, const std::string& path) {
  value cur = item;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (cur.is_object()) {
      auto it = cur.j().find(part);
      if (it == cur.j().end()) return value::undefined(part);
      cur = value::alias(cur, *it);
    } else if (cur.is_array() && !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit)) {
      size_t index = std::stoul(part);
      if (index >= cur.j().size()) return value::undefined(part);
      cur = value::alias(cur, cur.j()[index]);
    } else if (cur.k == value::kind::ns && cur.ns->find(part)) {
      cur = *cur.ns->find(part);
    } else {
      return value::undefined(part);
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return cur;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

json length_of(const value& v, const call_args& args) {
  if (v.is_undefined()) return 0;
  if (v.is_string()) return static_cast<int64_t>(utf8_length(v.j().get_ref<const std::string&>()));
  if (v.is_array() || v.is_object()) return static_cast<int64_t>(v.j().size());
  if (v.k == value::kind::ns) return static_cast<int64_t>(v.ns->attrs.size());
  fail(args, "object of type '" + type_name(v) + "' has no len()");
}

value select_items(builtin_host& host, const value& v, const call_args& args, bool by_attribute, bool keep) {
  std::vector<value> kept;
  size_t first_test_arg = by_attribute ? 1 : 0;
  std::string attribute;
  if (by_attribute) attribute = string_arg(args, args.get(0, "attribute"), "selectattr attribute");
  std::string test_name;
  call_args test_args;
  test_args.offset = args.offset;
  if (args.positional.size() > first_test_arg) {
    test_name = string_arg(args, &args.positional[first_test_arg], "test name");
    if (!is_known_test(test_name)) fail(args, "no test named '" + test_name + "'");
    test_args.positional.assign(args.positional.begin() + static_cast<long>(first_test_arg) + 1,
                                args.positional.end());
  }
  for (const auto& item : iterate(v, args)) {
    value subject = by_attribute ? attribute_of(item, attribute) : item;
    bool passed = test_name.empty() ? truthy(subject) : host.apply_test(test_name, subject, test_args);
    if (passed == keep) kept.push_back(item);
  }
  return value::of(to_json_list(kept, args));
}

value map_items(builtin_host& host, const value& v, const call_args& args) {
  std::vector<value> mapped;
  if (const value* attribute = args.get(99, "attribute")) {
    const std::string& path = string_arg(args, attribute, "map attribute");
    const value* fallback = args.get(99, "default");
    for (const auto& item : iterate(v, args)) {
      value a = attribute_of(item, path);
      mapped.push_back(a.is_undefined() && fallback ? *fallback : a);
    }
  } else {
    const std::string& filter_name = string_arg(args, args.get(0, "filter"), "map filter name");
    if (!is_known_filter(filter_name)) fail(args, "no filter named '" + filter_name + "'");
    call_args filter_args;
    filter_args.offset = args.offset;
    filter_args.positional.assign(args.positional.begin() + 1, args.positional.end());
    filter_args.keywords = args.keywords;
    for (const auto& item : iterate(v, args)) mapped.push_back(host.apply_filter(filter_name, item, filter_args));
  }
  return value::of(to_json_list(mapped, args));
}

// Sort and unique compare strings case-insensitively by default, as Jinja does.
json sort_key(const value& item, const value* attribute, bool case_sensitive) {
  value key = attribute ? attribute_of(item, attribute->is_string() ? attribute->j().get<std::string>() : "") : item;
  if (!key.is_data()) return nullptr;
  if (!case_sensitive && key.j().is_string()) return py_lower(key.j().get<std::string>());
  return key.j();
}

value to_int(const value& v, const call_args& args) {
  json fallback = 0;
  if (const value* d = args.get(0, "default"); d && d->is_data()) fallback = d->j();
  if (!v.is_data()) return value::of(fallback);
  const json& j = v.j();
  if (j.is_boolean()) return value::of(j.get<bool>() ? 1 : 0);
  if (j.is_number_integer()) return v;
  if (j.is_number_float()) return value::of(static_cast<int64_t>(j.get<double>()));
  if (j.is_string()) {
    std::string s = py_strip(j.get<std::string>(), nullptr, true, false);
    s = py_strip(s, nullptr, false, true);
    s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
    int64_t out = 0;
    const char* begin = s.data() + (!s.empty() && s[0] == '+' ? 1 : 0);
    auto res = std::from_chars(begin, s.data() + s.size(), out);
    if (res.ec == std::errc() && res.ptr == s.data() + s.size()) return value::of(out);
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(d)) return value::of(static_cast<int64_t>(d));
  }
  return value::of(fallback);
}

value to_float(const value& v, const call_args& args) {
  json fallback = 0.0;
  if (const value* d = args.get(0, "default"); d && d->is_data()) fallback = d->j();
  if (!v.is_data()) return value::of(fallback);
  const json& j = v.j();
  if (j.is_boolean()) return value::of(j.get<bool>() ? 1.0 : 0.0);
  if (j.is_number()) return value::of(j.get<double>());
  if (j.is_string()) {
    std::string s = py_strip(j.get<std::string>(), nullptr, true, true);
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) return value::of(d);
  }
  return value::of(fallback);
}

}  // namespace

bool is_known_filter(std::string_view name) {
  return std::find(known_filters.begin(), known_filters.end(), name) != known_filters.end();
}

bool is_known_test(std::string_view name) {
  return std::find(known_tests.begin(), known_tests.end(), name) != known_tests.end();
}

value call_filter(builtin_host& host, std::string_view name, const value& v, const call_args& args) {
  if (name == "default" || name == "d") {
    const value* boolean = args.get(1, "boolean");
    bool use_default = v.is_undefined() || (boolean && truthy(*boolean) && !truthy(v));
    if (!use_default) return v;
    const value* fallback = args.get(0, "default_value");
    return fallback ? *fallback : value::of("");
  }
  if (name == "safe") return v;
  if (name == "length" || name == "count") return value::of(length_of(v, args));
  if (name == "string") return value::of(to_str(v));
  if (name == "escape" || name == "e") return value::of(html_escape(to_str(v)));
  if (name == "trim") {
    const value* chars = args.get(0, "chars");
    const std::string* set = chars && chars->is_string() ? &chars->j().get_ref<const std::string&>() : nullptr;
    return value::of(py_strip(to_str(v), set, true, true));
  }
  if (name == "lower") return value::of(py_lower(to_str(v)));
  if (name == "upper") return value::of(py_upper(to_str(v)));
  if (name == "title") return value::of(py_title(to_str(v)));
  if (name == "capitalize") return value::of(py_capitalize(to_str(v)));
  if (name == "replace") {
    const std::string& old = string_arg(args, args.get(0, "old"), "replace old");
    const std::string& with = string_arg(args, args.get(1, "new"), "replace new");
    const value* count = args.get(2, "count");
    return value::of(py_replace(to_str(v), old, with, count && !count->is_null() ? int_arg(args, count, "replace count") : -1));
  }
  if (name == "tojson") {
    if (!v.is_data()) fail(args, "Object of type " + type_name(v) + " is not JSON serializable");
    const value* indent = args.get(0, "indent");
    const value* ensure_ascii = args.get(99, "ensure_ascii");
    const value* sort_keys = args.get(99, "sort_keys");
    int num_indent = indent && !indent->is_null() ? static_cast<int>(int_arg(args, indent, "tojson indent")) : -1;
    return value::of(py_json_dumps(v.j(), num_indent, ensure_ascii && truthy(*ensure_ascii),
                                   sort_keys && truthy(*sort_keys)));
  }
  if (name == "items") {
    if (v.is_undefined()) return value::of(json::array());
    if (!v.is_object()) fail(args, "items filter needs a mapping, got " + type_name(v));
    json out = json::array();
    for (const auto& [key, item] : v.j().items()) out.push_back(json::array({key, item}));
    return value::of(std::move(out));
  }
  if (name == "join") {
    std::string sep = args.get(0, "d") ? to_str(*args.get(0, "d")) : "";
    const value* attribute = args.get(1, "attribute");
    std::string out;
    bool first = true;
    for (const auto& item : iterate(v, args)) {
      if (!first) out += sep;
      first = false;
      out += to_str(attribute ? attribute_of(item, to_str(*attribute)) : item);
    }
    return value::of(std::move(out));
  }
  if (name == "first" || name == "last" || name == "reverse" || name == "list" || name == "unique" ||
      name == "sort") {
    std::vector<value> items = iterate(v, args);
    if (name == "first") return items.empty() ? value::undefined("first") : items.front();
    if (name == "last") {
      if (v.is_object()) fail(args, "last filter cannot take a mapping");
      return items.empty() ? value::undefined("last") : items.back();
    }
    if (name == "reverse" && v.is_string()) {
      std::u32string cps = utf8_decode(v.j().get_ref<const std::string&>());
      std::reverse(cps.begin(), cps.end());
      return value::of(utf8_encode(cps));
    }
    if (name == "reverse") std::reverse(items.begin(), items.end());
    const value* case_sensitive = args.get(name == "sort" ? 1 : 0, "case_sensitive");
    bool cs = case_sensitive && truthy(*case_sensitive);
    const value* attribute = args.get(name == "sort" ? 2 : 1, "attribute");
    if (name == "unique") {
      std::vector<value> kept;
      std::vector<json> seen;
      for (const auto& item : items) {
        json key = sort_key(item, attribute, cs);
        if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
        seen.push_back(key);
        kept.push_back(item);
      }
      items = std::move(kept);
    }
    if (name == "sort") {
      const value* reverse = args.get(0, "reverse");
      std::vector<std::pair<json, value>> keyed;
      for (const auto& item : items) keyed.emplace_back(sort_key(item, attribute, cs), item);
      try {
        std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return less_than(a.first, b.first); });
      } catch (const std::invalid_argument& e) {
        fail(args, std::string("sort: ") + e.what());
      }
      if (reverse && truthy(*reverse)) std::reverse(keyed.begin(), keyed.end());
      items.clear();
      for (auto& [_, item] : keyed) items.push_back(std::move(item));
    }
    return value::of(to_json_list(items, args));
  }
  if (name == "select" || name == "reject") return select_items(host, v, args, false, name == "select");
  if (name == "selectattr" || name == "rejectattr") return select_items(host, v, args, true, name == "selectattr");
  if (name == "map") return map_items(host, v, args);
  if (name == "int") return to_int(v, args);
  if (name == "float") return to_float(v, args);
  if (name == "abs") {
    if (!v.is_number()) fail(args, "bad operand type for abs(): '" + type_name(v) + "'");
    if (v.j().is_number_float()) return value::of(std::fabs(v.j().get<double>()));
    return value::of(v.j().is_number_unsigned() ? v.j() : json(std::llabs(v.j().get<int64_t>())));
  }
  if (name == "sum") {
    const value* attribute = args.get(0, "attribute");
    const value* start = args.get(1, "start");
    json total = start && start->is_number() ? start->j() : json(0);
    for (const auto& item : iterate(v, args)) {
      value x = attribute ? attribute_of(item, to_str(*attribute)) : item;
      if (!x.is_number() && !x.is_bool()) fail(args, "sum: unsupported operand type '" + type_name(x) + "'");
      json xj = x.is_bool() ? json(x.j().get<bool>() ? 1 : 0) : x.j();
      if (total.is_number_float() || xj.is_number_float()) total = total.get<double>() + xj.get<double>();
      else total = total.get<int64_t>() + xj.get<int64_t>();
    }
    return value::of(std::move(total));
  }
  fail(args, "no filter named '" + std::string(name) + "'");
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
  if (name == "lower") return v.is_string() && py_lower(j->get<std::string>()) == j->get<std::string>();
  if (name == "upper") return v.is_string() && py_upper(j->get<std::string>()) == j->get<std::string>();
  if (name == "odd" || name == "even" || name == "divisibleby") {
    if (!j || !j->is_number_integer()) fail(args, "test '" + std::string(name) + "' needs an integer");
    int64_t n = j->get<int64_t>();
    if (name == "odd") return n % 2 != 0;
    if (name == "even") return n % 2 == 0;
    int64_t d = int_arg(args, args.get(0, "num"), "divisibleby argument");
    if (d == 0) fail(args, "divisibleby(0)");
    return n % d == 0;
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
    if (c.is_object()) return v.is_string() && c.contains(j->get<std::string>());
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

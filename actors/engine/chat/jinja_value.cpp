#include "actors/engine/chat/jinja_value.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace troupe::engine::jinja {

value* namespace_object::find(std::string_view name) {
  for (auto& [key, v] : attrs) {
    if (key == name) return &v;
  }
  return nullptr;
}

value value::undefined(std::string what) {
  value v;
  v.name = std::move(what);
  return v;
}

value value::of(json j) {
  value v;
  v.k = kind::data;
  v.data = std::make_shared<const json>(std::move(j));
  return v;
}

value value::alias(const value& parent, const json& inside) {
  value v;
  v.k = kind::data;
  v.data = std::shared_ptr<const json>(parent.data, &inside);
  return v;
}

value value::function(std::string function_name) {
  value v;
  v.k = kind::function;
  v.name = std::move(function_name);
  return v;
}

value value::method(value bound_to, std::string method_name) {
  value v;
  v.k = kind::method;
  v.name = std::move(method_name);
  v.receiver = std::make_shared<const value>(std::move(bound_to));
  return v;
}

bool truthy(const value& v) {
  switch (v.k) {
    case value::kind::undefined: return false;
    case value::kind::data: break;
    default: return true;
  }
  const json& j = *v.data;
  switch (j.type()) {
    case json::value_t::null: return false;
    case json::value_t::boolean: return j.get<bool>();
    case json::value_t::number_integer: return j.get<int64_t>() != 0;
    case json::value_t::number_unsigned: return j.get<uint64_t>() != 0;
    case json::value_t::number_float: return j.get<double>() != 0.0;
    case json::value_t::string: return !j.get_ref<const std::string&>().empty();
    case json::value_t::array:
    case json::value_t::object: return !j.empty();
    default: return false;
  }
}

std::string py_float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  // Shortest round-trip digits, then Python's layout rule (repr of float):
  // positional when -4 <= exponent < 16, else scientific with >= 2 exponent digits.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  bool negative = sci[0] == '-';
  if (negative) sci.erase(0, 1);
  size_t e_pos = sci.find('e');
  std::string digits = sci.substr(0, e_pos);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  int exponent = std::stoi(sci.substr(e_pos + 1));
  std::string out = negative ? "-" : "";
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) {
      out += "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
    } else if (static_cast<size_t>(exponent) + 1 >= digits.size()) {
      out += digits + std::string(static_cast<size_t>(exponent) + 1 - digits.size(), '0') + ".0";
    } else {
      out += digits.substr(0, static_cast<size_t>(exponent) + 1) + "." +
             digits.substr(static_cast<size_t>(exponent) + 1);
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  out += exponent < 0 ? "e-" : "e+";
  std::string exp_digits = std::to_string(std::abs(exponent));
  if (exp_digits.size() < 2) exp_digits = "0" + exp_digits;
  return out + exp_digits;
}

std::u32string utf8_decode(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out.push_back(c);
      ++i;
      continue;
    }
    int extra = (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : -1;
    if (extra < 0 || i + static_cast<size_t>(extra) >= s.size()) {
      out.push_back(0xFFFD);  // invalid or truncated sequence
      ++i;
      continue;
    }
    char32_t cp = c & (0x3F >> extra);
    bool ok = true;
    for (int k = 1; k <= extra; ++k) {
      auto cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if ((cc & 0xC0) != 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!ok) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += static_cast<size_t>(extra) + 1;
  }
  return out;
}

std::string utf8_encode(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

bool is_py_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

namespace {

void append_hex(std::string& out, unsigned v, int width) {
  static const char* hex = "0123456789abcdef";
  for (int shift = (width - 1) * 4; shift >= 0; shift -= 4) out.push_back(hex[(v >> shift) & 0xF]);
}

std::string py_string_repr(const std::string& s) {
  bool has_single = s.find('\'') != std::string::npos;
  bool has_double = s.find('"') != std::string::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (char32_t c : utf8_decode(s)) {
    if (c == static_cast<char32_t>(quote) || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || (c >= 0x7F && c < 0xA0)) {
      out += "\\x";
      append_hex(out, static_cast<unsigned>(c), 2);
    } else {
      out += utf8_encode(std::u32string_view(&c, 1));
    }
  }
  out.push_back(quote);
  return out;
}

std::string number_str(const json& j) {
  if (j.is_number_float()) return py_float_repr(j.get<double>());
  return j.dump();
}

void json_string(const std::string& s, bool ensure_ascii, std::string& out) {
  out.push_back('"');
  for (char32_t c : utf8_decode(s)) {
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (c < 0x20 || (ensure_ascii && c > 0x7E)) {
      if (c > 0xFFFF) {
        char32_t v = c - 0x10000;
        out += "\\u";
        append_hex(out, static_cast<unsigned>(0xD800 + (v >> 10)), 4);
        out += "\\u";
        append_hex(out, static_cast<unsigned>(0xDC00 + (v & 0x3FF)), 4);
      } else {
        out += "\\u";
        append_hex(out, static_cast<unsigned>(c), 4);
      }
    } else {
      out += utf8_encode(std::u32string_view(&c, 1));
    }
  }
  out.push_back('"');
}

void json_dump(const json& j, int indent, int level, bool ensure_ascii, bool sort_keys,
               std::string& out) {
  auto newline = [&](int at_level) {
    out.push_back('\n');
    out.append(static_cast<size_t>(indent * at_level), ' ');
  };
  const char* item_sep = indent < 0 ? ", " : ",";
  switch (j.type()) {
    case json::value_t::null: out += "null"; return;
    case json::value_t::boolean: out += j.get<bool>() ? "true" : "false"; return;
    case json::value_t::number_float: {
      double d = j.get<double>();
      if (std::isnan(d)) out += "NaN";
      else if (std::isinf(d)) out += d < 0 ? "-Infinity" : "Infinity";
      else out += py_float_repr(d);
      return;
    }
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: out += j.dump(); return;
    case json::value_t::string: json_string(j.get_ref<const std::string&>(), ensure_ascii, out); return;
    case json::value_t::array: {
      if (j.empty()) {
        out += "[]";
        return;
      }
      out.push_back('[');
      bool first = true;
      for (const auto& item : j) {
        if (!first) out += item_sep;
        first = false;
        if (indent >= 0) newline(level + 1);
        json_dump(item, indent, level + 1, ensure_ascii, sort_keys, out);
      }
      if (indent >= 0) newline(level);
      out.push_back(']');
      return;
    }
    case json::value_t::object: {
      if (j.empty()) {
        out += "{}";
        return;
      }
      std::vector<const std::string*> keys;
      for (const auto& [key, _] : j.items()) keys.push_back(&key);
      if (sort_keys) std::sort(keys.begin(), keys.end(), [](auto* a, auto* b) { return *a < *b; });
      out.push_back('{');
      bool first = true;
      for (const std::string* key : keys) {
        if (!first) out += item_sep;
        first = false;
        if (indent >= 0) newline(level + 1);
        json_string(*key, ensure_ascii, out);
        out += ": ";
        json_dump(j.at(*key), indent, level + 1, ensure_ascii, sort_keys, out);
      }
      if (indent >= 0) newline(level);
      out.push_back('}');
      return;
    }
    default: out += "null"; return;
  }
}

bool numeric(const json& j) { return j.is_number() || j.is_boolean(); }

double as_double(const json& j) {
  return j.is_boolean() ? (j.get<bool>() ? 1.0 : 0.0) : j.get<double>();
}

bool json_equals(const json& a, const json& b) {
  if (numeric(a) && numeric(b)) {
    if (!a.is_number_float() && !b.is_number_float() && !a.is_boolean() && !b.is_boolean()) return a == b;
    return as_double(a) == as_double(b);
  }
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!json_equals(a[i], b[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (const auto& [key, v] : a.items()) {
      auto it = b.find(key);
      if (it == b.end() || !json_equals(v, *it)) return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace

std::string py_repr(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return "None";
    case json::value_t::boolean: return j.get<bool>() ? "True" : "False";
    case json::value_t::string: return py_string_repr(j.get_ref<const std::string&>());
    case json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < j.size(); ++i) {
        if (i) out += ", ";
        out += py_repr(j[i]);
      }
      return out + "]";
    }
    case json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (const auto& [key, v] : j.items()) {
        if (!first) out += ", ";
        first = false;
        out += py_string_repr(key) + ": " + py_repr(v);
      }
      return out + "}";
    }
    default: return number_str(j);
  }
}

std::string py_json_dumps(const json& j, int indent, bool ensure_ascii, bool sort_keys) {
  std::string out;
  json_dump(j, indent, 0, ensure_ascii, sort_keys, out);
  return out;
}

std::string to_str(const value& v) {
  switch (v.k) {
    case value::kind::undefined: return "";
    case value::kind::data:
      return v.data->is_string() ? v.data->get<std::string>() : py_repr(*v.data);
    case value::kind::ns: {
      std::string out = "<Namespace {";
      bool first = true;
      for (const auto& [key, attr] : v.ns->attrs) {
        if (!first) out += ", ";
        first = false;
        out += py_string_repr(key) + ": " + (attr.is_data() ? py_repr(attr.j()) : to_str(attr));
      }
      return out + "}>";
    }
    case value::kind::function: return "<built-in function " + v.name + ">";
    case value::kind::method: return "<built-in method " + v.name + ">";
    case value::kind::macro: return "<Macro>";
  }
  return "";
}

bool equals(const value& a, const value& b) {
  if (a.is_data() && b.is_data()) return json_equals(a.j(), b.j());
  if (a.k != b.k) return false;
  switch (a.k) {
    case value::kind::undefined: return true;
    case value::kind::ns: return a.ns == b.ns;
    case value::kind::macro: return a.macro == b.macro;
    default: return a.name == b.name;
  }
}

bool less_than(const json& a, const json& b) {
  if (numeric(a) && numeric(b)) {
    if (a.is_number_integer() && b.is_number_integer()) {
      if (a.is_number_unsigned() || b.is_number_unsigned()) {
        return a.get<double>() < b.get<double>();
      }
      return a.get<int64_t>() < b.get<int64_t>();
    }
    return as_double(a) < as_double(b);
  }
  if (a.is_string() && b.is_string()) return a.get_ref<const std::string&>() < b.get_ref<const std::string&>();
  if (a.is_array() && b.is_array()) {
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
      if (json_equals(a[i], b[i])) continue;
      return less_than(a[i], b[i]);
    }
    return a.size() < b.size();
  }
  throw std::invalid_argument("'<' not supported between these types");
}

std::string type_name(const value& v) {
  switch (v.k) {
    case value::kind::undefined: return "undefined";
    case value::kind::ns: return "namespace";
    case value::kind::function:
    case value::kind::method: return "function";
    case value::kind::macro: return "macro";
    case value::kind::data: break;
  }
  switch (v.data->type()) {
    case json::value_t::null: return "none";
    case json::value_t::boolean: return "bool";
    case json::value_t::string: return "string";
    case json::value_t::array: return "list";
    case json::value_t::object: return "dict";
    case json::value_t::number_float: return "float";
    default: return "int";
  }
}

}  // namespace troupe::engine::jinja

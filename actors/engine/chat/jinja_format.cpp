#include "actors/engine/chat/jinja_format.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace troupe::engine::jinja {

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
  out += digits[0];
  if (digits.size() > 1) {
    out += '.';
    out.append(digits, 1, std::string::npos);
  }
  out += exponent < 0 ? "e-" : "e+";
  if (std::abs(exponent) < 10) out += '0';
  out += std::to_string(std::abs(exponent));
  return out;
}

namespace {

void append_hex(std::string& out, unsigned v, int width) {
  static const char* hex = "0123456789abcdef";
  for (int shift = (width - 1) * 4; shift >= 0; shift -= 4) out.push_back(hex[(v >> shift) & 0xF]);
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

void json_dump(const json& j, const json_dump_options& o, int level, std::string& out) {
  if (level > max_data_depth) throw std::length_error("data nested too deeply to print");
  const int indent = o.indent;
  const bool ensure_ascii = o.ensure_ascii;
  auto newline = [&](int at_level) {
    out.push_back('\n');
    out.append(static_cast<size_t>(indent * at_level), ' ');
  };
  const std::string item_sep = !o.item_separator.empty() ? o.item_separator : indent < 0 ? ", " : ",";
  const std::string key_sep = !o.key_separator.empty() ? o.key_separator : ": ";
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
        json_dump(item, o, level + 1, out);
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
      if (o.sort_keys) std::sort(keys.begin(), keys.end(), [](auto* a, auto* b) { return *a < *b; });
      out.push_back('{');
      bool first = true;
      for (const std::string* key : keys) {
        if (!first) out += item_sep;
        first = false;
        if (indent >= 0) newline(level + 1);
        json_string(*key, ensure_ascii, out);
        out += key_sep;
        json_dump(j.at(*key), o, level + 1, out);
      }
      if (indent >= 0) newline(level);
      out.push_back('}');
      return;
    }
    default: out += "null"; return;
  }
}

}  // namespace

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

namespace {

std::string py_repr_at(const json& j, int depth) {
  if (depth > max_data_depth) throw std::length_error("data nested too deeply to print");
  switch (j.type()) {
    case json::value_t::null: return "None";
    case json::value_t::boolean: return j.get<bool>() ? "True" : "False";
    case json::value_t::string: return py_string_repr(j.get_ref<const std::string&>());
    case json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < j.size(); ++i) {
        if (i) out += ", ";
        out += py_repr_at(j[i], depth + 1);
      }
      return out + "]";
    }
    case json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (const auto& [key, v] : j.items()) {
        if (!first) out += ", ";
        first = false;
        out += py_string_repr(key) + ": " + py_repr_at(v, depth + 1);
      }
      return out + "}";
    }
    default: return number_str(j);
  }
}

}  // namespace

std::string py_repr(const json& j) { return py_repr_at(j, 0); }

std::string py_json_dumps(const json& j, const json_dump_options& options) {
  std::string out;
  json_dump(j, options, 0, out);
  return out;
}

}  // namespace troupe::engine::jinja

#include "actors/engine/chat/jinja_value.hpp"

#include "actors/engine/chat/jinja_format.hpp"

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

namespace {

bool numeric(const json& j) { return j.is_number() || j.is_boolean(); }

double as_double(const json& j) {
  return j.is_boolean() ? (j.get<bool>() ? 1.0 : 0.0) : j.get<double>();
}

bool json_equals(const json& a, const json& b, int depth = 0) {
  if (depth > max_data_depth) throw std::length_error("data nested too deeply to compare");
  if (numeric(a) && numeric(b)) {
    if (!a.is_number_float() && !b.is_number_float() && !a.is_boolean() && !b.is_boolean()) return a == b;
    return as_double(a) == as_double(b);
  }
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!json_equals(a[i], b[i], depth + 1)) return false;
    }
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (const auto& [key, v] : a.items()) {
      auto it = b.find(key);
      if (it == b.end() || !json_equals(v, *it, depth + 1)) return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace

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
    case value::kind::loop:
      return "<LoopContext " + std::to_string(v.loop->index + 1) + "/" + std::to_string(v.loop->items->size()) + ">";
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
    case value::kind::loop: return a.loop == b.loop;
    default: return a.name == b.name;
  }
}

namespace {

bool less_than_at(const json& a, const json& b, int depth) {
  if (depth > max_data_depth) throw std::length_error("data nested too deeply to compare");
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
      if (json_equals(a[i], b[i], depth + 1)) continue;
      return less_than_at(a[i], b[i], depth + 1);
    }
    return a.size() < b.size();
  }
  throw std::invalid_argument("'<' not supported between these types");
}

}  // namespace

bool less_than(const json& a, const json& b) { return less_than_at(a, b, 0); }

std::string type_name(const value& v) {
  switch (v.k) {
    case value::kind::undefined: return "undefined";
    case value::kind::ns: return "namespace";
    case value::kind::function:
    case value::kind::method: return "function";
    case value::kind::macro: return "macro";
    case value::kind::loop: return "LoopContext";
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

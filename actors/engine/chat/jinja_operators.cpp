#include "actors/engine/chat/jinja_operators.hpp"

#include <cmath>
#include <limits>

#include "actors/engine/chat/jinja_builtins.hpp"
#include "actors/engine/chat/jinja_error.hpp"

namespace troupe::engine::jinja {

void throw_undefined(const value& undefined, size_t offset) {
  throw template_error(offset, undefined.name.empty() ? "undefined value" : undefined.name);
}

namespace {

std::string py_type(const value& v) {
  std::string t = type_name(v);
  if (t == "string") return "str";
  if (t == "none") return "NoneType";
  return t;
}

value missing_attribute(const value& obj, std::string_view name) {
  return value::undefined("'" + py_type(obj) + " object' has no attribute '" + std::string(name) + "'");
}

bool numeric(const value& v) { return v.is_data() && (v.j().is_number() || v.j().is_boolean()); }
bool integral(const value& v) { return v.is_data() && (v.j().is_number_integer() || v.j().is_boolean()); }

int64_t as_int(const value& v) {
  if (v.j().is_boolean()) return v.j().get<bool>() ? 1 : 0;
  return v.j().get<int64_t>();
}
double as_double(const value& v) {
  if (v.j().is_boolean()) return v.j().get<bool>() ? 1.0 : 0.0;
  return v.j().get<double>();
}

[[noreturn]] void unsupported(std::string_view op, const value& a, const value& b, size_t offset) {
  if (a.is_undefined()) throw_undefined(a, offset);
  if (b.is_undefined()) throw_undefined(b, offset);
  throw template_error(offset, "unsupported operand type(s) for " + std::string(op) + ": '" + py_type(a) +
                                   "' and '" + py_type(b) + "'");
}

value repeat(const value& seq, int64_t times, size_t offset) {
  if (times <= 0) return value::of(seq.is_string() ? json("") : json::array());
  size_t unit = seq.is_string() ? seq.j().get_ref<const std::string&>().size() : seq.j().dump().size();
  if (unit != 0 && static_cast<size_t>(times) > max_value_bytes / unit) {
    throw template_error(offset, "repetition result is too large");
  }
  if (seq.is_string()) {
    std::string out;
    for (int64_t i = 0; i < times; ++i) out += seq.j().get_ref<const std::string&>();
    return value::of(std::move(out));
  }
  json out = json::array();
  for (int64_t i = 0; i < times; ++i) {
    for (const auto& item : seq.j()) out.push_back(item);
  }
  return value::of(std::move(out));
}

// Python floor division and modulo: the result takes the divisor's sign.
int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
int64_t floor_mod(int64_t a, int64_t b) {
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

value arithmetic(std::string_view op, const value& a, const value& b, size_t offset) {
  bool ints = integral(a) && integral(b);
  if ((op == "/" || op == "//" || op == "%") && as_double(b) == 0.0) {
    throw template_error(offset, "division by zero");
  }
  if (ints && op != "/") {
    int64_t x = as_int(a);
    int64_t y = as_int(b);
    int64_t r = 0;
    if (op == "+" && !__builtin_add_overflow(x, y, &r)) return value::of(r);
    if (op == "-" && !__builtin_sub_overflow(x, y, &r)) return value::of(r);
    if (op == "*" && !__builtin_mul_overflow(x, y, &r)) return value::of(r);
    if (op == "//" && !(x == std::numeric_limits<int64_t>::min() && y == -1)) return value::of(floor_div(x, y));
    if (op == "%" && y != -1) return value::of(floor_mod(x, y));
    if (op == "%") return value::of(0);
    if (op == "**" && y >= 0) {
      int64_t result = 1;
      bool overflow = false;
      for (int64_t i = 0; i < y && !overflow; ++i) overflow = __builtin_mul_overflow(result, x, &result);
      if (!overflow) return value::of(result);
    }
  }
  double x = as_double(a);
  double y = as_double(b);
  if (op == "+") return value::of(x + y);
  if (op == "-") return value::of(x - y);
  if (op == "*") return value::of(x * y);
  if (op == "/") return value::of(x / y);
  if (op == "//") return value::of(std::floor(x / y));
  if (op == "%") {
    double r = std::fmod(x, y);
    if (r != 0 && ((r < 0) != (y < 0))) r += y;
    return value::of(r);
  }
  return value::of(std::pow(x, y));
}

bool contains(const value& container, const value& item, size_t offset) {
  if (container.is_undefined()) return false;
  if (container.is_string()) {
    if (!item.is_string()) {
      throw template_error(offset, "'in <string>' requires string as left operand, not " + py_type(item));
    }
    return container.j().get_ref<const std::string&>().find(item.j().get_ref<const std::string&>()) != std::string::npos;
  }
  if (container.is_array()) {
    for (const auto& x : container.j()) {
      if (equals(item, value::of(x))) return true;
    }
    return false;
  }
  if (container.is_object()) return item.is_string() && container.j().contains(item.j().get<std::string>());
  if (container.k == value::kind::ns) return item.is_string() && container.ns->find(item.j().get<std::string>());
  throw template_error(offset, "argument of type '" + py_type(container) + "' is not iterable");
}

}  // namespace

value get_attribute(const value& obj, std::string_view name, size_t offset) {
  switch (obj.k) {
    case value::kind::undefined: throw_undefined(obj, offset);
    case value::kind::ns: {
      value* attr = obj.ns->find(name);
      return attr ? *attr : missing_attribute(obj, name);
    }
    case value::kind::data: break;
    default: return missing_attribute(obj, name);
  }
  // Python's getattr first: d.items is the method, d.content the key.
  value method = find_method(obj, name);
  if (method.k == value::kind::method) return method;
  if (obj.is_object()) {
    auto it = obj.j().find(std::string(name));
    if (it != obj.j().end()) return value::alias(obj, *it);
  }
  return missing_attribute(obj, name);
}

value get_item(const value& obj, const value& key, size_t offset) {
  if (obj.is_undefined()) throw_undefined(obj, offset);
  if (obj.is_object() && key.is_string()) {
    auto it = obj.j().find(key.j().get<std::string>());
    if (it != obj.j().end()) return value::alias(obj, *it);
  }
  if ((obj.is_array() || obj.is_string()) && integral(key)) {
    int64_t index = as_int(key);
    if (obj.is_array()) {
      int64_t n = static_cast<int64_t>(obj.j().size());
      if (index < 0) index += n;
      if (index >= 0 && index < n) return value::alias(obj, obj.j()[static_cast<size_t>(index)]);
    } else {
      std::u32string cps = utf8_decode(obj.j().get_ref<const std::string&>());
      int64_t n = static_cast<int64_t>(cps.size());
      if (index < 0) index += n;
      if (index >= 0 && index < n) return value::of(utf8_encode(cps.substr(static_cast<size_t>(index), 1)));
    }
    return value::undefined("index " + std::to_string(as_int(key)) + " is out of range");
  }
  // Jinja's getitem falls back to getattr for string keys.
  if (key.is_string()) return get_attribute(obj, key.j().get<std::string>(), offset);
  return value::undefined("'" + py_type(obj) + " object' has no element " + to_str(key));
}

value slice(const value& target, const value bounds[3], size_t offset) {
  if (target.is_undefined()) throw_undefined(target, offset);
  if (!target.is_array() && !target.is_string()) {
    throw template_error(offset, "'" + py_type(target) + "' object is not subscriptable");
  }
  for (int i = 0; i < 3; ++i) {
    if (!bounds[i].is_undefined() && !bounds[i].is_null() && !integral(bounds[i])) {
      throw template_error(offset, "slice indices must be integers or None");
    }
  }
  auto given = [&](int i) { return !bounds[i].is_undefined() && !bounds[i].is_null(); };
  int64_t step = given(2) ? as_int(bounds[2]) : 1;
  if (step == 0) throw template_error(offset, "slice step cannot be zero");
  std::u32string cps;
  if (target.is_string()) cps = utf8_decode(target.j().get_ref<const std::string&>());
  int64_t n = target.is_string() ? static_cast<int64_t>(cps.size()) : static_cast<int64_t>(target.j().size());
  // CPython's PySlice_AdjustIndices.
  auto adjust = [&](int i, int64_t fallback) {
    if (!given(i)) return fallback;
    int64_t x = as_int(bounds[i]);
    if (x < 0) {
      x += n;
      if (x < 0) x = step < 0 ? -1 : 0;
    } else if (x >= n) {
      x = step < 0 ? n - 1 : n;
    }
    return x;
  };
  int64_t start = adjust(0, step < 0 ? n - 1 : 0);
  int64_t stop = adjust(1, step < 0 ? -1 : n);
  if (target.is_string()) {
    std::u32string out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(cps[static_cast<size_t>(i)]);
    return value::of(utf8_encode(out));
  }
  json out = json::array();
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(target.j()[static_cast<size_t>(i)]);
  return value::of(std::move(out));
}

value unary_minus_plus(std::string_view op, const value& operand, size_t offset) {
  if (!numeric(operand)) {
    if (operand.is_undefined()) throw_undefined(operand, offset);
    throw template_error(offset, "bad operand type for unary " + std::string(op) + ": '" + py_type(operand) + "'");
  }
  if (op == "+") return operand.j().is_boolean() ? value::of(as_int(operand)) : operand;
  if (operand.j().is_number_float()) return value::of(-operand.j().get<double>());
  int64_t x = as_int(operand);
  if (x == std::numeric_limits<int64_t>::min()) return value::of(-static_cast<double>(x));
  return value::of(-x);
}

value binary_op(std::string_view op, const value& a, const value& b, size_t offset) {
  if (op == "~") {
    std::string out = to_str(a) + to_str(b);
    if (out.size() > max_value_bytes) throw template_error(offset, "string is too large");
    return value::of(std::move(out));
  }
  if (numeric(a) && numeric(b)) return arithmetic(op, a, b, offset);
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      const std::string& x = a.j().get_ref<const std::string&>();
      const std::string& y = b.j().get_ref<const std::string&>();
      if (x.size() + y.size() > max_value_bytes) throw template_error(offset, "string is too large");
      return value::of(x + y);
    }
    if (a.is_array() && b.is_array()) {
      json out = a.j();
      for (const auto& item : b.j()) out.push_back(item);
      return value::of(std::move(out));
    }
  }
  if (op == "*") {
    if ((a.is_string() || a.is_array()) && integral(b)) return repeat(a, as_int(b), offset);
    if ((b.is_string() || b.is_array()) && integral(a)) return repeat(b, as_int(a), offset);
  }
  if (op == "%" && a.is_string()) throw template_error(offset, "printf-style '%' string formatting is not supported");
  unsupported(op, a, b, offset);
}

bool compare_op(std::string_view op, const value& a, const value& b, size_t offset) {
  if (op == "==") return equals(a, b);
  if (op == "!=") return !equals(a, b);
  if (op == "in") return contains(b, a, offset);
  if (op == "not in") return !contains(b, a, offset);
  if (!a.is_data() || !b.is_data()) unsupported(op, a, b, offset);
  try {
    if (op == "<") return less_than(a.j(), b.j());
    if (op == ">") return less_than(b.j(), a.j());
    if (op == "<=") return !less_than(b.j(), a.j());
    if (op == ">=") return !less_than(a.j(), b.j());
  } catch (const std::invalid_argument&) {
    throw template_error(offset, "'" + std::string(op) + "' not supported between instances of '" + py_type(a) +
                                     "' and '" + py_type(b) + "'");
  }
  throw template_error(offset, "unknown comparison " + std::string(op));
}

}  // namespace troupe::engine::jinja

// Python methods of str and dict reachable from templates, and the global
// functions Hugging Face provides (raise_exception, strftime_now) next to
// Jinja's (namespace, range, dict).
#include <algorithm>
#include <array>
#include <ctime>

#include "actors/engine/chat/jinja_builtins.hpp"
#include "actors/engine/chat/jinja_error.hpp"
#include "actors/engine/chat/jinja_strings.hpp"

namespace troupe::engine::jinja {

namespace {

constexpr std::array string_methods = {
    "capitalize", "count", "endswith", "find",  "isalnum", "isalpha", "isdigit",    "islower",
    "isspace",    "isupper", "join",   "lower", "lstrip",  "replace", "rfind",      "rsplit",
    "rstrip",     "split", "splitlines", "startswith", "strip", "title", "upper",
};
constexpr std::array dict_methods = {"get", "items", "keys", "values"};
constexpr std::array global_functions = {"namespace", "range", "dict", "raise_exception", "strftime_now"};

template <size_t N>
bool contains(const std::array<const char*, N>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

[[noreturn]] void fail(const call_args& args, const std::string& message) {
  throw template_error(args.offset, message);
}

const std::string* optional_string(const call_args& args, size_t index, const char* name) {
  const value* v = args.get(index, name);
  if (!v || v->is_null()) return nullptr;
  if (!v->is_string()) fail(args, std::string(name) + " must be a string or None");
  return &v->j().get_ref<const std::string&>();
}

int64_t optional_int(const call_args& args, size_t index, const char* name, int64_t fallback) {
  const value* v = args.get(index, name);
  if (!v) return fallback;
  if (!v->is_data() || !v->j().is_number_integer()) fail(args, std::string(name) + " must be an integer");
  return v->j().get<int64_t>();
}

const std::string& required_string(const call_args& args, size_t index, const char* name) {
  const std::string* s = optional_string(args, index, name);
  if (!s) fail(args, std::string("missing string argument ") + name);
  return *s;
}

json string_list(const std::vector<std::string>& parts) {
  json out = json::array();
  for (const auto& p : parts) out.push_back(p);
  return out;
}

bool all_code_points(const std::string& s, bool (*pred)(char32_t)) {
  std::u32string cps = utf8_decode(s);
  return !cps.empty() && std::all_of(cps.begin(), cps.end(), pred);
}

value call_string_method(const std::string& s, std::string_view name, const call_args& args) {
  if (name == "startswith" || name == "endswith") {
    const value* affix = args.get(0, "prefix");
    if (!affix) fail(args, std::string(name) + "() takes one argument");
    auto matches = [&](const json& a) {
      if (!a.is_string()) fail(args, std::string(name) + "() argument must be a string or a tuple of strings");
      const std::string& x = a.get_ref<const std::string&>();
      if (x.size() > s.size()) return false;
      return name == "startswith" ? s.compare(0, x.size(), x) == 0 : s.compare(s.size() - x.size(), x.size(), x) == 0;
    };
    if (affix->is_array()) {
      for (const auto& a : affix->j()) {
        if (matches(a)) return value::of(true);
      }
      return value::of(false);
    }
    if (!affix->is_data()) fail(args, std::string(name) + "() argument must be a string");
    return value::of(matches(affix->j()));
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    const std::string* chars = optional_string(args, 0, "chars");
    return value::of(py_strip(s, chars, name != "rstrip", name != "lstrip"));
  }
  if (name == "split" || name == "rsplit") {
    const std::string* sep = optional_string(args, 0, "sep");
    int64_t max_splits = optional_int(args, 1, "maxsplit", -1);
    try {
      return value::of(string_list(name == "split" ? py_split(s, sep, max_splits) : py_rsplit(s, sep, max_splits)));
    } catch (const std::invalid_argument& e) {
      fail(args, e.what());
    }
  }
  if (name == "splitlines") return value::of(string_list(py_splitlines(s)));
  if (name == "upper") return value::of(py_upper(s));
  if (name == "lower") return value::of(py_lower(s));
  if (name == "title") return value::of(py_title(s));
  if (name == "capitalize") return value::of(py_capitalize(s));
  if (name == "replace") {
    const std::string& old = required_string(args, 0, "old");
    const std::string& with = required_string(args, 1, "new");
    return value::of(py_replace(s, old, with, optional_int(args, 2, "count", -1)));
  }
  if (name == "find" || name == "rfind") return value::of(py_find(s, required_string(args, 0, "sub"), name == "rfind"));
  if (name == "count") return value::of(py_count(s, required_string(args, 0, "sub")));
  if (name == "join") {
    const value* items = args.get(0, "iterable");
    if (!items || !items->is_array()) fail(args, "join() needs a list of strings");
    std::string out;
    bool first = true;
    for (const auto& item : items->j()) {
      if (!item.is_string()) fail(args, "join(): sequence item is not a string");
      if (!first) out += s;
      first = false;
      out += item.get_ref<const std::string&>();
    }
    return value::of(std::move(out));
  }
  if (name == "isdigit") return value::of(all_code_points(s, [](char32_t c) { return c >= '0' && c <= '9'; }));
  if (name == "isalpha") {
    return value::of(all_code_points(s, [](char32_t c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }));
  }
  if (name == "isalnum") {
    return value::of(all_code_points(s, [](char32_t c) { return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9'); }));
  }
  if (name == "isspace") return value::of(all_code_points(s, is_py_space));
  bool has_cased = std::any_of(s.begin(), s.end(), [](char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; });
  if (name == "islower") return value::of(has_cased && py_lower(s) == s);
  if (name == "isupper") return value::of(has_cased && py_upper(s) == s);
  fail(args, "str has no method '" + std::string(name) + "'");
}

value call_dict_method(const value& dict, std::string_view name, const call_args& args) {
  const json& d = dict.j();
  if (name == "get") {
    const value* key = args.get(0, "key");
    if (!key) fail(args, "get() needs a key");
    if (key->is_string()) {
      auto it = d.find(key->j().get<std::string>());
      if (it != d.end()) return value::alias(dict, *it);
    }
    const value* fallback = args.get(1, "default");
    return fallback ? *fallback : value::of(nullptr);
  }
  json out = json::array();
  for (const auto& [key, item] : d.items()) {
    if (name == "items") out.push_back(json::array({key, item}));
    else if (name == "keys") out.push_back(key);
    else out.push_back(item);
  }
  return value::of(std::move(out));
}

std::string strftime_now(const std::string& format) {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  std::string out(256, '\0');
  size_t n = std::strftime(out.data(), out.size(), format.c_str(), &local);
  out.resize(n);
  return out;
}

}  // namespace

value find_method(const value& obj, std::string_view name) {
  if (obj.is_string() && contains(string_methods, name)) return value::method(obj, std::string(name));
  if (obj.is_object() && contains(dict_methods, name)) return value::method(obj, std::string(name));
  return value::undefined(std::string(name));
}

value call_method(const value& method, const call_args& args) {
  const value& receiver = *method.receiver;
  if (receiver.is_string()) return call_string_method(receiver.j().get_ref<const std::string&>(), method.name, args);
  if (receiver.is_object()) return call_dict_method(receiver, method.name, args);
  fail(args, "'" + type_name(receiver) + "' object has no method '" + method.name + "'");
}

bool is_global_function(std::string_view name) { return contains(global_functions, name); }

value call_global(std::string_view name, const call_args& args) {
  if (name == "raise_exception") {
    const value* message = args.get(0, "message");
    fail(args, "template raised an exception: " + (message ? to_str(*message) : std::string()));
  }
  if (name == "namespace") {
    value ns;
    ns.k = value::kind::ns;
    ns.ns = std::make_shared<namespace_object>();
    for (const auto& initial : args.positional) {
      if (!initial.is_object()) fail(args, "namespace() takes a dict or keyword arguments");
      for (const auto& [key, item] : initial.j().items()) ns.ns->attrs.emplace_back(key, value::alias(initial, item));
    }
    for (const auto& [key, item] : args.keywords) {
      if (value* existing = ns.ns->find(key)) *existing = item;
      else ns.ns->attrs.emplace_back(key, item);
    }
    return ns;
  }
  if (name == "dict") {
    json out = json::object();
    for (const auto& [key, item] : args.keywords) {
      if (!item.is_data()) fail(args, "dict() values must be data");
      out[key] = item.j();
    }
    return value::of(std::move(out));
  }
  if (name == "range") {
    auto int_at = [&](size_t i) {
      if (!args.positional[i].is_data() || !args.positional[i].j().is_number_integer()) fail(args, "range() needs integers");
      return args.positional[i].j().get<int64_t>();
    };
    size_t n = args.positional.size();
    if (n < 1 || n > 3) fail(args, "range() takes 1 to 3 arguments");
    int64_t start = n == 1 ? 0 : int_at(0);
    int64_t stop = n == 1 ? int_at(0) : int_at(1);
    int64_t step = n == 3 ? int_at(2) : 1;
    if (step == 0) fail(args, "range() step must not be zero");
    json out = json::array();
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
      if (out.size() >= max_range_items) fail(args, "range() is too long");
      out.push_back(i);
    }
    return value::of(std::move(out));
  }
  if (name == "strftime_now") return value::of(strftime_now(required_string(args, 0, "format")));
  fail(args, "'" + std::string(name) + "' is not a function");
}

}  // namespace troupe::engine::jinja

#include "actors/engine/structured/json_schema_regex.hpp"

#include <set>

#include "actors/engine/structured/byte_regex.hpp"

namespace troupe::engine::structured {
namespace {

using ojson = nlohmann::ordered_json;

// One character of a JSON string: unescaped (no quote, backslash or control
// byte), or an escape.
const char* const kStringChar =
    R"((?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4}))";
const char* const kInteger = R"(-?(?:0|[1-9][0-9]{0,14}))";
const char* const kNonNegativeInteger = R"((?:0|[1-9][0-9]{0,14}))";
const char* const kFraction = R"((?:\.[0-9]{1,15})?(?:[eE][+-]?[0-9]{1,2})?)";
// The most integers an enumerated range may hold.
constexpr int64_t kMaxEnumeratedRange = 2000;

std::string free_string() { return std::string("\"") + kStringChar + "*\""; }

std::string free_value(int depth) {
  std::string scalar = free_string() + "|" + kInteger + kFraction + "|true|false|null";
  if (depth <= 0) return "(?:" + scalar + ")";
  const std::string inner = free_value(depth - 1);
  const std::string member = free_string() + ":" + inner;
  return "(?:" + scalar + "|\\{(?:" + member + "(?:," + member + ")*)?\\}|\\[(?:" + inner +
         "(?:," + inner + ")*)?\\])";
}

std::string literal(const ojson& v) { return regex_escape(v.dump()); }

class converter {
 public:
  converter(const ojson& root, int max_free_depth) : root_(root), free_depth_(max_free_depth) {}

  std::optional<schema_error> error;

  std::string convert(const ojson& s, const std::string& path) {
    if (error) return {};
    if (s.is_boolean()) {
      if (s.get<bool>()) return free_value(free_depth_);
      fail("the schema 'false' matches nothing", path);
      return {};
    }
    if (!s.is_object()) {
      fail("a schema must be an object", path);
      return {};
    }
    static const std::set<std::string> known = {
        "type", "properties", "required", "additionalProperties", "items", "minItems",
        "maxItems", "enum", "const", "pattern", "minLength", "maxLength", "format", "minimum",
        "maximum", "exclusiveMinimum", "exclusiveMaximum", "anyOf", "allOf", "$ref", "$defs",
        "definitions", "title", "description", "default", "examples", "$schema", "$id",
        "strict", "nullable"};
    for (auto it = s.begin(); it != s.end(); ++it)
      if (!known.count(it.key())) {
        fail("the JSON-schema keyword '" + it.key() + "' is not supported for structured output",
             join(path, it.key()));
        return {};
      }
    if (auto r = s.find("$ref"); r != s.end()) return ref(*r, join(path, "$ref"));
    if (auto e = s.find("enum"); e != s.end()) return enumeration(*e, join(path, "enum"));
    if (auto c = s.find("const"); c != s.end()) return literal(*c);
    if (auto a = s.find("anyOf"); a != s.end()) return any_of(*a, join(path, "anyOf"));
    if (auto a = s.find("allOf"); a != s.end()) {
      if (!a->is_array() || a->size() != 1) {
        fail("'allOf' is supported only with a single schema", join(path, "allOf"));
        return {};
      }
      return convert((*a)[0], join(path, "allOf[0]"));
    }
    auto t = s.find("type");
    if (t == s.end()) {
      if (s.contains("properties") || s.contains("additionalProperties")) return object(s, path);
      if (s.contains("items")) return array(s, path);
      return free_value(free_depth_);
    }
    if (t->is_array()) {
      std::string out;
      for (size_t i = 0; i < t->size(); ++i) {
        if (!(*t)[i].is_string()) {
          fail("'type' entries must be strings", join(path, "type"));
          return {};
        }
        out += (i ? "|" : "") + typed(s, (*t)[i].get<std::string>(), path);
      }
      if (s.value("nullable", false)) out += "|null";
      return "(?:" + out + ")";
    }
    if (!t->is_string()) {
      fail("'type' must be a string or a list of strings", join(path, "type"));
      return {};
    }
    std::string one = typed(s, t->get<std::string>(), path);
    if (s.value("nullable", false)) return "(?:" + one + "|null)";
    return one;
  }

 private:
  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }
  void fail(std::string message, std::string where) {
    if (!error) error = schema_error{std::move(message), std::move(where)};
  }
  void refuse_keys(const ojson& s, std::initializer_list<const char*> keys, const std::string& type,
                   const std::string& path) {
    for (const char* k : keys)
      if (s.contains(k)) fail("'" + std::string(k) + "' is not supported for type '" + type + "'",
                              join(path, k));
  }

  std::string typed(const ojson& s, const std::string& type, const std::string& path) {
    if (type == "object") return object(s, path);
    if (type == "array") return array(s, path);
    if (type == "string") return string(s, path);
    if (type == "integer") return integer(s, path);
    if (type == "number") return number(s, path);
    if (type == "boolean") return "(?:true|false)";
    if (type == "null") return "null";
    fail("unknown type '" + type + "'", join(path, "type"));
    return {};
  }

  std::string ref(const ojson& r, const std::string& path) {
    if (!r.is_string()) {
      fail("'$ref' must be a string", path);
      return {};
    }
    const std::string target = r.get<std::string>();
    std::string section, name;
    for (const char* prefix : {"#/$defs/", "#/definitions/"}) {
      if (target.rfind(prefix, 0) == 0) {
        section = std::string(prefix).substr(2, std::string(prefix).size() - 3);
        name = target.substr(std::string(prefix).size());
      }
    }
    if (target == "#") {
      fail("recursive '$ref' is not supported", path);
      return {};
    }
    if (section.empty() || !root_.contains(section) || !root_[section].contains(name)) {
      fail("'$ref' must point into #/$defs or #/definitions of this schema; '" + target +
               "' does not resolve",
           path);
      return {};
    }
    if (active_refs_.count(target)) {
      fail("recursive '$ref' ('" + target + "') is not supported", path);
      return {};
    }
    active_refs_.insert(target);
    std::string out = convert(root_[section][name], section + "." + name);
    active_refs_.erase(target);
    return out;
  }

  std::string enumeration(const ojson& e, const std::string& path) {
    if (!e.is_array() || e.empty()) {
      fail("'enum' must be a non-empty array", path);
      return {};
    }
    std::string out = "(?:";
    for (size_t i = 0; i < e.size(); ++i) out += (i ? "|" : "") + literal(e[i]);
    return out + ")";
  }

  std::string any_of(const ojson& a, const std::string& path) {
    if (!a.is_array() || a.empty()) {
      fail("'anyOf' must be a non-empty array", path);
      return {};
    }
    std::string out = "(?:";
    for (size_t i = 0; i < a.size(); ++i)
      out += (i ? "|" : "") + convert(a[i], path + "[" + std::to_string(i) + "]");
    return out + ")";
  }

  bool count(const ojson& s, const char* key, const std::string& path, int64_t* out) {
    auto it = s.find(key);
    if (it == s.end()) return false;
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 1000) {
      fail(std::string("'") + key + "' must be an integer in [0, 1000]", join(path, key));
      return false;
    }
    *out = it->get<int64_t>();
    return true;
  }

  // `item` repeated between lo and hi times (hi < 0: unbounded), comma-separated.
  static std::string separated(const std::string& item, int64_t lo, int64_t hi) {
    if (hi == 0) return "";
    const std::string more_lo = std::to_string(lo > 0 ? lo - 1 : 0);
    const std::string more_hi = hi < 0 ? "" : std::to_string(hi - 1);
    std::string list = item + "(?:," + item + "){" + more_lo + "," + more_hi + "}";
    return lo == 0 ? "(?:" + list + ")?" : list;
  }

  std::string object(const ojson& s, const std::string& path) {
    refuse_keys(s, {"minProperties", "maxProperties", "patternProperties"}, "object", path);
    auto props = s.find("properties");
    std::vector<std::string> names, values;
    std::set<std::string> required;
    if (auto r = s.find("required"); r != s.end()) {
      if (!r->is_array()) {
        fail("'required' must be an array of names", join(path, "required"));
        return {};
      }
      for (const auto& n : *r) {
        if (!n.is_string()) {
          fail("'required' must be an array of names", join(path, "required"));
          return {};
        }
        if (props == s.end() || !props->is_object() || !props->contains(n.get<std::string>())) {
          fail("required property '" + n.get<std::string>() + "' is not in 'properties'",
               join(path, "required"));
          return {};
        }
        required.insert(n.get<std::string>());
      }
    }
    if (props != s.end()) {
      if (!props->is_object()) {
        fail("'properties' must be an object", join(path, "properties"));
        return {};
      }
      for (auto it = props->begin(); it != props->end(); ++it) {
        names.push_back(it.key());
        values.push_back(regex_escape(ojson(it.key()).dump()) + ":" +
                         convert(it.value(), join(join(path, "properties"), it.key())));
      }
    } else if (auto ap = s.find("additionalProperties");
               ap != s.end() && !(ap->is_boolean() && !ap->get<bool>())) {
      // A map: free keys, each value of the additionalProperties schema.
      const std::string v = ap->is_boolean() ? free_value(free_depth_ - 1)
                                              : convert(*ap, join(path, "additionalProperties"));
      const std::string member = free_string() + ":" + v;
      return "\\{(?:" + member + "(?:," + member + ")*)?\\}";
    } else if (props == s.end()) {
      return "\\{(?:" + free_string() + ":" + free_value(free_depth_ - 1) + "(?:," +
             free_string() + ":" + free_value(free_depth_ - 1) + ")*)?\\}";
    }
    if (error) return {};
    // first(i): properties i.. when none has been written yet; rest(i): after
    // at least one (each written one is preceded by a comma).
    const size_t n = names.size();
    std::vector<std::string> rest(n + 1), first(n + 1);
    for (size_t i = n; i-- > 0;) {
      const bool req = required.count(names[i]) > 0;
      rest[i] = (req ? "," + values[i] : "(?:," + values[i] + ")?") + rest[i + 1];
      first[i] = req ? values[i] + rest[i + 1]
                     : "(?:" + values[i] + rest[i + 1] + (first[i + 1].empty() && i + 1 == n
                                                              ? ")?"
                                                              : "|" + first[i + 1] + ")");
    }
    // first[n] is "nothing written": the empty object body.
    return "\\{" + first[0] + "\\}";
  }

  std::string array(const ojson& s, const std::string& path) {
    refuse_keys(s, {"uniqueItems", "contains", "prefixItems"}, "array", path);
    int64_t lo = 0, hi = -1;
    count(s, "minItems", path, &lo);
    count(s, "maxItems", path, &hi);
    if (hi >= 0 && hi < lo) fail("'maxItems' is below 'minItems'", join(path, "maxItems"));
    auto items = s.find("items");
    const std::string item = items == s.end() ? free_value(free_depth_ - 1)
                                              : convert(*items, join(path, "items"));
    if (error) return {};
    return "\\[" + separated(item, lo, hi) + "\\]";
  }

  // A JSON-schema `pattern` inside a JSON string: the decoded string must
  // match, so the generated characters may not need escaping: `.`, negated
  // classes and \D \W \S exclude quote, backslash and control bytes, `\s`
  // becomes a space; a quote, backslash or control character the pattern
  // itself requires is refused.
  std::string string_pattern(const std::string& p, const std::string& path) {
    std::string body = p;
    bool anchored_start = false, anchored_end = false;
    if (!body.empty() && body[0] == '^') {
      anchored_start = true;
      body.erase(0, 1);
    }
    if (body.size() >= 1 && body.back() == '$' &&
        (body.size() < 2 || body[body.size() - 2] != '\\')) {
      anchored_end = true;
      body.pop_back();
    }
    const std::string no_escape = R"("\\\x00-\x1f)";
    std::string out;
    bool in_class = false;
    for (size_t i = 0; i < body.size(); ++i) {
      const char c = body[i];
      if (c == '\\' && i + 1 < body.size()) {
        const char e = body[++i];
        if (e == 's') out += in_class ? " " : "[ ]";
        else if (e == 'S' || e == 'D' || e == 'W')
          out += in_class ? std::string("\\") + e
                          : std::string("[^") + (e == 'S' ? " \\t\\n\\r\\f\\v" : e == 'D' ? "0-9"
                                                                                         : "A-Za-z0-9_") +
                                no_escape + "]";
        else if (e == '"' || e == '\\' || e == 'n' || e == 't' || e == 'r' || e == 'f' ||
                 e == 'v' || e == '0' || e == 'x' || e == 'u') {
          fail("'pattern' characters that JSON must escape (quote, backslash, control) are not "
               "supported",
               join(path, "pattern"));
          return {};
        } else {
          out += '\\';
          out += e;
        }
        continue;
      }
      if (in_class) {
        if (c == ']') in_class = false;
        if (c == '"') {
          fail("'pattern' characters that JSON must escape are not supported", join(path, "pattern"));
          return {};
        }
        if (c == ']' && out.size() >= 1) out += "";
        out += c;
        continue;
      }
      if (c == '[') {
        in_class = true;
        out += c;
        if (i + 1 < body.size() && body[i + 1] == '^') {
          out += '^';
          out += no_escape;
          ++i;
        }
        continue;
      }
      if (c == '.') {
        out += std::string("[^") + no_escape + "]";
        continue;
      }
      if (c == '"') {
        fail("'pattern' characters that JSON must escape are not supported", join(path, "pattern"));
        return {};
      }
      out += c;
    }
    const std::string any = std::string("[^") + no_escape + "]*";
    std::string err;
    const std::string full = (anchored_start ? "" : any) + "(?:" + out + ")" + (anchored_end ? "" : any);
    if (!compile_regex(full, &err)) {
      fail("'pattern' is not supported: " + err, join(path, "pattern"));
      return {};
    }
    return "\"" + full + "\"";
  }

  std::string string(const ojson& s, const std::string& path) {
    if (auto f = s.find("format"); f != s.end()) {
      const std::string fmt = f->is_string() ? f->get<std::string>() : "";
      const std::string d = "[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])";
      const std::string t = "(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,6})?";
      const std::string z = "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])";
      if (fmt == "date") return "\"" + d + "\"";
      if (fmt == "time") return "\"" + t + z + "\"";
      if (fmt == "date-time") return "\"" + d + "T" + t + z + "\"";
      if (fmt == "uuid")
        return "\"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\"";
      fail("string format '" + fmt + "' is not supported (date, time, date-time, uuid are)",
           join(path, "format"));
      return {};
    }
    if (auto p = s.find("pattern"); p != s.end()) {
      if (!p->is_string()) {
        fail("'pattern' must be a string", join(path, "pattern"));
        return {};
      }
      if (s.contains("minLength") || s.contains("maxLength")) {
        fail("'pattern' together with 'minLength'/'maxLength' is not supported",
             join(path, "minLength"));
        return {};
      }
      return string_pattern(p->get<std::string>(), path);
    }
    int64_t lo = 0, hi = -1;
    count(s, "minLength", path, &lo);
    count(s, "maxLength", path, &hi);
    if (hi >= 0 && hi < lo) fail("'maxLength' is below 'minLength'", join(path, "maxLength"));
    if (lo == 0 && hi < 0) return free_string();
    return std::string("\"") + kStringChar + "{" + std::to_string(lo) + "," +
           (hi < 0 ? "" : std::to_string(hi)) + "}\"";
  }

  bool bound(const ojson& s, const char* key, const std::string& path, double* out) {
    auto it = s.find(key);
    if (it == s.end()) return false;
    if (!it->is_number()) {
      fail(std::string("'") + key + "' must be a number", join(path, key));
      return false;
    }
    *out = it->get<double>();
    return true;
  }

  std::string integer(const ojson& s, const std::string& path) {
    double lo = 0, hi = 0, xlo = 0, xhi = 0;
    const bool has_lo = bound(s, "minimum", path, &lo), has_hi = bound(s, "maximum", path, &hi);
    const bool has_xlo = bound(s, "exclusiveMinimum", path, &xlo),
               has_xhi = bound(s, "exclusiveMaximum", path, &xhi);
    int64_t min = INT64_MIN, max = INT64_MAX;
    if (has_lo) min = static_cast<int64_t>(std::ceil(lo));
    if (has_xlo) min = std::max(min, static_cast<int64_t>(std::floor(xlo)) + 1);
    if (has_hi) max = static_cast<int64_t>(std::floor(hi));
    if (has_xhi) max = std::min(max, static_cast<int64_t>(std::ceil(xhi)) - 1);
    if (error) return {};
    if (min == INT64_MIN && max == INT64_MAX) return kInteger;
    if (max == INT64_MAX && min == 0) return kNonNegativeInteger;
    if (max == INT64_MAX && min == 1) return "[1-9][0-9]{0,14}";
    if (min != INT64_MIN && max != INT64_MAX && max >= min && max - min < kMaxEnumeratedRange) {
      std::string out = "(?:";
      for (int64_t v = min; v <= max; ++v) out += (v == min ? "" : "|") + regex_escape(std::to_string(v));
      return out + ")";
    }
    if (max < min) {
      fail("the integer range is empty", join(path, "maximum"));
      return {};
    }
    fail("integer bounds are supported as minimum 0 or 1 alone, or a range of fewer than " +
             std::to_string(kMaxEnumeratedRange) + " values",
         join(path, has_hi ? "maximum" : "minimum"));
    return {};
  }

  std::string number(const ojson& s, const std::string& path) {
    double lo = 0;
    if (s.contains("maximum") || s.contains("exclusiveMaximum")) {
      fail("'maximum' is not supported for numbers", join(path, s.contains("maximum") ? "maximum"
                                                                                       : "exclusiveMaximum"));
      return {};
    }
    if (s.contains("exclusiveMinimum")) {
      fail("'exclusiveMinimum' is not supported for numbers", join(path, "exclusiveMinimum"));
      return {};
    }
    if (bound(s, "minimum", path, &lo)) {
      if (lo != 0) {
        fail("number 'minimum' is supported only as 0", join(path, "minimum"));
        return {};
      }
      return std::string(kNonNegativeInteger) + kFraction;
    }
    return std::string(kInteger) + kFraction;
  }

  const ojson& root_;
  int free_depth_;
  std::set<std::string> active_refs_;
};

}  // namespace

schema_regex_result json_schema_to_regex(const nlohmann::ordered_json& schema, int max_free_depth) {
  converter c(schema, max_free_depth);
  schema_regex_result out;
  out.regex = c.convert(schema, "");
  out.error = c.error;
  return out;
}

std::string json_object_regex(int max_free_depth) {
  const std::string v = free_value(max_free_depth - 1);
  const std::string member = free_string() + ":" + v;
  return "\\{(?:" + member + "(?:," + member + ")*)?\\}";
}

std::string choice_regex(const std::vector<std::string>& choices) {
  std::string out = "(?:";
  for (size_t i = 0; i < choices.size(); ++i) out += (i ? "|" : "") + regex_escape(choices[i]);
  return out + ")";
}

}  // namespace troupe::engine::structured

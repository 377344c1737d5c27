#include "actors/engine/chat/tool_calls.hpp"

#include <nlohmann/json.hpp>

#include "actors/engine/structured/byte_regex.hpp"

namespace troupe::engine {
namespace {

using json = nlohmann::json;

std::string_view trim(std::string_view s) {
  const auto ws = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

// {"name": string, <args_key>: object (or a JSON string holding one)} → call.
std::optional<parsed_tool_call> call_of(const json& j, std::initializer_list<const char*> arg_keys) {
  if (!j.is_object()) return std::nullopt;
  auto name = j.find("name");
  if (name == j.end() || !name->is_string() || name->get<std::string>().empty()) return std::nullopt;
  parsed_tool_call c;
  c.name = name->get<std::string>();
  c.arguments_json = "{}";
  for (const char* key : arg_keys) {
    auto a = j.find(key);
    if (a == j.end()) continue;
    if (a->is_object()) c.arguments_json = a->dump();
    else if (a->is_string()) c.arguments_json = a->get<std::string>();
    else return std::nullopt;
    break;
  }
  return c;
}

tool_call_parse hermes(std::string_view text) {
  tool_call_parse out;
  static constexpr std::string_view open = "<tool_call>", close = "</tool_call>";
  const size_t first = text.find(open);
  if (first == std::string_view::npos) {
    out.content = std::string(text);
    return out;
  }
  size_t at = first;
  while (at != std::string_view::npos) {
    const size_t body = at + open.size();
    size_t end = text.find(close, body);
    const std::string_view inner = trim(text.substr(body, end == std::string_view::npos ? text.npos : end - body));
    const json j = json::parse(inner, nullptr, false);
    auto call = j.is_discarded() ? std::nullopt : call_of(j, {"arguments", "parameters"});
    if (!call) {  // not a call after all: all of it is content
      out.calls.clear();
      out.content = std::string(text);
      return out;
    }
    out.calls.push_back(std::move(*call));
    if (end == std::string_view::npos) break;
    at = text.find(open, end + close.size());
  }
  const std::string_view before = trim(text.substr(0, first));
  if (!before.empty()) out.content = std::string(before);
  return out;
}

tool_call_parse llama3_json(std::string_view text) {
  tool_call_parse out;
  std::string_view t = trim(text);
  static constexpr std::string_view tag = "<|python_tag|>";
  if (t.substr(0, tag.size()) == tag) t = trim(t.substr(tag.size()));
  if (!t.empty() && t.front() == '{') {
    // One object, or several separated by ';'.
    std::vector<parsed_tool_call> calls;
    bool ok = true;
    size_t start = 0;
    while (ok && start < t.size()) {
      size_t end = t.find(';', start);
      // A ';' inside a string would split wrongly: try the longest parse first.
      json j = json::parse(t.substr(start), nullptr, false);
      std::string_view piece = t.substr(start);
      if (j.is_discarded() && end != std::string_view::npos) {
        piece = t.substr(start, end - start);
        j = json::parse(piece, nullptr, false);
      } else {
        end = std::string_view::npos;
      }
      auto call = j.is_discarded() ? std::nullopt : call_of(j, {"parameters", "arguments"});
      if (!call) ok = false;
      else calls.push_back(std::move(*call));
      start = end == std::string_view::npos ? t.size() : end + 1;
      while (start < t.size() && (t[start] == ' ' || t[start] == '\n')) ++start;
    }
    if (ok && !calls.empty()) {
      out.calls = std::move(calls);
      return out;
    }
  }
  out.content = std::string(text);
  return out;
}

tool_call_parse mistral(std::string_view text) {
  tool_call_parse out;
  std::string_view t = trim(text);
  static constexpr std::string_view marker = "[TOOL_CALLS]";
  const size_t m = t.find(marker);
  std::string_view before;
  if (m != std::string_view::npos) {
    before = trim(t.substr(0, m));
    t = trim(t.substr(m + marker.size()));
  }
  if (!t.empty() && t.front() == '[') {
    const json j = json::parse(t, nullptr, false);
    if (j.is_array() && !j.empty()) {
      std::vector<parsed_tool_call> calls;
      for (const json& c : j) {
        auto call = call_of(c, {"arguments", "parameters"});
        if (!call) {
          calls.clear();
          break;
        }
        calls.push_back(std::move(*call));
      }
      if (!calls.empty()) {
        out.calls = std::move(calls);
        if (!before.empty()) out.content = std::string(before);
        return out;
      }
    }
  }
  out.content = std::string(text);
  return out;
}

std::string call_regex(tool_call_format f, const std::vector<tool_call_pattern>& functions) {
  std::string alts;
  const char* args_key = f == tool_call_format::llama3_json ? "parameters" : "arguments";
  for (size_t i = 0; i < functions.size(); ++i) {
    alts += (i ? "|" : "");
    alts += "\\{\"name\": \"" + structured::regex_escape(functions[i].name) + "\", \"" + args_key +
            "\": " + functions[i].arguments_regex + "\\}";
  }
  return "(?:" + alts + ")";
}

}  // namespace

const char* to_string(tool_call_format f) {
  switch (f) {
    case tool_call_format::hermes: return "hermes";
    case tool_call_format::mistral: return "mistral";
    default: return "llama3_json";
  }
}

tool_call_format detect_tool_call_format(std::string_view src) {
  if (src.find("<tool_call>") != std::string_view::npos) return tool_call_format::hermes;
  if (src.find("[TOOL_CALLS]") != std::string_view::npos) return tool_call_format::mistral;
  return tool_call_format::llama3_json;
}

tool_call_parse parse_tool_calls(tool_call_format f, std::string_view text) {
  switch (f) {
    case tool_call_format::hermes: return hermes(text);
    case tool_call_format::mistral: return mistral(text);
    default: return llama3_json(text);
  }
}

std::string tool_call_regex(tool_call_format f, const std::vector<tool_call_pattern>& functions,
                            bool parallel) {
  const std::string call = call_regex(f, functions);
  switch (f) {
    case tool_call_format::hermes: {
      const std::string one = "<tool_call>\n" + call + "\n</tool_call>";
      return parallel ? one + "(?:\n" + one + ")*" : one;
    }
    case tool_call_format::mistral:
      return "\\[" + call + (parallel ? "(?:, " + call + ")*" : "") + "\\]";
    default:
      return parallel ? call + "(?:; " + call + ")*" : call;
  }
}

}  // namespace troupe::engine

#pragma once
// The tool-calling fields of a chat request: `tools`, `tool_choice`,
// `parallel_tool_calls`, and tool calls in the history; validated here, so
// that a malformed definition is a 400 naming its place.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/errors.hpp"

namespace troupe::net {

struct tool_function {
  std::string name;
  nlohmann::ordered_json parameters;  // a JSON schema; {} when not given
};

struct tool_request {
  std::vector<tool_function> tools;
  std::string tools_json;            // the `tools` array as given (for the template)
  std::string choice = "auto";       // "none" | "auto" | "required" | "function"
  std::string forced_name;           // choice == "function"
  bool parallel = true;

  // Tools are offered to the model and its output read for calls.
  bool active() const { return !tools.empty() && choice != "none"; }
  // The output must be a call (decoding is constrained).
  bool forced() const { return !tools.empty() && (choice == "required" || choice == "function"); }
};

// Reads tools / tool_choice / parallel_tool_calls from a chat body.
std::optional<api_error> read_tool_request(const nlohmann::ordered_json& body, tool_request* out);

// An assistant message's `tool_calls` → the JSON array given to templates
// (arguments parsed into objects), or an error naming `param`.
std::optional<api_error> normalize_tool_calls(const nlohmann::json& calls, const std::string& param,
                                              std::string* out_json);

// The constraint for a forced call in the model's format ("hermes",
// "llama3_json", "mistral"); an error names the tool whose parameters cannot
// be enforced.
std::optional<api_error> forced_call_regex(const tool_request& tools, const std::string& format,
                                           std::string* regex);

}  // namespace troupe::net

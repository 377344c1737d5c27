#pragma once
// Tool calls in model output, text-level: which convention a chat template
// teaches its model (detected from the template text), how to read the
// calls out of a finished output, and the regular expression a constrained
// call must match (tool_choice "required" or a named function).
//
//   hermes       Qwen 2.5/3, Hermes: <tool_call>\n{"name": …, "arguments": {…}}\n</tool_call>, several in a row
//   llama3_json  Llama 3.1/3.2: {"name": …, "parameters": {…}} (after an optional <|python_tag|>)
//   mistral      Mistral: [TOOL_CALLS][{"name": …, "arguments": {…}}, …] (the marker is a control
//                token the detokenizer drops, so the list alone is accepted too)
// A template that mentions none of these gets llama3_json, the plain-JSON form.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::engine {

enum class tool_call_format { hermes, llama3_json, mistral };

const char* to_string(tool_call_format f);
tool_call_format detect_tool_call_format(std::string_view template_source);

struct parsed_tool_call {
  std::string name;
  std::string arguments_json;  // compact JSON object text
};

struct tool_call_parse {
  std::optional<std::string> content;  // text outside the calls; nullopt when none
  std::vector<parsed_tool_call> calls;  // empty: the output is plain content
};

// Reads the calls of a whole output. Text that does not parse as calls is
// content.
tool_call_parse parse_tool_calls(tool_call_format f, std::string_view text);

struct tool_call_pattern {
  std::string name;            // function name
  std::string arguments_regex; // the arguments object (structured/json_schema_regex)
};

// The output is one call (or, with `parallel`, one or more) of the given
// functions, in the format's own spelling.
std::string tool_call_regex(tool_call_format f, const std::vector<tool_call_pattern>& functions,
                            bool parallel);

}  // namespace troupe::engine

#pragma once
// The structured-output fields of a request → the one regular expression the
// engine enforces (sampling_params::guided_regex): OpenAI's response_format
// (text | json_object | json_schema) and vLLM's guided_json, guided_regex,
// guided_choice. At most one of them may constrain a request. A schema the
// compiler cannot enforce is a 400 naming the keyword's place in `param`
// (e.g. response_format.json_schema.schema.properties.age.maximum).
#include <optional>
#include <string>
#include <string_view>

#include "net/errors.hpp"

namespace troupe::net {

struct structured_output {
  std::string regex;  // empty: unconstrained
  std::string kind;   // "json_object", "json_schema", "guided_json", "guided_regex", "guided_choice"
};

// Reads the fields from the request body (already known to be a JSON object).
// Returns the constraint, or an error.
std::optional<api_error> read_structured_output(std::string_view body, structured_output* out);

}  // namespace troupe::net

#pragma once
// JSON Schema → a regular expression matching compact JSON texts that
// validate against it (the language a grammar mask then enforces). Output is
// compact: no whitespace between tokens, object properties in the order the
// schema lists them, every required property present.
//
// Supported (OpenAI strict mode's subset): `type` (a name or a list),
// `object` with `properties` / `required` / `additionalProperties` (false or
// absent: only listed properties are generated), `array` with `items`,
// `minItems` / `maxItems`, `string` with `enum`, `const`, `pattern`,
// `minLength` / `maxLength`, `format` (date-time, date, time, uuid),
// `number` / `integer` (and `minimum: 0` / `exclusiveMinimum` ≥ -1 for
// non-negative numbers), `boolean`, `null`, `enum`, `const`, `anyOf`,
// `$ref` to `#/$defs/…` or `#/definitions/…` (not recursive), and the
// annotations `title`, `description`, `default`, `examples`, `$schema`, `$id`,
// `strict`. Anything else is refused with an error naming the keyword and
// where it is (`properties.age.maximum`).
//
// Bounds that keep sampling finite on any model: integers have at most 15
// digits, fractions and exponents at most 15 and 3; a free object or value
// (`{}` or json_object) nests at most `max_free_depth` levels.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace troupe::engine::structured {

struct schema_error {
  std::string message;
  std::string keyword_path;  // e.g. "properties.age.maximum"
};

struct schema_regex_result {
  std::string regex;
  std::optional<schema_error> error;
};

schema_regex_result json_schema_to_regex(const nlohmann::ordered_json& schema, int max_free_depth = 3);

// Any JSON object (response_format json_object).
std::string json_object_regex(int max_free_depth = 3);

// One of the given strings, exactly (guided_choice).
std::string choice_regex(const std::vector<std::string>& choices);

}  // namespace troupe::engine::structured

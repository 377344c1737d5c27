#include "net/api/structured_request.hpp"

#include <mutex>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "actors/engine/structured/byte_dfa.hpp"
#include "actors/engine/structured/json_schema_regex.hpp"

namespace troupe::net {
namespace {

using ojson = nlohmann::ordered_json;
namespace st = engine::structured;

api_error schema_refusal(const std::string& base, const st::schema_error& e) {
  const std::string param = e.keyword_path.empty() ? base : base + "." + e.keyword_path;
  return invalid_request("Unsupported JSON schema for structured output at '" + param +
                             "': " + e.message + ".",
                         param);
}

std::optional<api_error> from_schema(const ojson& schema, const std::string& param,
                                     std::string* regex) {
  if (!schema.is_object() && !schema.is_boolean()) return wrong_type(param, "a JSON schema object");
  st::schema_regex_result r = st::json_schema_to_regex(schema);
  if (r.error) return schema_refusal(param, *r.error);
  *regex = std::move(r.regex);
  return std::nullopt;
}

// The gateway checks that a constraint compiles (and stays within the
// automaton limits) before admission, so a bad pattern is a 400 here rather
// than an engine refusal later. Results are remembered by pattern.
std::optional<std::string> compile_error(const std::string& regex) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::string> known;  // pattern -> error ("" = ok)
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = known.find(regex); it != known.end())
      return it->second.empty() ? std::nullopt : std::optional<std::string>(it->second);
  }
  std::string error;
  const bool ok = st::regex_to_dfa(regex, &error).has_value();
  std::lock_guard<std::mutex> lock(mu);
  if (known.size() > 1024) known.clear();
  known.emplace(regex, ok ? "" : error);
  return ok ? std::nullopt : std::optional<std::string>(error);
}

}  // namespace

std::optional<api_error> read_structured_output(std::string_view body, structured_output* out) {
  // Parsed again with key order kept: properties are generated in the
  // order the schema lists them.
  const ojson j = ojson::parse(body, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  int num_constraints = 0;
  std::string first_param;
  auto claim = [&](const char* param) {
    if (num_constraints++ == 0) first_param = param;
  };
  std::optional<api_error> err;

  if (auto rf = j.find("response_format"); rf != j.end() && !rf->is_null()) {
    if (!rf->is_object()) return wrong_type("response_format", "an object");
    auto type = rf->find("type");
    if (type == rf->end() || !type->is_string())
      return invalid_request("'response_format.type' is required: text, json_object or json_schema.",
                             "response_format.type");
    const std::string t = type->get<std::string>();
    if (t == "json_object") {
      claim("response_format");
      out->kind = "json_object";
      out->regex = st::json_object_regex();
    } else if (t == "json_schema") {
      auto js = rf->find("json_schema");
      if (js == rf->end() || !js->is_object())
        return invalid_request("'response_format.json_schema' must be an object with 'name' and "
                               "'schema'.",
                               "response_format.json_schema");
      auto name = js->find("name");
      if (name == js->end() || !name->is_string())
        return invalid_request("'response_format.json_schema.name' is a required string.",
                               "response_format.json_schema.name");
      if (auto strict = js->find("strict"); strict != js->end() && !strict->is_null() &&
                                            !strict->is_boolean())
        return wrong_type("response_format.json_schema.strict", "a boolean");
      auto schema = js->find("schema");
      claim("response_format");
      out->kind = "json_schema";
      if (schema == js->end() || schema->is_null()) {
        out->regex = st::json_object_regex();  // no schema: any object (as OpenAI)
      } else if ((err = from_schema(*schema, "response_format.json_schema.schema", &out->regex))) {
        return err;
      }
    } else if (t != "text") {
      return invalid_request("'response_format.type' must be text, json_object or json_schema; got '" +
                                 t + "'.",
                             "response_format.type");
    }
  }
  if (auto g = j.find("guided_json"); g != j.end() && !g->is_null()) {
    claim("guided_json");
    out->kind = "guided_json";
    ojson schema = *g;
    if (g->is_string()) {  // vLLM accepts the schema as a JSON string too
      schema = ojson::parse(g->get<std::string>(), nullptr, false);
      if (schema.is_discarded()) return invalid_request("'guided_json' is not valid JSON.", "guided_json");
    }
    if ((err = from_schema(schema, "guided_json", &out->regex))) return err;
  }
  if (auto g = j.find("guided_regex"); g != j.end() && !g->is_null()) {
    if (!g->is_string()) return wrong_type("guided_regex", "a string");
    claim("guided_regex");
    out->kind = "guided_regex";
    out->regex = g->get<std::string>();
    if (out->regex.empty()) return invalid_request("'guided_regex' must not be empty.", "guided_regex");
  }
  if (auto g = j.find("guided_choice"); g != j.end() && !g->is_null()) {
    if (!g->is_array() || g->empty()) return wrong_type("guided_choice", "a non-empty array of strings");
    std::vector<std::string> choices;
    for (const auto& c : *g) {
      if (!c.is_string() || c.get<std::string>().empty())
        return wrong_type("guided_choice", "a non-empty array of non-empty strings");
      choices.push_back(c.get<std::string>());
    }
    claim("guided_choice");
    out->kind = "guided_choice";
    out->regex = st::choice_regex(choices);
  }
  for (const char* unsupported : {"guided_grammar", "structural_tag"})
    if (auto g = j.find(unsupported); g != j.end() && !g->is_null())
      return invalid_request(std::string("'") + unsupported +
                                 "' is not supported; use response_format, guided_json, "
                                 "guided_regex or guided_choice.",
                             unsupported);
  if (num_constraints > 1)
    return invalid_request("Give at most one of response_format (json_object/json_schema), "
                           "guided_json, guided_regex, guided_choice.",
                           first_param);
  if (!out->regex.empty()) {
    if (auto e = compile_error(out->regex)) {
      const std::string param = out->kind == "guided_regex" ? "guided_regex"
                                : out->kind == "guided_choice" ? "guided_choice"
                                : out->kind == "guided_json"   ? "guided_json"
                                                               : "response_format";
      return invalid_request("The structured-output constraint cannot be compiled: " + *e + ".",
                             param);
    }
  }
  return std::nullopt;
}

}  // namespace troupe::net

#include "net/api/tool_request.hpp"

#include "actors/engine/chat/tool_calls.hpp"
#include "actors/engine/structured/json_schema_regex.hpp"

namespace troupe::net {

using ojson = nlohmann::ordered_json;

std::optional<api_error> read_tool_request(const ojson& body, tool_request* out) {
  if (auto t = body.find("tools"); t != body.end() && !t->is_null()) {
    if (!t->is_array()) return wrong_type("tools", "an array of tools");
    for (size_t i = 0; i < t->size(); ++i) {
      const std::string p = "tools[" + std::to_string(i) + "]";
      const ojson& tool = (*t)[i];
      if (!tool.is_object()) return wrong_type(p, "an object");
      auto type = tool.find("type");
      if (type == tool.end() || !type->is_string() || type->get<std::string>() != "function")
        return invalid_request("'" + p + ".type' must be \"function\" (the only tool type served).",
                               p + ".type");
      auto fn = tool.find("function");
      if (fn == tool.end() || !fn->is_object()) return wrong_type(p + ".function", "an object");
      auto name = fn->find("name");
      if (name == fn->end() || !name->is_string() || name->get<std::string>().empty())
        return invalid_request("'" + p + ".function.name' is a required string.", p + ".function.name");
      tool_function f;
      f.name = name->get<std::string>();
      for (const auto& other : out->tools)
        if (other.name == f.name)
          return invalid_request("Two tools are named '" + f.name + "'.", p + ".function.name");
      f.parameters = ojson::object();
      if (auto params = fn->find("parameters"); params != fn->end() && !params->is_null()) {
        if (!params->is_object()) return wrong_type(p + ".function.parameters", "a JSON schema object");
        f.parameters = *params;
      }
      out->tools.push_back(std::move(f));
    }
    if (!out->tools.empty()) out->tools_json = t->dump();
  }
  if (auto c = body.find("tool_choice"); c != body.end() && !c->is_null()) {
    if (c->is_string()) {
      out->choice = c->get<std::string>();
      if (out->choice != "none" && out->choice != "auto" && out->choice != "required")
        return invalid_request("'tool_choice' must be none, auto, required or "
                               "{\"type\":\"function\",\"function\":{\"name\":…}}.",
                               "tool_choice");
    } else if (c->is_object()) {
      auto fn = c->find("function");
      const ojson* name = nullptr;
      if (fn != c->end() && fn->is_object())
        if (auto n = fn->find("name"); n != fn->end() && n->is_string()) name = &*n;
      if (name == nullptr)
        return invalid_request("'tool_choice.function.name' is a required string.", "tool_choice");
      out->choice = "function";
      out->forced_name = name->get<std::string>();
      bool known = false;
      for (const auto& f : out->tools) known = known || f.name == out->forced_name;
      if (!known)
        return invalid_request("'tool_choice' names the function '" + out->forced_name +
                                   "', which is not in 'tools'.",
                               "tool_choice");
    } else {
      return wrong_type("tool_choice", "a string or an object");
    }
    if ((out->choice == "required") && out->tools.empty())
      return invalid_request("'tool_choice' \"required\" needs 'tools'.", "tool_choice");
  }
  if (auto p = body.find("parallel_tool_calls"); p != body.end() && !p->is_null()) {
    if (!p->is_boolean()) return wrong_type("parallel_tool_calls", "a boolean");
    out->parallel = p->get<bool>();
  }
  return std::nullopt;
}

std::optional<api_error> normalize_tool_calls(const nlohmann::json& calls, const std::string& param,
                                              std::string* out_json) {
  if (!calls.is_array()) return wrong_type(param, "an array of tool calls");
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < calls.size(); ++i) {
    const std::string p = param + "[" + std::to_string(i) + "]";
    const auto& c = calls[i];
    if (!c.is_object()) return wrong_type(p, "an object");
    auto fn = c.find("function");
    if (fn == c.end() || !fn->is_object()) return wrong_type(p + ".function", "an object");
    auto name = fn->find("name");
    if (name == fn->end() || !name->is_string())
      return invalid_request("'" + p + ".function.name' is a required string.", p + ".function.name");
    nlohmann::json args = nlohmann::json::object();
    if (auto a = fn->find("arguments"); a != fn->end() && !a->is_null()) {
      if (a->is_string()) {
        args = nlohmann::json::parse(a->get<std::string>(), nullptr, false);
        if (args.is_discarded())
          return invalid_request("'" + p + ".function.arguments' is not valid JSON.", p + ".function.arguments");
      } else if (a->is_object()) {
        args = *a;
      } else {
        return wrong_type(p + ".function.arguments", "a JSON string");
      }
    }
    nlohmann::json call = {{"type", "function"}, {"function", {{"name", *name}, {"arguments", args}}}};
    if (auto id = c.find("id"); id != c.end() && id->is_string()) call["id"] = *id;
    out.push_back(std::move(call));
  }
  *out_json = out.dump();
  return std::nullopt;
}

std::optional<api_error> forced_call_regex(const tool_request& tools, const std::string& format,
                                           std::string* regex) {
  std::vector<engine::tool_call_pattern> fns;
  for (size_t i = 0; i < tools.tools.size(); ++i) {
    const tool_function& f = tools.tools[i];
    if (tools.choice == "function" && f.name != tools.forced_name) continue;
    auto r = engine::structured::json_schema_to_regex(f.parameters);
    if (r.error) {
      const std::string param = "tools[" + std::to_string(i) + "].function.parameters" +
                                (r.error->keyword_path.empty() ? "" : "." + r.error->keyword_path);
      return invalid_request("Cannot constrain a call to '" + f.name + "' (tool_choice " +
                                 tools.choice + "): " + r.error->message + ".",
                             param);
    }
    fns.push_back({f.name, r.regex});
  }
  const engine::tool_call_format fmt = format == "hermes"    ? engine::tool_call_format::hermes
                                       : format == "mistral" ? engine::tool_call_format::mistral
                                                             : engine::tool_call_format::llama3_json;
  *regex = engine::tool_call_regex(fmt, fns, tools.parallel && tools.choice == "required");
  return std::nullopt;
}

}  // namespace troupe::net

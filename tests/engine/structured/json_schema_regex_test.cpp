#include <gtest/gtest.h>

#include "actors/engine/structured/byte_dfa.hpp"
#include "actors/engine/structured/json_schema_regex.hpp"

using namespace troupe::engine::structured;
using ojson = nlohmann::ordered_json;

namespace {
// Whether `text` is in the language of `schema`'s regex.
bool accepts(const std::string& schema, const std::string& text) {
  auto r = json_schema_to_regex(ojson::parse(schema));
  EXPECT_FALSE(r.error) << r.error->message;
  std::string error;
  auto dfa = regex_to_dfa(r.regex, &error);
  EXPECT_TRUE(dfa) << error;
  return dfa && dfa->matches(text);
}
std::string refused_at(const std::string& schema) {
  auto r = json_schema_to_regex(ojson::parse(schema));
  return r.error ? r.error->keyword_path : "";
}
}  // namespace

TEST(JsonSchemaRegex, ObjectsListRequiredPropertiesInOrderAndOptionalOnesMaybe) {
  const char* s = R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"},
                      "c":{"type":"boolean"}},"required":["b"]})";
  EXPECT_TRUE(accepts(s, R"({"b":"x"})"));
  EXPECT_TRUE(accepts(s, R"({"a":-3,"b":"x","c":true})"));
  EXPECT_TRUE(accepts(s, R"({"b":"","c":false})"));
  EXPECT_FALSE(accepts(s, R"({"a":1})"));
  EXPECT_FALSE(accepts(s, R"({"b":"x","a":1})"));  // schema order
  EXPECT_FALSE(accepts(s, R"({"b":"x",})"));
  EXPECT_TRUE(accepts(R"({"type":"object","properties":{"a":{"type":"null"}}})", "{}"));
}

TEST(JsonSchemaRegex, ScalarsEnumsAndStringsFollowJson) {
  EXPECT_TRUE(accepts(R"({"type":"number"})", "-0.5e+10"));
  EXPECT_FALSE(accepts(R"({"type":"number"})", "01"));
  EXPECT_FALSE(accepts(R"({"type":"integer","minimum":0})", "-1"));
  EXPECT_TRUE(accepts(R"({"type":"integer","minimum":-2,"maximum":3})", "-2"));
  EXPECT_FALSE(accepts(R"({"type":"integer","minimum":-2,"maximum":3})", "4"));
  EXPECT_TRUE(accepts(R"({"enum":["a b",1,null,{"k":[1]}]})", R"({"k":[1]})"));
  EXPECT_TRUE(accepts(R"({"type":"string"})", R"("tab\tquote\"\u00e9")"));
  EXPECT_FALSE(accepts(R"({"type":"string"})", "\"raw\nnewline\""));
  EXPECT_TRUE(accepts(R"({"type":"string","maxLength":3})", R"("a\nb")"));
  EXPECT_FALSE(accepts(R"({"type":"string","maxLength":3})", R"("abcd")"));
  EXPECT_TRUE(accepts(R"({"type":"string","pattern":"^[A-Z]{2}\\d$"})", R"("AB7")"));
  EXPECT_TRUE(accepts(R"({"type":"string","pattern":"x\\d"})", R"("..x1..")"));  // unanchored: search
  EXPECT_TRUE(accepts(R"({"type":"string","format":"date"})", R"("2026-12-04")"));
  EXPECT_TRUE(accepts(R"({"type":["string","null"]})", "null"));
}

TEST(JsonSchemaRegex, ArraysRefsAndAnyOf) {
  EXPECT_TRUE(accepts(R"({"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":2})", "[1,2]"));
  EXPECT_FALSE(accepts(R"({"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":2})", "[]"));
  EXPECT_FALSE(accepts(R"({"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":2})", "[1,2,3]"));
  const char* ref = R"({"type":"object","properties":{"p":{"$ref":"#/$defs/pt"}},"required":["p"],
                        "$defs":{"pt":{"type":"array","items":{"type":"number"}}}})";
  EXPECT_TRUE(accepts(ref, R"({"p":[1.5,2]})"));
  EXPECT_TRUE(accepts(R"({"anyOf":[{"type":"integer"},{"type":"boolean"}]})", "true"));
  EXPECT_TRUE(accepts(R"({"type":"object","additionalProperties":{"type":"integer"}})", R"({"x":1,"y":2})"));
  EXPECT_TRUE(accepts("{}", R"([{"a":null},"s",1])"));
}

TEST(JsonSchemaRegex, UnsupportedKeywordsAreRefusedWhereTheyAre) {
  EXPECT_EQ(refused_at(R"({"type":"object","properties":{"a":{"type":"string","not":{}}}})"), "properties.a.not");
  EXPECT_EQ(refused_at(R"({"type":"number","maximum":3})"), "maximum");
  EXPECT_EQ(refused_at(R"({"type":"string","format":"email"})"), "format");
  EXPECT_EQ(refused_at(R"({"oneOf":[{"type":"string"}]})"), "oneOf");
  EXPECT_EQ(refused_at(R"({"$defs":{"n":{"type":"array","items":{"$ref":"#/$defs/n"}}},"$ref":"#/$defs/n"})"),
            "$defs.n.items.$ref");
  EXPECT_EQ(refused_at(R"({"type":"object","required":["x"]})"), "required");
  EXPECT_EQ(refused_at(R"({"type":"widget"})"), "type");
}

TEST(JsonSchemaRegex, AFiftyPropertySchemaCompilesFast) {
  ojson s = {{"type", "object"}, {"properties", ojson::object()}, {"required", ojson::array()}};
  for (int i = 0; i < 50; ++i) {
    const std::string name = "property_" + std::to_string(i);
    s["properties"][name] = i % 2 ? ojson{{"type", "string"}} : ojson{{"type", "integer"}};
    s["required"].push_back(name);
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto r = json_schema_to_regex(s);
  std::string error;
  auto dfa = regex_to_dfa(r.regex, &error);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(dfa) << error;
  EXPECT_LT(ms, 250.0);  // the target is 50 ms (bench/structured); generous for loaded CI machines
}

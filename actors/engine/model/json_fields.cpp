#include "actors/engine/model/json_fields.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace troupe::engine::json_fields {
namespace {

const nlohmann::json* find(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

void set_type_error(std::string& error, const char* key, const char* expected,
                    const nlohmann::json& value) {
  if (!error.empty()) return;
  error = std::string("field '") + key + "' must be " + expected + ", got " +
          value.type_name() + " " + value.dump();
}

}  // namespace

std::optional<int64_t> get_int(const nlohmann::json& obj, const char* key, std::string& error) {
  const auto* v = find(obj, key);
  if (!v) return std::nullopt;
  if (v->is_number_integer()) return v->get<int64_t>();
  // Some writers emit integral values as floats (e.g. 8192.0).
  if (v->is_number_float()) {
    double d = v->get<double>();
    if (d == static_cast<double>(static_cast<int64_t>(d))) return static_cast<int64_t>(d);
  }
  set_type_error(error, key, "an integer", *v);
  return std::nullopt;
}

std::optional<double> get_number(const nlohmann::json& obj, const char* key, std::string& error) {
  const auto* v = find(obj, key);
  if (!v) return std::nullopt;
  if (v->is_number()) return v->get<double>();
  set_type_error(error, key, "a number", *v);
  return std::nullopt;
}

std::optional<bool> get_bool(const nlohmann::json& obj, const char* key, std::string& error) {
  const auto* v = find(obj, key);
  if (!v) return std::nullopt;
  if (v->is_boolean()) return v->get<bool>();
  set_type_error(error, key, "a boolean", *v);
  return std::nullopt;
}

std::optional<std::string> get_string(const nlohmann::json& obj, const char* key,
                                      std::string& error) {
  const auto* v = find(obj, key);
  if (!v) return std::nullopt;
  if (v->is_string()) return v->get<std::string>();
  set_type_error(error, key, "a string", *v);
  return std::nullopt;
}

std::optional<std::string> read_text_file(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (error) *error = "cannot open " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    if (error) *error = "cannot read " + path;
    return std::nullopt;
  }
  return text.str();
}

}  // namespace troupe::engine::json_fields

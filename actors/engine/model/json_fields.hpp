#pragma once
// Typed access to optional and required fields of a JSON object, with errors
// that name the field. Shared by the config.json and generation_config.json
// parsers. A field that is present but null counts as absent, as in
// transformers' configs ("head_dim": null).
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace troupe::engine::json_fields {

// Each getter returns nullopt when the field is absent (or null); sets `error`
// (if empty) and returns nullopt when it has the wrong type.
std::optional<int64_t> get_int(const nlohmann::json& obj, const char* key, std::string& error);
std::optional<double> get_number(const nlohmann::json& obj, const char* key, std::string& error);
std::optional<bool> get_bool(const nlohmann::json& obj, const char* key, std::string& error);
std::optional<std::string> get_string(const nlohmann::json& obj, const char* key,
                                      std::string& error);

// Reads a whole file; nullopt (and a message naming the file) when it cannot.
std::optional<std::string> read_text_file(const std::string& path, std::string* error);

}  // namespace troupe::engine::json_fields

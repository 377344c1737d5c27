#include "actors/engine/model/generation_config.hpp"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "actors/engine/model/json_fields.hpp"

namespace troupe::engine {
namespace {

using json_fields::get_bool;
using json_fields::get_int;
using json_fields::get_number;

bool read_token_id(const nlohmann::json& value, std::vector<int32_t>& out) {
  if (!value.is_number_integer()) return false;
  auto id = value.get<int64_t>();
  if (id < 0 || id > INT32_MAX) return false;
  out.push_back(static_cast<int32_t>(id));
  return true;
}

bool read_eos(const nlohmann::json& cfg, generation_config& gen, std::string& error) {
  auto it = cfg.find("eos_token_id");
  if (it == cfg.end() || it->is_null()) return true;
  bool ok = true;
  if (it->is_array()) {
    for (const auto& id : *it) ok = ok && read_token_id(id, gen.eos_token_ids);
  } else {
    ok = read_token_id(*it, gen.eos_token_ids);
  }
  if (!ok) error = "field 'eos_token_id' must be a token id or a list of token ids, got " + it->dump();
  return ok;
}

std::optional<generation_config> parse(const std::string& json_text, std::string& error) {
  auto cfg = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (cfg.is_discarded() || !cfg.is_object()) {
    error = "not a valid JSON object";
    return std::nullopt;
  }
  generation_config gen;
  if (!read_eos(cfg, gen, error)) return std::nullopt;
  auto bos = get_int(cfg, "bos_token_id", error);
  if (bos && (*bos < 0 || *bos > INT32_MAX)) error = "field 'bos_token_id' is out of range";
  if (bos) gen.bos_token_id = static_cast<int32_t>(*bos);
  if (auto v = get_number(cfg, "temperature", error)) gen.temperature = static_cast<float>(*v);
  if (auto v = get_number(cfg, "top_p", error)) gen.top_p = static_cast<float>(*v);
  if (auto v = get_int(cfg, "top_k", error)) gen.top_k = static_cast<int32_t>(*v);
  if (auto v = get_number(cfg, "repetition_penalty", error))
    gen.repetition_penalty = static_cast<float>(*v);
  gen.do_sample = get_bool(cfg, "do_sample", error);
  if (!error.empty()) return std::nullopt;
  return gen;
}

}  // namespace

std::optional<generation_config> parse_generation_config(const std::string& json_text,
                                                         std::string* error) {
  std::string message;
  auto gen = parse(json_text, message);
  if (!gen && error) *error = "generation_config.json: " + message;
  return gen;
}

std::optional<generation_config> load_generation_config(const std::string& model_dir,
                                                        std::string* error) {
  auto path = (std::filesystem::path(model_dir) / "generation_config.json").string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return generation_config{};
  auto text = json_fields::read_text_file(path, error);
  if (!text) return std::nullopt;
  std::string message;
  auto gen = parse(*text, message);
  if (!gen && error) *error = path + ": " + message;
  return gen;
}

}  // namespace troupe::engine

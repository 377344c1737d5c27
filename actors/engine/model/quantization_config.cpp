#include "actors/engine/model/quantization_config.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

namespace troupe::engine {
namespace {

template <typename T>
std::optional<T> fail(std::string* error, const std::string& message) {
  if (error) *error = message;
  return std::nullopt;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool flag_true(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

std::optional<quantization_config> parse_awq(const nlohmann::json& j, std::string* error) {
  quantization_config c;
  c.method_name = "awq";
  c.format = gpu::quant_format::int4;
  c.stored = checkpoint_quant::awq_gemm;
  // AutoAWQ writes bits/group_size/zero_point/version; its older
  // quant_config.json spells them w_bit/q_group_size.
  const int bits = j.value("bits", j.value("w_bit", 4));
  if (bits != 4) return fail<quantization_config>(error, "awq with bits=" + std::to_string(bits) + " is not supported (only 4)");
  c.group_size = j.value("group_size", j.value("q_group_size", 128));
  if (c.group_size <= 0 || c.group_size % 2 != 0)
    return fail<quantization_config>(error, "awq group_size " + std::to_string(c.group_size) +
                                               " is not supported (per-group only, even)");
  if (!j.value("zero_point", true))
    return fail<quantization_config>(error, "awq with zero_point=false is not supported");
  const std::string version = lower(j.value("version", std::string("gemm")));
  if (version != "gemm")
    return fail<quantization_config>(
        error, "awq version '" + version + "' is not supported (only the GEMM layout)");
  return c;
}

std::optional<quantization_config> parse_bnb(const nlohmann::json& j, std::string* error) {
  quantization_config c;
  const bool in4 = flag_true(j, "load_in_4bit") || flag_true(j, "_load_in_4bit");
  const bool in8 = flag_true(j, "load_in_8bit") || flag_true(j, "_load_in_8bit");
  if (in4 == in8)
    return fail<quantization_config>(
        error, "bitsandbytes quantization_config must set exactly one of load_in_4bit / load_in_8bit");
  if (in8) {
    c.method_name = "bitsandbytes int8";
    c.format = gpu::quant_format::int8;
    c.stored = checkpoint_quant::bnb_int8;
    return c;
  }
  const std::string type = lower(j.value("bnb_4bit_quant_type", std::string("fp4")));
  if (type != "nf4" && type != "fp4")
    return fail<quantization_config>(error, "bitsandbytes bnb_4bit_quant_type '" + type + "' is not supported (nf4, fp4)");
  const std::string storage = lower(j.value("bnb_4bit_quant_storage", std::string("uint8")));
  if (storage != "uint8")
    return fail<quantization_config>(error, "bitsandbytes bnb_4bit_quant_storage '" + storage + "' is not supported (uint8)");
  c.method_name = "bitsandbytes " + type;
  c.format = type == "nf4" ? gpu::quant_format::nf4 : gpu::quant_format::fp4;
  c.stored = checkpoint_quant::bnb_4bit;
  c.group_size = 64;
  c.bnb_double_quant = flag_true(j, "bnb_4bit_use_double_quant");
  return c;
}

}  // namespace

std::optional<quantization_config> parse_quantization_flag(const std::string& value,
                                                           std::string* error) {
  quantization_config c;
  c.method_name = value;
  const std::string v = lower(value);
  if (v.empty() || v == "none") {
    c.method_name.clear();
    return c;
  }
  if (v == "int8") c.format = gpu::quant_format::int8;
  else if (v == "fp8") c.format = gpu::quant_format::fp8;
  else if (v == "nf4") c.format = gpu::quant_format::nf4;
  else if (v == "fp4") c.format = gpu::quant_format::fp4;
  else if (v == "int4") c.format = gpu::quant_format::int4;
  else if (v == "awq") {
    c.format = gpu::quant_format::int4;
    c.stored = checkpoint_quant::awq_gemm;  // demands an AWQ checkpoint
  } else {
    return fail<quantization_config>(
        error, "unknown quantization '" + value + "' (expected none, int8, fp8, nf4, fp4, int4 or awq)");
  }
  return c;
}

std::optional<quantization_config> parse_checkpoint_quantization(const std::string& json_text,
                                                                 std::string* error) {
  if (json_text.empty()) return quantization_config{};
  auto j = nlohmann::json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return fail<quantization_config>(error, "quantization_config must be a JSON object");
  auto method_it = j.find("quant_method");
  if (method_it == j.end() || !method_it->is_string())
    return fail<quantization_config>(error, "quantization_config has no string 'quant_method'");
  const std::string method = lower(method_it->get<std::string>());
  std::optional<quantization_config> c;
  if (method == "awq") c = parse_awq(j, error);
  else if (method == "bitsandbytes") c = parse_bnb(j, error);
  else if (method == "fp8") {
    c = quantization_config{};
    c->method_name = "fp8";
    c->format = gpu::quant_format::fp8;
    c->stored = checkpoint_quant::fp8;
    if (auto b = j.find("weight_block_size"); b != j.end() && !b->is_null()) {
      if (!b->is_array() || b->size() != 2 || !(*b)[0].is_number_integer() ||
          !(*b)[1].is_number_integer() || (*b)[0].get<int>() <= 0 || (*b)[1].get<int>() <= 0)
        return fail<quantization_config>(error, "quantization_config.weight_block_size must be two positive integers");
      c->fp8_block_rows = (*b)[0].get<int32_t>();
      c->fp8_block_cols = (*b)[1].get<int32_t>();
    }
  } else {
    return fail<quantization_config>(
        error, "quantization_config.quant_method '" + method_it->get<std::string>() +
                   "' is not supported (supported: awq, bitsandbytes, fp8)");
  }
  if (!c && error) *error = "quantization_config: " + *error;
  return c;
}

std::optional<quantization_config> resolve_quantization(const quantization_config& flag,
                                                        const quantization_config& checkpoint,
                                                        std::string* error) {
  if (checkpoint.stored == checkpoint_quant::none) {
    if (flag.stored == checkpoint_quant::awq_gemm)
      return fail<quantization_config>(
          error, "--quantization awq needs an AWQ checkpoint (config.json quantization_config "
                 "with quant_method 'awq'); write one with `troupe quantize awq`, or use "
                 "--quantization int4 for plain round-to-nearest int4");
    return flag;
  }
  if (!flag.active()) return checkpoint;
  const bool same = flag.format == checkpoint.format &&
                    (flag.stored == checkpoint_quant::none || flag.stored == checkpoint.stored);
  if (!same)
    return fail<quantization_config>(
        error, "--quantization " + flag.method_name + " conflicts with the checkpoint's "
               "quantization_config (" + checkpoint.method_name + "); the weights are already "
               "quantized");
  return checkpoint;
}

}  // namespace troupe::engine

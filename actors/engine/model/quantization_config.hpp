#pragma once
// Which quantization a model runs with: the --quantization flag (or TOML
// engine.quantization) and the `quantization_config` of config.json.
//
//   flag            checkpoint                 result
//   none/""         float                      float weights
//   int8|fp8|nf4|   float                      quantized at load (on the fly)
//   fp4|int4
//   awq             float                      error: needs an AWQ checkpoint
//                                              (troupe quantize awq writes one)
//   none/""/same    awq | bitsandbytes | fp8   the checkpoint's quantized weights
//   other           awq | bitsandbytes | fp8   error naming both
//   any             other quant_method         error naming the quant_method
#include <cstdint>
#include <optional>
#include <string>

#include "gpu/quant_matrix.hpp"

namespace troupe::engine {

// How a pre-quantized checkpoint stores its Linear weights.
enum class checkpoint_quant { none, awq_gemm, bnb_4bit, bnb_int8, fp8 };

struct quantization_config {
  gpu::quant_format format = gpu::quant_format::none;  // what the executor computes with
  int32_t group_size = 0;                               // 0: the format's default
  checkpoint_quant stored = checkpoint_quant::none;
  bool bnb_double_quant = false;  // bnb_4bit_use_double_quant (absmax stored as 8-bit codes)
  int32_t fp8_block_rows = 0;     // fp8 weight_block_size [rows, cols]; 0: from the scale shape
  int32_t fp8_block_cols = 0;
  std::string method_name;        // as the user or config.json spelled it, for messages

  bool active() const { return format != gpu::quant_format::none; }
};

// The flag's value: "", "none", "int8", "fp8", "nf4", "fp4", "int4", "awq".
// nullopt and *error (listing the accepted names) for anything else.
std::optional<quantization_config> parse_quantization_flag(const std::string& value,
                                                           std::string* error);

// config.json's quantization_config object as JSON text ("" when absent).
std::optional<quantization_config> parse_checkpoint_quantization(const std::string& json_text,
                                                                 std::string* error);

// Combines the flag with what the checkpoint declares (table above).
std::optional<quantization_config> resolve_quantization(const quantization_config& flag,
                                                        const quantization_config& checkpoint,
                                                        std::string* error);

}  // namespace troupe::engine

#pragma once
// `troupe quantize awq`: calibrates a float checkpoint on the CPU executor,
// runs the AWQ scale and clipping search layer by layer
// (actors/engine/quantize/awq_search.hpp), folds the scales into the
// preceding operations, quantizes to int4 and writes an AutoAWQ GEMM-layout
// checkpoint (fp16 tensors, config.json with a quantization_config) that
// Troupe, and engines that read AutoAWQ checkpoints, load.
//
// Where the scales of each Linear are folded (as AutoAWQ does for Llama):
//   q/k/v    <- input_layernorm.weight      gate/up <- post_attention_layernorm.weight
//   down     <- up_proj rows                o_proj  <- v_proj rows, only without GQA
//                                                      (else o_proj is only clipped)
#include <cstdint>
#include <functional>
#include <string>

#include "actors/engine/quantize/awq_search.hpp"

namespace troupe::engine {

struct awq_quantize_options {
  std::string model_dir;
  std::string out_dir;
  // Calibration text (UTF-8). Empty: the model samples its own calibration
  // text (temperature 1, from its BOS token) with `seed`.
  std::string calib_file;
  int64_t calib_tokens = 512;
  uint64_t seed = 1;
  bool clip = true;             // false: the scale search only
  bool search_scales = true;    // false: plain round-to-nearest (for comparisons)
  int32_t num_threads = 0;
  awq_search_options search;    // group_size lives here
};

// Progress lines go to `log` when set. Returns "" or an error.
std::string quantize_awq(const awq_quantize_options& options,
                         const std::function<void(const std::string&)>& log = {});

}  // namespace troupe::engine

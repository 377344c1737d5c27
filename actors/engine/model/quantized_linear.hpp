#pragma once
// Reads one Linear weight of a checkpoint as the quantization config wants it:
// float tensors quantized on the fly, or the tensors of a pre-quantized
// checkpoint turned into gpu::quant_matrix (docs/quantization.md):
//   AutoAWQ GEMM      <p>.qweight I32 [in, out/8], <p>.qzeros I32 [in/g, out/8],
//                     <p>.scales F16 [in/g, out]
//   bitsandbytes int8 <p>.weight I8 [out, in], <p>.SCB F32 [out]
//   bitsandbytes 4bit <p>.weight U8 [out*in/2, 1], <p>.weight.absmax F32 [n/64]
//                     (double quant: U8 codes + <p>.weight.nested_absmax,
//                     .nested_quant_map and the nested offset of
//                     <p>.weight.quant_state.bitsandbytes__<type>), <p>.weight.quant_map
//   fp8               <p>.weight F8_E4M3 [out, in] with <p>.weight_scale
//                     (per tensor or per output channel) or <p>.weight_scale_inv
//                     [ceil(out/b0), ceil(in/b1)] (weight_block_size [b0, b1])
// where <p> is the module prefix ("model.layers.0.self_attn.q_proj").
#include <cstdint>
#include <string>
#include <vector>

#include "actors/engine/model/quantization_config.hpp"
#include "gpu/model_spec.hpp"
#include "gpu/quant_matrix.hpp"
#include "gpu/weight_map.hpp"

namespace troupe::engine {

// Float [rows, cols] of a float checkpoint's <prefix>.weight. "" or an error.
std::string read_float_linear(const gpu::weight_map& weights, const std::string& prefix,
                              int64_t rows, int64_t cols, std::vector<float>& out);

// The quantized weight (config.active() required). "" or an error naming the tensor.
std::string read_quantized_linear(const gpu::weight_map& weights, const quantization_config& config,
                                  const std::string& prefix, int64_t rows, int64_t cols,
                                  gpu::quant_matrix& out);

// Every layer's Linear weights, quantized and fused (qkv, o, gate_up, down),
// layers converted in parallel on the machine's cores. "" or an error.
std::string read_quantized_linears(const gpu::model_spec& spec, const gpu::weight_map& weights,
                                   const quantization_config& config,
                                   gpu::quantized_linears& out);

}  // namespace troupe::engine

#pragma once
// A Llama-family model's weights in device memory, in the compute dtype, with
// the projections that run together fused at load: qkv = [q; k; v] rows and
// gate_up = [gate; up] rows (one GEMM each). One allocation holds them all.
#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>
#include <vector>

#include "gpu/model_spec.hpp"
#include "gpu/quant_matrix.hpp"
#include "gpu/weight_map.hpp"

namespace troupe::gpu {

struct device_layer {
  void* input_norm = nullptr;  // [hidden]
  void* qkv = nullptr;         // [(heads + 2 kv_heads) * head_dim, hidden]
  void* qkv_bias = nullptr;    // [(heads + 2 kv_heads) * head_dim] or nullptr
  void* o = nullptr;           // [hidden, heads * head_dim]
  void* post_norm = nullptr;   // [hidden]
  void* gate_up = nullptr;     // [2 * intermediate, hidden]
  void* down = nullptr;        // [hidden, intermediate]
  // Quantized models (docs/quantization.md): the four Linear weights live
  // here instead and qkv/o/gate_up/down above are nullptr.
  device_quant_matrix qkv_q, o_q, gate_up_q, down_q;
};

class device_model {
 public:
  device_model() = default;
  device_model(const device_model&) = delete;
  device_model& operator=(const device_model&) = delete;
  ~device_model();

  // Copies and converts the checkpoint tensors (staged through pinned memory),
  // printing a progress line to stderr. Returns "" or an error naming the tensor.
  // With `quantized` (one entry per layer) the layers' Linear weights are
  // uploaded from it and their float tensors are not read.
  std::string load(const model_spec& spec, dtype compute, const weight_map& weights,
                   cudaStream_t stream, bool verbose,
                   const quantized_linears* quantized = nullptr);
  // Random weights generated on the device (benchmarks): nothing crosses PCIe.
  std::string randomize(const model_spec& spec, dtype compute, uint64_t seed,
                        cudaStream_t stream);

  dtype compute_type() const { return compute_; }
  int64_t num_bytes() const { return num_bytes_; }
  const void* embed() const { return embed_; }
  const void* final_norm() const { return final_norm_; }
  const void* lm_head() const { return lm_head_; }
  const device_layer& layer(int32_t i) const { return layers_[i]; }

 private:
  // Lays out every tensor in one allocation; fills the pointers.
  std::string allocate(const model_spec& spec, dtype compute, const quantized_linears* quantized);
  std::string upload_quantized(const quantized_linears& quantized);

  dtype compute_ = dtype::bf16;
  void* storage_ = nullptr;
  void* quant_storage_ = nullptr;
  int64_t num_bytes_ = 0;
  void* embed_ = nullptr;       // [vocab, hidden]
  void* final_norm_ = nullptr;  // [hidden]
  void* lm_head_ = nullptr;     // [vocab, hidden]; == embed_ when tied
  std::vector<device_layer> layers_;
};

}  // namespace troupe::gpu

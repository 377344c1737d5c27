#pragma once
// RMSNorm, optionally fused with the residual add that precedes it:
//   r   = residual + input          (rounded to the storage type; written back to residual)
//   out = weight * round(r / sqrt(mean(r^2) + eps))
// which is the rounding order of transformers' LlamaRMSNorm in bf16/fp16.
#include <cuda_runtime_api.h>

#include <cstdint>

#include "gpu/weight_map.hpp"

namespace troupe::gpu::kernels {

// input, out: [num_tokens, hidden]; weight: [hidden]; residual: [num_tokens,
// hidden] read and overwritten with residual + input, or nullptr for a plain
// norm of `input`. All of `type` (bf16 or fp16). out may not alias input.
cudaError_t launch_rms_norm(dtype type, void* out, void* residual, const void* input,
                            const void* weight, int32_t num_tokens, int32_t hidden, float eps,
                            cudaStream_t stream);

}  // namespace troupe::gpu::kernels

#pragma once
// Elementwise pieces of the MLP and projections.
#include <cuda_runtime_api.h>

#include <cstdint>

#include "gpu/weight_map.hpp"

namespace troupe::gpu::kernels {

// gate_up: [num_tokens, 2 * width] (gate columns first, then up);
// out: [num_tokens, width] = round(round(silu(gate)) * up), transformers' order.
cudaError_t launch_silu_and_mul(dtype type, void* out, const void* gate_up, int32_t num_tokens,
                                int32_t width, cudaStream_t stream);

// out[t, :] = row for every t < num_tokens (a bias to accumulate onto with beta = 1).
cudaError_t launch_broadcast_row(dtype type, void* out, const void* row, int32_t num_tokens,
                                 int32_t width, cudaStream_t stream);

// Fills `count` elements with uniform values in [-scale, scale) from a
// counter-based hash of (seed, index): random weights made on the device.
cudaError_t launch_fill_uniform(dtype type, void* out, int64_t count, float scale, uint64_t seed,
                                cudaStream_t stream);

// Converts `count` elements from one dtype to another (fp32/fp16/bf16).
cudaError_t launch_convert(dtype to, void* out, dtype from, const void* in, int64_t count,
                           cudaStream_t stream);

}  // namespace troupe::gpu::kernels

#include "gpu/kernels/activation.hpp"
#include "gpu/kernels/element.cuh"
#include "gpu/kernels/launch.cuh"
#include "gpu/philox.hpp"

namespace troupe::gpu::kernels {
namespace {

template <typename T>
__global__ void silu_and_mul_kernel(T* out, const T* gate_up, int32_t width) {
  wait_for_previous_kernel();
  const int64_t t = blockIdx.y;
  const int32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= width) return;
  const float g = to_float(gate_up[t * 2 * width + i]);
  const float u = to_float(gate_up[t * 2 * width + width + i]);
  const float silu = round_to<T>(g / (1.0f + expf(-g)));
  out[t * width + i] = from_float<T>(silu * u);
}

// The same with 16-byte accesses (8 elements), for widths that are multiples of 8.
template <typename T>
__global__ void silu_and_mul_vec_kernel(T* out, const T* gate_up, int32_t width) {
  wait_for_previous_kernel();
  const int64_t t = blockIdx.y;
  const int32_t v = blockIdx.x * blockDim.x + threadIdx.x;
  if (v >= width / 8) return;
  const uint4 g_raw = *reinterpret_cast<const uint4*>(gate_up + t * 2 * width + v * 8);
  const uint4 u_raw = *reinterpret_cast<const uint4*>(gate_up + t * 2 * width + width + v * 8);
  const T* g = reinterpret_cast<const T*>(&g_raw);
  const T* u = reinterpret_cast<const T*>(&u_raw);
  uint4 out_raw;
  T* o = reinterpret_cast<T*>(&out_raw);
#pragma unroll
  for (int e = 0; e < 8; ++e) {
    const float x = to_float(g[e]);
    o[e] = from_float<T>(round_to<T>(x / (1.0f + expf(-x))) * to_float(u[e]));
  }
  *reinterpret_cast<uint4*>(out + t * width + v * 8) = out_raw;
}

template <typename T>
__global__ void broadcast_row_kernel(T* out, const T* row, int32_t width) {
  const int64_t t = blockIdx.y;
  const int32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < width) out[t * width + i] = row[i];
}

template <typename T>
__global__ void fill_uniform_kernel(T* out, int64_t count, float scale, uint64_t seed) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float u = philox_uniform(seed, static_cast<uint64_t>(i));
    out[i] = from_float<T>((2.0f * u - 1.0f) * scale);
  }
}

template <typename To, typename From>
__global__ void convert_kernel(To* out, const From* in, int64_t count) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = from_float<To>(to_float(in[i]));
}

template <typename To>
cudaError_t convert_from(To* out, dtype from, const void* in, int64_t count, cudaStream_t s) {
  const int blocks = static_cast<int>((count + 255) / 256 < 65536 ? (count + 255) / 256 : 65536);
  if (from == dtype::f32)
    convert_kernel<To, float><<<blocks, 256, 0, s>>>(out, static_cast<const float*>(in), count);
  else if (from == dtype::bf16)
    convert_kernel<To, __nv_bfloat16>
        <<<blocks, 256, 0, s>>>(out, static_cast<const __nv_bfloat16*>(in), count);
  else
    convert_kernel<To, __half><<<blocks, 256, 0, s>>>(out, static_cast<const __half*>(in), count);
  return cudaGetLastError();
}

}  // namespace

cudaError_t launch_silu_and_mul(dtype type, void* out, const void* gate_up, int32_t num_tokens,
                                int32_t width, cudaStream_t stream) {
  if (num_tokens == 0) return cudaSuccess;
  const bool vectors = width % 8 == 0;
  const int32_t per_row = vectors ? width / 8 : width;
  const dim3 grid((per_row + 255) / 256, num_tokens);
  TROUPE_DISPATCH_HALF(type, T, {
    return launch_chained(vectors ? silu_and_mul_vec_kernel<T> : silu_and_mul_kernel<T>, grid, dim3(256),
                          0, stream, static_cast<T*>(out), static_cast<const T*>(gate_up), width);
  });
}

cudaError_t launch_broadcast_row(dtype type, void* out, const void* row, int32_t num_tokens,
                                 int32_t width, cudaStream_t stream) {
  if (num_tokens == 0) return cudaSuccess;
  const dim3 grid((width + 255) / 256, num_tokens);
  TROUPE_DISPATCH_HALF(type, T, {
    broadcast_row_kernel<T><<<grid, 256, 0, stream>>>(static_cast<T*>(out),
                                                     static_cast<const T*>(row), width);
  });
  return cudaGetLastError();
}

cudaError_t launch_fill_uniform(dtype type, void* out, int64_t count, float scale, uint64_t seed,
                                cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  const int blocks = static_cast<int>((count + 255) / 256 < 65536 ? (count + 255) / 256 : 65536);
  if (type == dtype::f32) {
    fill_uniform_kernel<float><<<blocks, 256, 0, stream>>>(static_cast<float*>(out), count, scale,
                                                           seed);
    return cudaGetLastError();
  }
  TROUPE_DISPATCH_HALF(type, T, {
    fill_uniform_kernel<T><<<blocks, 256, 0, stream>>>(static_cast<T*>(out), count, scale, seed);
  });
  return cudaGetLastError();
}

cudaError_t launch_convert(dtype to, void* out, dtype from, const void* in, int64_t count,
                           cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  if (to == dtype::f32) return convert_from(static_cast<float*>(out), from, in, count, stream);
  if (to == dtype::bf16)
    return convert_from(static_cast<__nv_bfloat16*>(out), from, in, count, stream);
  return convert_from(static_cast<__half*>(out), from, in, count, stream);
}

}  // namespace troupe::gpu::kernels

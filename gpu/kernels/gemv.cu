#include "gpu/kernels/element.cuh"
#include "gpu/kernels/gemv.hpp"

namespace troupe::gpu::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kUnroll = 4;  // 16-byte weight loads in flight per lane

template <typename T>
__device__ __forceinline__ void unpack8(const uint4& raw, float* out) {
  const T* v = reinterpret_cast<const T*>(&raw);
#pragma unroll
  for (int e = 0; e < 8; ++e) out[e] = to_float(v[e]);
}

// One warp per output feature; lanes stride over k in 8-element vectors.
template <typename T, int M, typename Y>
__global__ void __launch_bounds__(kThreads)
    gemv_kernel(const T* __restrict__ x, const T* __restrict__ w, Y* y, int32_t out_features,
                int32_t in_features, bool accumulate) {
  const int lane = threadIdx.x % 32;
  const int32_t n = blockIdx.x * kWarps + threadIdx.x / 32;
  if (n >= out_features) return;
  const int32_t num_vecs = in_features / 8;
  const uint4* wrow = reinterpret_cast<const uint4*>(w + static_cast<int64_t>(n) * in_features);
  float acc[M];
#pragma unroll
  for (int m = 0; m < M; ++m) acc[m] = 0.0f;
  for (int32_t v0 = lane; v0 < num_vecs; v0 += 32 * kUnroll) {
    uint4 wraw[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int32_t v = v0 + u * 32;
      wraw[u] = v < num_vecs ? __ldcs(wrow + v) : make_uint4(0, 0, 0, 0);  // streamed once
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int32_t v = v0 + u * 32;
      if (v >= num_vecs) break;
      float wf[8];
      unpack8<T>(wraw[u], wf);
#pragma unroll
      for (int m = 0; m < M; ++m) {
        float xf[8];
        unpack8<T>(__ldg(reinterpret_cast<const uint4*>(x + static_cast<int64_t>(m) * in_features) + v), xf);
#pragma unroll
        for (int e = 0; e < 8; ++e) acc[m] += wf[e] * xf[e];
      }
    }
  }
#pragma unroll
  for (int m = 0; m < M; ++m) {
    const float sum = warp_sum(acc[m]);
    if (lane == 0) {
      Y* out = y + static_cast<int64_t>(m) * out_features + n;
      const float prev = accumulate ? to_float(*out) : 0.0f;
      *out = from_float<Y>(sum + prev);
    }
  }
}

template <typename T, typename Y>
cudaError_t launch_rows(const void* x, const void* w, void* y, int32_t rows, int32_t out,
                        int32_t in, bool accumulate, cudaStream_t s) {
  const dim3 grid((out + kWarps - 1) / kWarps);
  const T* xp = static_cast<const T*>(x);
  const T* wp = static_cast<const T*>(w);
  Y* yp = static_cast<Y*>(y);
  switch (rows) {
    case 1: gemv_kernel<T, 1, Y><<<grid, kThreads, 0, s>>>(xp, wp, yp, out, in, accumulate); break;
    case 2: gemv_kernel<T, 2, Y><<<grid, kThreads, 0, s>>>(xp, wp, yp, out, in, accumulate); break;
    case 3: gemv_kernel<T, 3, Y><<<grid, kThreads, 0, s>>>(xp, wp, yp, out, in, accumulate); break;
    case 4: gemv_kernel<T, 4, Y><<<grid, kThreads, 0, s>>>(xp, wp, yp, out, in, accumulate); break;
    case 5: gemv_kernel<T, 5, Y><<<grid, kThreads, 0, s>>>(xp, wp, yp, out, in, accumulate); break;
    case 6: gemv_kernel<T, 6, Y><<<grid, kThreads, 0, s>>>(xp, wp, yp, out, in, accumulate); break;
    case 7: gemv_kernel<T, 7, Y><<<grid, kThreads, 0, s>>>(xp, wp, yp, out, in, accumulate); break;
    case 8: gemv_kernel<T, 8, Y><<<grid, kThreads, 0, s>>>(xp, wp, yp, out, in, accumulate); break;
    default: return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

}  // namespace

cudaError_t launch_gemv(dtype type, const void* x, const void* w, void* y, int32_t rows,
                        int32_t out_features, int32_t in_features, bool accumulate, bool y_fp32,
                        cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  if (in_features % 8 != 0 || rows > kGemvMaxRows) return cudaErrorInvalidValue;
  TROUPE_DISPATCH_HALF(type, T, {
    return y_fp32 ? launch_rows<T, float>(x, w, y, rows, out_features, in_features, accumulate, stream)
                  : launch_rows<T, T>(x, w, y, rows, out_features, in_features, accumulate, stream);
  });
}

}  // namespace troupe::gpu::kernels

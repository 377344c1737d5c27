#include "gpu/kernels/element.cuh"
#include "gpu/kernels/gemv.hpp"
#include "gpu/kernels/launch.cuh"

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
  uint4 wraw[kUnroll];
  auto load_weights = [&](int32_t v0) {
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int32_t v = v0 + u * 32;
      wraw[u] = v < num_vecs ? __ldcs(wrow + v) : make_uint4(0, 0, 0, 0);  // streamed once
    }
  };
  // The first weights do not depend on the previous kernel: in flight
  // before waiting for it (launch_chained).
  load_weights(lane);
  wait_for_previous_kernel();
  for (int32_t v0 = lane; v0 < num_vecs; v0 += 32 * kUnroll) {
    if (v0 != lane) load_weights(v0);
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
    case 1: return launch_chained(gemv_kernel<T, 1, Y>, grid, dim3(kThreads), 0, s, xp, wp, yp, out, in, accumulate);
    case 2: return launch_chained(gemv_kernel<T, 2, Y>, grid, dim3(kThreads), 0, s, xp, wp, yp, out, in, accumulate);
    case 3: return launch_chained(gemv_kernel<T, 3, Y>, grid, dim3(kThreads), 0, s, xp, wp, yp, out, in, accumulate);
    case 4: return launch_chained(gemv_kernel<T, 4, Y>, grid, dim3(kThreads), 0, s, xp, wp, yp, out, in, accumulate);
    case 5: return launch_chained(gemv_kernel<T, 5, Y>, grid, dim3(kThreads), 0, s, xp, wp, yp, out, in, accumulate);
    case 6: return launch_chained(gemv_kernel<T, 6, Y>, grid, dim3(kThreads), 0, s, xp, wp, yp, out, in, accumulate);
    case 7: return launch_chained(gemv_kernel<T, 7, Y>, grid, dim3(kThreads), 0, s, xp, wp, yp, out, in, accumulate);
    case 8: return launch_chained(gemv_kernel<T, 8, Y>, grid, dim3(kThreads), 0, s, xp, wp, yp, out, in, accumulate);
    default: return cudaErrorInvalidValue;
  }
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

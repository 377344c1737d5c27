#include "gpu/kernels/element.cuh"
#include "gpu/kernels/launch.cuh"
#include "gpu/kernels/quant_gemv.hpp"

namespace troupe::gpu::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kUnroll = 4;  // 16-byte code loads in flight per lane

// bitsandbytes' code books (actors/engine/model/quant_4bit.cpp holds the
// reference copy; the GPU test compares the two).
struct code_book {
  float v[16];
};

code_book book_for(quant_format f) {
  static const code_book nf4 = {{-1.0f, -0.6961928009986877f, -0.5250730514526367f,
                                 -0.39491748809814453f, -0.28444138169288635f,
                                 -0.18477343022823334f, -0.09105003625154495f, 0.0f,
                                 0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f,
                                 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f,
                                 0.7229568362236023f, 1.0f}};
  static const code_book fp4 = [] {
    const float raw[16] = {0.0f, 0.0625f, 8.0f, 12.0f, 4.0f, 6.0f, 2.0f, 3.0f,
                           -0.0f, -0.0625f, -8.0f, -12.0f, -4.0f, -6.0f, -2.0f, -3.0f};
    code_book b{};
    for (int i = 0; i < 16; ++i) b.v[i] = raw[i] / 12.0f;
    return b;
  }();
  return f == quant_format::fp4 ? fp4 : nf4;
}

// FP8 E4M3 (OCP E4M3FN): bias 7, no infinities, S.1111.111 is NaN.
__device__ __forceinline__ float e4m3_value(int code) {
  const int e = (code >> 3) & 15, m = code & 7;
  float v;
  if (e == 15 && m == 7) v = __int_as_float(0x7fc00000);
  else if (e == 0) v = ldexpf(static_cast<float>(m), -9);
  else v = ldexpf(1.0f + m * 0.125f, e - 7);
  return (code & 0x80) ? -v : v;
}

template <quant_format F>
struct traits {
  static constexpr bool four_bit = F == quant_format::nf4 || F == quant_format::fp4 || F == quant_format::int4;
  static constexpr int elems = four_bit ? 32 : 16;  // elements per 16-byte chunk of codes
  static constexpr bool table = F == quant_format::nf4 || F == quant_format::fp4 || F == quant_format::fp8;
};

// Fills the decode table of formats that have one (fp8: 256 entries, nf4/fp4: 16).
template <quant_format F>
__device__ __forceinline__ void fill_table(float* lut, const code_book& book) {
  if constexpr (F == quant_format::fp8) {
    for (int i = threadIdx.x; i < 256; i += blockDim.x) lut[i] = e4m3_value(i);
  } else if constexpr (F == quant_format::nf4 || F == quant_format::fp4) {
    if (threadIdx.x < 16) lut[threadIdx.x] = book.v[threadIdx.x];
  }
}

// Decodes one 16-byte chunk into its elems values, before the group scale
// (int4: q - zero).
template <quant_format F>
__device__ __forceinline__ void decode_chunk(const uint4& raw, const float* lut, float zero,
                                             float* out) {
  const uint8_t* b = reinterpret_cast<const uint8_t*>(&raw);
#pragma unroll
  for (int j = 0; j < 16; ++j) {
    if constexpr (traits<F>::four_bit) {
      const int hi = b[j] >> 4, lo = b[j] & 15;
      if constexpr (F == quant_format::int4) {
        out[2 * j] = static_cast<float>(hi) - zero;
        out[2 * j + 1] = static_cast<float>(lo) - zero;
      } else {
        out[2 * j] = lut[hi];
        out[2 * j + 1] = lut[lo];
      }
    } else if constexpr (F == quant_format::fp8) {
      out[j] = lut[b[j]];
    } else {
      out[j] = static_cast<float>(static_cast<int8_t>(b[j]));
    }
  }
}

template <typename T>
__device__ __forceinline__ void unpack8(const uint4& raw, float* out) {
  const T* v = reinterpret_cast<const T*>(&raw);
#pragma unroll
  for (int e = 0; e < 8; ++e) out[e] = to_float(v[e]);
}

// One warp per output feature; lanes stride over 16-byte chunks of its codes.
// A chunk lies inside one scale group (group_size % elems == 0), so its dot
// product is scaled once.
template <typename T, int M, typename Y, quant_format F>
__global__ void __launch_bounds__(kThreads)
    quant_gemv_kernel(const T* __restrict__ x, device_quant_matrix w, code_book book, Y* y,
                      bool accumulate) {
  constexpr int E = traits<F>::elems;
  __shared__ float lut[traits<F>::table ? 256 : 1];
  fill_table<F>(lut, book);
  __syncthreads();
  const int lane = threadIdx.x % 32;
  const int32_t n = blockIdx.x * kWarps + threadIdx.x / 32;
  if (n >= w.rows) return;
  const int32_t num_chunks = w.cols / E;
  const int32_t groups = w.cols / w.group_size;
  const int64_t row_bytes = traits<F>::four_bit ? w.cols / 2 : w.cols;
  const uint4* wrow = reinterpret_cast<const uint4*>(w.codes + static_cast<int64_t>(n) * row_bytes);
  const float* srow = w.scales + static_cast<int64_t>(n) * groups;
  const float* zrow = F == quant_format::int4 ? w.zeros + static_cast<int64_t>(n) * groups : nullptr;
  float acc[M];
#pragma unroll
  for (int m = 0; m < M; ++m) acc[m] = 0.0f;
  uint4 raw[kUnroll];
  auto load_codes = [&](int32_t c0) {
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int32_t c = c0 + u * 32;
      raw[u] = c < num_chunks ? __ldcs(wrow + c) : make_uint4(0, 0, 0, 0);  // streamed once
    }
  };
  // Weights do not depend on the previous kernel: in flight before the wait.
  load_codes(lane);
  wait_for_previous_kernel();
  for (int32_t c0 = lane; c0 < num_chunks; c0 += 32 * kUnroll) {
    if (c0 != lane) load_codes(c0);
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int32_t c = c0 + u * 32;
      if (c >= num_chunks) break;
      const int32_t g = c * E / w.group_size;
      const float scale = __ldg(srow + g);
      const float zero = F == quant_format::int4 ? __ldg(zrow + g) : 0.0f;
      float wv[E];
      decode_chunk<F>(raw[u], lut, zero, wv);
#pragma unroll
      for (int m = 0; m < M; ++m) {
        const uint4* xv = reinterpret_cast<const uint4*>(x + static_cast<int64_t>(m) * w.cols + c * E);
        float dot = 0.0f;
#pragma unroll
        for (int q = 0; q < E / 8; ++q) {
          float xf[8];
          unpack8<T>(__ldg(xv + q), xf);
#pragma unroll
          for (int e = 0; e < 8; ++e) dot += wv[q * 8 + e] * xf[e];
        }
        acc[m] += dot * scale;
      }
    }
  }
#pragma unroll
  for (int m = 0; m < M; ++m) {
    const float sum = warp_sum(acc[m]);
    if (lane == 0) {
      Y* out = y + static_cast<int64_t>(m) * w.rows + n;
      const float prev = accumulate ? to_float(*out) : 0.0f;
      *out = from_float<Y>(sum + prev);
    }
  }
}

// One thread per 16-byte chunk of codes: writes its elems values.
template <typename T, quant_format F>
__global__ void __launch_bounds__(kThreads)
    dequantize_kernel(device_quant_matrix w, code_book book, int32_t row_begin, int32_t num_rows,
                      T* __restrict__ out) {
  constexpr int E = traits<F>::elems;
  __shared__ float lut[traits<F>::table ? 256 : 1];
  fill_table<F>(lut, book);
  __syncthreads();
  const int32_t num_chunks = w.cols / E;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  wait_for_previous_kernel();
  if (i >= static_cast<int64_t>(num_rows) * num_chunks) return;
  const int32_t r = static_cast<int32_t>(i / num_chunks), c = static_cast<int32_t>(i % num_chunks);
  const int32_t row = row_begin + r;
  const int64_t row_bytes = traits<F>::four_bit ? w.cols / 2 : w.cols;
  const int32_t groups = w.cols / w.group_size;
  const int32_t g = c * E / w.group_size;
  const float scale = w.scales[static_cast<int64_t>(row) * groups + g];
  const float zero = F == quant_format::int4 ? w.zeros[static_cast<int64_t>(row) * groups + g] : 0.0f;
  const uint4 raw = reinterpret_cast<const uint4*>(w.codes + static_cast<int64_t>(row) * row_bytes)[c];
  float v[E];
  decode_chunk<F>(raw, lut, zero, v);
  T* dst = out + static_cast<int64_t>(r) * w.cols + static_cast<int64_t>(c) * E;
#pragma unroll
  for (int q = 0; q < E / 8; ++q) {
    alignas(16) T packed[8];
#pragma unroll
    for (int e = 0; e < 8; ++e) packed[e] = from_float<T>(v[q * 8 + e] * scale);
    reinterpret_cast<uint4*>(dst)[q] = *reinterpret_cast<const uint4*>(packed);
  }
}

template <typename T, quant_format F>
cudaError_t gemv_rows(const void* x, const device_quant_matrix& w, void* y, int32_t rows,
                      bool accumulate, cudaStream_t s) {
  const dim3 grid((w.rows + kWarps - 1) / kWarps);
  const T* xp = static_cast<const T*>(x);
  T* yp = static_cast<T*>(y);
  const code_book book = book_for(F);
  switch (rows) {
    case 1: return launch_chained(quant_gemv_kernel<T, 1, T, F>, grid, dim3(kThreads), 0, s, xp, w, book, yp, accumulate);
    case 2: return launch_chained(quant_gemv_kernel<T, 2, T, F>, grid, dim3(kThreads), 0, s, xp, w, book, yp, accumulate);
    case 3: return launch_chained(quant_gemv_kernel<T, 3, T, F>, grid, dim3(kThreads), 0, s, xp, w, book, yp, accumulate);
    case 4: return launch_chained(quant_gemv_kernel<T, 4, T, F>, grid, dim3(kThreads), 0, s, xp, w, book, yp, accumulate);
    case 5: return launch_chained(quant_gemv_kernel<T, 5, T, F>, grid, dim3(kThreads), 0, s, xp, w, book, yp, accumulate);
    case 6: return launch_chained(quant_gemv_kernel<T, 6, T, F>, grid, dim3(kThreads), 0, s, xp, w, book, yp, accumulate);
    case 7: return launch_chained(quant_gemv_kernel<T, 7, T, F>, grid, dim3(kThreads), 0, s, xp, w, book, yp, accumulate);
    case 8: return launch_chained(quant_gemv_kernel<T, 8, T, F>, grid, dim3(kThreads), 0, s, xp, w, book, yp, accumulate);
    default: return cudaErrorInvalidValue;
  }
}

template <typename T>
cudaError_t gemv_format(const void* x, const device_quant_matrix& w, void* y, int32_t rows,
                        bool accumulate, cudaStream_t s) {
  switch (w.format) {
    case quant_format::int8: return gemv_rows<T, quant_format::int8>(x, w, y, rows, accumulate, s);
    case quant_format::fp8: return gemv_rows<T, quant_format::fp8>(x, w, y, rows, accumulate, s);
    case quant_format::nf4: return gemv_rows<T, quant_format::nf4>(x, w, y, rows, accumulate, s);
    case quant_format::fp4: return gemv_rows<T, quant_format::fp4>(x, w, y, rows, accumulate, s);
    case quant_format::int4: return gemv_rows<T, quant_format::int4>(x, w, y, rows, accumulate, s);
    default: return cudaErrorInvalidValue;
  }
}

template <typename T, quant_format F>
cudaError_t dequantize_as(const device_quant_matrix& w, int32_t row_begin, int32_t num_rows,
                          void* out, cudaStream_t s) {
  const int64_t n = static_cast<int64_t>(num_rows) * (w.cols / traits<F>::elems);
  const dim3 grid(static_cast<unsigned>((n + kThreads - 1) / kThreads));
  return launch_chained(dequantize_kernel<T, F>, grid, dim3(kThreads), 0, s, w, book_for(F),
                        row_begin, num_rows, static_cast<T*>(out));
}

template <typename T>
cudaError_t dequantize_format(const device_quant_matrix& w, int32_t row_begin, int32_t num_rows,
                              void* out, cudaStream_t s) {
  switch (w.format) {
    case quant_format::int8: return dequantize_as<T, quant_format::int8>(w, row_begin, num_rows, out, s);
    case quant_format::fp8: return dequantize_as<T, quant_format::fp8>(w, row_begin, num_rows, out, s);
    case quant_format::nf4: return dequantize_as<T, quant_format::nf4>(w, row_begin, num_rows, out, s);
    case quant_format::fp4: return dequantize_as<T, quant_format::fp4>(w, row_begin, num_rows, out, s);
    case quant_format::int4: return dequantize_as<T, quant_format::int4>(w, row_begin, num_rows, out, s);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace

bool quant_shape_supported(const device_quant_matrix& w) {
  const int elems = is_4bit(w.format) ? 32 : 16;
  return w.format != quant_format::none && w.rows > 0 && w.cols > 0 && w.group_size > 0 &&
         w.cols % elems == 0 && w.group_size % elems == 0 && w.cols % w.group_size == 0 &&
         (w.format != quant_format::int4 || w.zeros != nullptr);
}

cudaError_t launch_quant_gemv(dtype type, const void* x, const device_quant_matrix& w, void* y,
                              int32_t rows, bool accumulate, bool y_fp32, cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  if (!quant_shape_supported(w) || rows > kQuantGemvMaxRows || y_fp32) return cudaErrorInvalidValue;
  TROUPE_DISPATCH_HALF(type, T, { return gemv_format<T>(x, w, y, rows, accumulate, stream); });
}

cudaError_t launch_dequantize(dtype type, const device_quant_matrix& w, int32_t row_begin,
                              int32_t num_rows, void* out, cudaStream_t stream) {
  if (num_rows == 0) return cudaSuccess;
  if (!quant_shape_supported(w) || row_begin < 0 || row_begin + num_rows > w.rows)
    return cudaErrorInvalidValue;
  TROUPE_DISPATCH_HALF(type, T, { return dequantize_format<T>(w, row_begin, num_rows, out, stream); });
}

}  // namespace troupe::gpu::kernels

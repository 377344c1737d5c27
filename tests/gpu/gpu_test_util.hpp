#pragma once
// Helpers for the GPU kernel tests: host bf16/fp16 conversion, device buffers,
// fresh random inputs, NaN poisoning and the relative-error measure.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "gpu/weight_map.hpp"

namespace troupe::gpu::test {

inline uint16_t float_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7FFFu + ((u >> 16) & 1u);  // round to nearest even
  return static_cast<uint16_t>(u >> 16);
}
inline float bf16_to_float(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint16_t float_to_f16(float f) {
  // IEEE half, round to nearest even; inputs here are normal and in range.
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  int32_t exp = static_cast<int32_t>((x >> 23) & 0xFF) - 127 + 15;
  uint32_t mant = x & 0x7FFFFFu;
  if (exp <= 0) {  // subnormal half
    if (exp < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    const int shift = 14 - exp;
    uint32_t h = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = (static_cast<uint32_t>(exp) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}
inline float f16_to_float(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  const int32_t exp = (h >> 10) & 0x1F;
  const uint32_t mant = h & 0x3FFu;
  float f;
  if (exp == 0) {
    f = std::ldexp(static_cast<float>(mant), -24);
  } else if (exp == 31) {
    f = mant ? NAN : INFINITY;
  } else {
    f = std::ldexp(static_cast<float>(mant | 0x400u), exp - 25);
  }
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u |= sign;
  std::memcpy(&f, &u, 4);
  return f;
}

inline uint16_t to_half(dtype t, float f) { return t == dtype::bf16 ? float_to_bf16(f) : float_to_f16(f); }
inline float from_half(dtype t, uint16_t h) { return t == dtype::bf16 ? bf16_to_float(h) : f16_to_float(h); }

// A 16-bit tensor on the host, with its values as the storage type holds them.
struct half_tensor {
  dtype type = dtype::bf16;
  std::vector<uint16_t> bits;
  std::vector<float> values;  // exactly representable values of `bits`
};

inline half_tensor random_half(dtype t, size_t n, std::mt19937& rng, float lo = -1.0f,
                               float hi = 1.0f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  half_tensor out;
  out.type = t;
  out.bits.resize(n);
  out.values.resize(n);
  for (size_t i = 0; i < n; ++i) {
    out.bits[i] = to_half(t, dist(rng));
    out.values[i] = from_half(t, out.bits[i]);
  }
  return out;
}

// Owning device buffer.
class device_buffer {
 public:
  device_buffer() = default;
  explicit device_buffer(size_t bytes) : bytes_(bytes) {
    EXPECT_EQ(cudaMalloc(&ptr_, bytes ? bytes : 1), cudaSuccess);
  }
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  device_buffer(device_buffer&& o) noexcept : ptr_(o.ptr_), bytes_(o.bytes_) { o.ptr_ = nullptr; }
  ~device_buffer() {
    if (ptr_) cudaFree(ptr_);
  }
  template <typename T>
  static device_buffer from(const std::vector<T>& host) {
    device_buffer b(host.size() * sizeof(T));
    EXPECT_EQ(cudaMemcpy(b.ptr_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice),
              cudaSuccess);
    return b;
  }
  template <typename T>
  std::vector<T> to_host() const {
    std::vector<T> host(bytes_ / sizeof(T));
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    EXPECT_EQ(cudaMemcpy(host.data(), ptr_, bytes_, cudaMemcpyDeviceToHost), cudaSuccess);
    return host;
  }
  // Fills every byte with 0xFF: NaN in fp32, bf16 and fp16, -1 in ints.
  void poison() { EXPECT_EQ(cudaMemset(ptr_, 0xFF, bytes_), cudaSuccess); }
  void* get() const { return ptr_; }
  template <typename T>
  T* as() const { return static_cast<T*>(ptr_); }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// ||out - ref|| / ||ref||; NaN anywhere in out gives +inf.
inline double relative_error(const std::vector<float>& out, const std::vector<double>& ref) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(out[i])) return INFINITY;
    num += (out[i] - ref[i]) * (out[i] - ref[i]);
    den += ref[i] * ref[i];
  }
  return std::sqrt(num / (den > 0 ? den : 1.0));
}

inline std::vector<float> halves_to_float(dtype t, const std::vector<uint16_t>& h) {
  std::vector<float> f(h.size());
  for (size_t i = 0; i < h.size(); ++i) f[i] = from_half(t, h[i]);
  return f;
}

// The storage-rounding helper the references use where transformers rounds.
inline double round_half(dtype t, double x) { return from_half(t, to_half(t, static_cast<float>(x))); }

}  // namespace troupe::gpu::test

#pragma once
// The one GEMM shape of a decoder, through cuBLAS (bf16/fp16 operands, fp32
// accumulation): y[rows, out] = x[rows, in] @ w[out, in]^T (+ y when
// accumulate). Host-only header.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>

#include "gpu/weight_map.hpp"

namespace troupe::gpu {

class gemm_runner {
 public:
  gemm_runner() = default;
  gemm_runner(const gemm_runner&) = delete;
  gemm_runner& operator=(const gemm_runner&) = delete;
  ~gemm_runner();

  // Creates the cuBLAS handle bound to `stream`, with a fixed workspace (so
  // that calls can be captured into CUDA graphs). Returns an error text or "".
  std::string init(cudaStream_t stream);
  static size_t workspace_bytes() { return size_t{32} << 20; }

  // Rows <= 8 go to the GEMV kernel unless disabled (tests compare both).
  void set_use_gemv(bool on) { use_gemv_ = on; }

  // x, w of `type`; y of `type`, or fp32 when y_fp32. Returns "" on success.
  std::string linear(dtype type, const void* x, const void* w, void* y, int32_t rows,
                     int32_t out_features, int32_t in_features, bool accumulate,
                     bool y_fp32 = false) const;

 private:
  cublasHandle_t handle_ = nullptr;
  void* workspace_ = nullptr;
  cudaStream_t stream_ = nullptr;
  bool use_gemv_ = true;
};

}  // namespace troupe::gpu

#pragma once
// The one GEMM shape of a decoder, through cuBLAS (bf16/fp16 operands, fp32
// accumulation): y[rows, out] = x[rows, in] @ w[out, in]^T (+ y when
// accumulate). Host-only header.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>

#include "gpu/quant_matrix.hpp"
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

  // Products of at most this many rows (<= kernels::kGemvMaxRows) use the
  // GEMV kernel, larger ones cuBLAS. Measured on an H100 (bench/NOTES.md):
  // 1 row is faster than cuBLAS, 8 rows much slower; 0 turns it off.
  void set_gemv_max_rows(int32_t rows) { gemv_max_rows_ = rows; }

  // x, w of `type`; y of `type`, or fp32 when y_fp32. Returns "" on success.
  std::string linear(dtype type, const void* x, const void* w, void* y, int32_t rows,
                     int32_t out_features, int32_t in_features, bool accumulate,
                     bool y_fp32 = false) const;

  // Quantized weights (gpu/quant_matrix.hpp): up to kQuantGemvMaxRows rows run
  // the dequantize-in-register GEMV; more rows dequantize tiles of output
  // rows into a workspace sized to stay in L2 and multiply each with cuBLAS.
  // reserve_dequant sizes that workspace for matrices of up to max_cols
  // columns (call once, before any capture). y: [rows, w.rows] of `type`.
  std::string reserve_dequant(int64_t max_rows, int64_t max_cols, dtype type);
  std::string linear(dtype type, const void* x, const device_quant_matrix& w, void* y,
                     int32_t rows, bool accumulate) const;
  int64_t dequant_workspace_bytes() const { return dequant_bytes_; }

 private:
  cublasHandle_t handle_ = nullptr;
  void* workspace_ = nullptr;
  cudaStream_t stream_ = nullptr;
  int32_t gemv_max_rows_ = 1;
  void* dequant_ = nullptr;
  int64_t dequant_bytes_ = 0;
};

}  // namespace troupe::gpu

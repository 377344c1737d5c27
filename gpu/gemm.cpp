#include "gpu/gemm.hpp"

#include "gpu/cuda_check.hpp"
#include "gpu/kernels/gemv.hpp"
#include "gpu/kernels/quant_gemv.hpp"

#include <algorithm>
#include <cstdlib>

namespace troupe::gpu {

gemm_runner::~gemm_runner() {
  if (handle_ != nullptr) cublasDestroy(handle_);
  if (workspace_ != nullptr) cudaFree(workspace_);
  if (dequant_ != nullptr) cudaFree(dequant_);
}

namespace {

// Tile of dequantized weights per cuBLAS call: small enough to stay in L2
// (50 MB on H100/H200) between the dequantize kernel writing it and the GEMM
// reading it. TROUPE_QUANT_TILE_MB overrides the 24 MiB default.
int64_t tile_budget_bytes() {
  static const int64_t bytes = [] {
    const char* env = std::getenv("TROUPE_QUANT_TILE_MB");
    const long mb = env != nullptr ? std::atol(env) : 0;
    return int64_t{mb > 0 ? mb : 24} << 20;
  }();
  return bytes;
}

int64_t tile_rows(int64_t cols, int64_t elem) {
  const int64_t rows = tile_budget_bytes() / (cols * elem) / 128 * 128;
  return std::max<int64_t>(rows, 128);
}

}  // namespace

std::string gemm_runner::reserve_dequant(int64_t max_rows, int64_t max_cols, dtype type) {
  const int64_t e = static_cast<int64_t>(dtype_size(type));
  const int64_t bytes = std::min(max_rows, tile_rows(max_cols, e)) * max_cols * e;
  if (bytes <= dequant_bytes_) return {};
  if (dequant_ != nullptr) cudaFree(dequant_);
  TROUPE_CUDA_TRY(cudaMalloc(&dequant_, bytes));
  dequant_bytes_ = bytes;
  return {};
}

std::string gemm_runner::linear(dtype type, const void* x, const device_quant_matrix& w, void* y,
                                int32_t rows, bool accumulate) const {
  if (rows == 0) return {};
  if (!kernels::quant_shape_supported(w))
    return std::string("quantized weight [") + std::to_string(w.rows) + ", " +
           std::to_string(w.cols) + "] (" + quant_format_name(w.format) + ", group " +
           std::to_string(w.group_size) + ") has a shape the CUDA kernels do not support";
  if (rows <= kernels::kQuantGemvMaxRows) {
    TROUPE_CUDA_TRY(kernels::launch_quant_gemv(type, x, w, y, rows, accumulate, false, stream_));
    return {};
  }
  const int64_t e = static_cast<int64_t>(dtype_size(type));
  const int64_t chunk = std::min<int64_t>(tile_rows(w.cols, e), w.rows);
  if (dequant_ == nullptr || chunk * w.cols * e > dequant_bytes_)
    return "dequantization workspace not reserved for a [" + std::to_string(w.rows) + ", " +
           std::to_string(w.cols) + "] weight";
  const cudaDataType_t ab = type == dtype::bf16 ? CUDA_R_16BF : CUDA_R_16F;
  const float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
  for (int64_t r0 = 0; r0 < w.rows; r0 += chunk) {
    const int32_t n = static_cast<int32_t>(std::min<int64_t>(chunk, w.rows - r0));
    TROUPE_CUDA_TRY(kernels::launch_dequantize(type, w, static_cast<int32_t>(r0), n, dequant_, stream_));
    // Output columns [r0, r0 + n) of row-major y[rows, w.rows]: column-major
    // y^T with leading dimension w.rows, offset r0.
    void* y_tile = static_cast<char*>(y) + r0 * e;
    TROUPE_CUBLAS_TRY(cublasGemmEx(handle_, CUBLAS_OP_T, CUBLAS_OP_N, n, rows, w.cols, &alpha,
                                   dequant_, ab, w.cols, x, ab, w.cols, &beta, y_tile, ab, w.rows,
                                   CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  }
  return {};
}

std::string gemm_runner::init(cudaStream_t stream) {
  stream_ = stream;
  TROUPE_CUBLAS_TRY(cublasCreate(&handle_));
  TROUPE_CUDA_TRY(cudaMalloc(&workspace_, workspace_bytes()));
  TROUPE_CUBLAS_TRY(cublasSetStream(handle_, stream));
  TROUPE_CUBLAS_TRY(cublasSetWorkspace(handle_, workspace_, workspace_bytes()));
  TROUPE_CUBLAS_TRY(cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH));
  return {};
}

std::string gemm_runner::linear(dtype type, const void* x, const void* w, void* y, int32_t rows,
                                int32_t out_features, int32_t in_features, bool accumulate,
                                bool y_fp32) const {
  if (rows == 0) return {};
  // One row (batch-1 decode): a bandwidth-bound GEMV reads the weights faster
  // than cuBLAS's kernels for this shape.
  if (rows <= gemv_max_rows_ && rows <= kernels::kGemvMaxRows && in_features % 8 == 0) {
    TROUPE_CUDA_TRY(kernels::launch_gemv(type, x, w, y, rows, out_features, in_features, accumulate,
                                         y_fp32, stream_));
    return {};
  }
  const cudaDataType_t ab = type == dtype::bf16 ? CUDA_R_16BF : CUDA_R_16F;
  const cudaDataType_t c = y_fp32 ? CUDA_R_32F : ab;
  const float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
  // Row-major y[rows, out] is column-major y^T[out, rows] = w[out, in] x^T:
  // w (row-major [out, in]) is column-major [in, out], hence op T.
  TROUPE_CUBLAS_TRY(cublasGemmEx(handle_, CUBLAS_OP_T, CUBLAS_OP_N, out_features, rows,
                                 in_features, &alpha, w, ab, in_features, x, ab, in_features,
                                 &beta, y, c, out_features, CUBLAS_COMPUTE_32F,
                                 CUBLAS_GEMM_DEFAULT));
  return {};
}

}  // namespace troupe::gpu

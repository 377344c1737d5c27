#include "gpu/gemm.hpp"

#include "gpu/cuda_check.hpp"
#include "gpu/kernels/gemv.hpp"

namespace troupe::gpu {

gemm_runner::~gemm_runner() {
  if (handle_ != nullptr) cublasDestroy(handle_);
  if (workspace_ != nullptr) cudaFree(workspace_);
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

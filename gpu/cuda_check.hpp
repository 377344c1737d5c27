#pragma once
// Error handling for CUDA runtime and cuBLAS calls inside gpu/: errors are
// values (a message string), never exceptions. Host-only; no kernel code.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <string>

namespace troupe::gpu {

// "<what>: <cuda error name> (<description>)", or empty on success.
inline std::string cuda_error_text(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return {};
  return std::string(what) + ": " + cudaGetErrorName(status) + " (" +
         cudaGetErrorString(status) + ")";
}

inline std::string cublas_error_text(cublasStatus_t status, const char* what) {
  if (status == CUBLAS_STATUS_SUCCESS) return {};
  return std::string(what) + ": cuBLAS status " + std::to_string(static_cast<int>(status));
}

}  // namespace troupe::gpu

// Inside a function returning std::string (empty = ok): return the error text.
#define TROUPE_CUDA_TRY(expr)                                                     \
  do {                                                                            \
    const cudaError_t troupe_status_ = (expr);                                    \
    if (troupe_status_ != cudaSuccess)                                            \
      return ::troupe::gpu::cuda_error_text(troupe_status_, #expr);               \
  } while (0)

#define TROUPE_CUBLAS_TRY(expr)                                                   \
  do {                                                                            \
    const cublasStatus_t troupe_status_ = (expr);                                 \
    if (troupe_status_ != CUBLAS_STATUS_SUCCESS)                                  \
      return ::troupe::gpu::cublas_error_text(troupe_status_, #expr);             \
  } while (0)

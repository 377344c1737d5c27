#pragma once
// The CUDA executor (gpu/cuda_executor.hpp) as an engine::executor. Always
// declared; without CUDA in the build the factory returns nullptr with a
// message and cuda_device_available() is false.
#include <memory>
#include <string>

#include "actors/engine/exec/executor.hpp"
#include "actors/engine/model/quantization_config.hpp"
#include "gpu/cuda_executor.hpp"

namespace troupe::engine {

// True when this build has the CUDA executor and the runtime sees a device.
bool cuda_device_available();

// Opens the Hugging Face checkpoint in `model_dir`, loads its weights onto the
// GPU and sizes the KV cache from the memory left (options.gpu_memory_utilization).
// `quantization` is the --quantization flag, resolved against the checkpoint's
// quantization_config (docs/quantization.md). nullptr and a message naming the
// problem on failure.
std::unique_ptr<executor> make_cuda_executor(const std::string& model_dir,
                                             const gpu::cuda_executor_options& options,
                                             std::string* error,
                                             const quantization_config& quantization = {});

}  // namespace troupe::engine

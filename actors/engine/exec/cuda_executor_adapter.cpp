#include "actors/engine/exec/cuda_executor_adapter.hpp"

#if TROUPE_HAVE_CUDA
#include "actors/engine/model/checkpoint.hpp"
#include "actors/engine/model/quantized_linear.hpp"
#endif

namespace troupe::engine {

#if TROUPE_HAVE_CUDA
namespace {

class cuda_executor_adapter final : public executor {
 public:
  explicit cuda_executor_adapter(std::unique_ptr<gpu::cuda_executor> exec)
      : exec_(std::move(exec)) {}

  std::string name() const override { return "cuda"; }
  const gpu::model_spec& spec() const override { return exec_->spec(); }
  int64_t num_kv_blocks() const override { return exec_->num_kv_blocks(); }
  int32_t block_size() const override { return exec_->block_size(); }

  bool supports_token_masks() const override { return true; }  // applied in the sampling kernel
  // The CUDA executor reports a failed step through last_error() (and an
  // empty result); here it becomes an engine_error the engine can act on.
  expected<gpu::step_result> try_execute(const gpu::step_batch& batch) override {
    gpu::step_result r = exec_->execute(batch);
    if (!exec_->last_error().empty()) return engine_error{"cuda executor: " + exec_->last_error()};
    if (static_cast<int32_t>(r.sampled_token_ids.size()) < batch.num_seqs)
      return engine_error{"cuda executor: the step returned no sampled tokens"};
    return r;
  }

 private:
  std::unique_ptr<gpu::cuda_executor> exec_;
};

}  // namespace

bool cuda_device_available() { return gpu::cuda_device_count_positive(nullptr); }

std::unique_ptr<executor> make_cuda_executor(const std::string& model_dir,
                                             const gpu::cuda_executor_options& options,
                                             std::string* error,
                                             const quantization_config& quantization) {
  std::string reason;
  if (!gpu::cuda_device_count_positive(&reason)) {
    if (error != nullptr) *error = "no usable CUDA device: " + reason;
    return nullptr;
  }
  // The checkpoint's mappings only need to live while the weights are copied.
  auto ckpt = checkpoint::open(model_dir, error);
  if (!ckpt) return nullptr;
  auto quant = resolve_quantization(quantization, ckpt->quantization(), error);
  if (!quant) return nullptr;
  std::unique_ptr<gpu::cuda_executor> exec;
  if (quant->active()) {
    gpu::quantized_linears linears;
    if (auto err = read_quantized_linears(ckpt->spec(), ckpt->weights(), *quant, linears);
        !err.empty()) {
      if (error != nullptr) *error = model_dir + ": " + err;
      return nullptr;
    }
    exec = gpu::cuda_executor::create(ckpt->spec(), ckpt->weights(), options, error, &linears);
  } else {
    exec = gpu::cuda_executor::create(ckpt->spec(), ckpt->weights(), options, error);
  }
  if (!exec) {
    if (error != nullptr) *error = model_dir + ": " + *error;
    return nullptr;
  }
  return std::make_unique<cuda_executor_adapter>(std::move(exec));
}

#else

bool cuda_device_available() { return false; }

std::unique_ptr<executor> make_cuda_executor(const std::string&, const gpu::cuda_executor_options&,
                                             std::string* error, const quantization_config&) {
  if (error != nullptr) *error = "this build of troupe has no CUDA executor (TROUPE_CUDA=OFF)";
  return nullptr;
}

#endif

}  // namespace troupe::engine

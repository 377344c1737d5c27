#pragma once
// An executor runs one model step: the forward pass over a step_batch (reading
// and writing the paged KV cache it owns) and sampling. It is a plain object,
// driven by one thread (the scheduler's); it never sends messages.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "actors/engine/expected.hpp"
#include "gpu/model_spec.hpp"
#include "gpu/step_batch.hpp"

namespace troupe::engine {

struct step_failed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class executor {
 public:
  virtual ~executor() = default;

  // "cpu" or "cuda".
  virtual std::string name() const = 0;
  virtual const gpu::model_spec& spec() const = 0;
  // Number of KV blocks of block_size() tokens the executor's cache holds;
  // the block pool hands out ids in [0, num_kv_blocks()).
  virtual int64_t num_kv_blocks() const = 0;
  virtual int32_t block_size() const = 0;

  // Runs one iteration. Preconditions: the batch is well-formed (see
  // gpu/step_batch.hpp) and every slot / block id is < num_kv_blocks().
  // A failed step (a CUDA fault, a lost device) is an engine_error, never an
  // empty or partial result.
  virtual expected<gpu::step_result> try_execute(const gpu::step_batch& batch) = 0;

  // try_execute for tests, benchmarks and offline tools: throws
  // step_failed on an error.
  gpu::step_result execute(const gpu::step_batch& batch) {
    auto r = try_execute(batch);
    if (!r) throw step_failed(r.error().message);
    return std::move(r).value();
  }

  // The engine has nothing left to run: memory that only serves steps in
  // flight (scratch sized to the largest batch seen) may be handed back.
  virtual void release_idle_memory() {}

  // Whether execute() honours step_batch's logit bias and token masks; the
  // engine refuses requests that need them otherwise.
  virtual bool supports_token_masks() const { return false; }
};

}  // namespace troupe::engine

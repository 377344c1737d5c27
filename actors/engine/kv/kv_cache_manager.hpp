#pragma once
// Per-request KV block bookkeeping on top of the block pool: which blocks a
// request holds (its block table), the longest cached prefix of its prompt,
// and registration of newly full prompt blocks in the prefix cache.
//
// Invariants:
//  - A request holds exactly ceil(num_tokens_allocated / block_size) blocks in
//    request_state::block_ids, each with one reference from it.
//  - Only full prompt blocks whose KV has been computed are registered
//    (cached); a registered block's contents never change while it is cached,
//    because only its tokens' positions were written into it.
//  - A prefix hit always leaves at least one token to compute, so the step that
//    finishes the prompt produces the logits for the first sampled token.
#include <cstdint>
#include <vector>

#include "actors/engine/kv/block_pool.hpp"
#include "actors/engine/sched/request_state.hpp"

namespace troupe::engine {

struct prefix_hit {
  std::vector<int32_t> block_ids;  // cached blocks, in prompt order
  int32_t num_cached_tokens = 0;   // block_ids.size() * block_size
};

class kv_cache_manager {
 public:
  kv_cache_manager(int64_t num_blocks, int32_t block_size, bool enable_prefix_caching);

  int32_t block_size() const { return block_size_; }
  int64_t num_blocks() const { return pool_.num_blocks(); }
  int64_t num_free_blocks() const { return pool_.num_free_blocks(); }
  const block_pool& pool() const { return pool_; }

  // The longest run of cached full prompt blocks of a request that holds no
  // blocks yet, capped so that at least its last token is left to compute.
  prefix_hit find_cached_prefix(request_state& request);

  // Gives the request blocks for num_computed_tokens + num_new_tokens tokens,
  // first taking the `hit` blocks (only when it holds none, and then
  // num_computed_tokens must equal hit.num_cached_tokens). Returns false, and
  // changes nothing, when the pool is short.
  bool allocate_slots(request_state& request, int32_t num_new_tokens,
                      const prefix_hit& hit = {});

  // Registers the request's full prompt blocks that are computed now.
  void cache_full_blocks(request_state& request);

  // Drops the request's references, last block first so that the tail of a
  // sequence (least likely shared) is evicted before its head.
  void free(request_state& request);

 private:
  void ensure_prompt_hashes(request_state& request) const;

  int32_t block_size_;
  bool enable_prefix_caching_;
  block_pool pool_;
};

}  // namespace troupe::engine

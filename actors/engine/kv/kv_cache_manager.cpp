#include "actors/engine/kv/kv_cache_manager.hpp"

#include <algorithm>
#include <span>

namespace troupe::engine {

kv_cache_manager::kv_cache_manager(int64_t num_blocks, int32_t block_size,
                                   bool enable_prefix_caching)
    : block_size_(block_size), enable_prefix_caching_(enable_prefix_caching), pool_(num_blocks) {}

void kv_cache_manager::ensure_prompt_hashes(request_state& request) const {
  const int32_t num_full = request.num_prompt_tokens / block_size_;
  if (static_cast<int32_t>(request.prompt_block_hashes.size()) == num_full) return;
  request.prompt_block_hashes.clear();
  block_hash parent = first_block_parent_hash;
  for (int32_t b = 0; b < num_full; ++b) {
    const std::span<const int32_t> tokens(request.token_ids.data() + b * block_size_,
                                          static_cast<size_t>(block_size_));
    parent = hash_block_tokens(parent, tokens);
    request.prompt_block_hashes.push_back(parent);
  }
}

prefix_hit kv_cache_manager::find_cached_prefix(request_state& request) {
  prefix_hit hit;
  if (!enable_prefix_caching_ || !request.block_ids.empty()) return hit;
  ensure_prompt_hashes(request);
  const int32_t max_blocks = (request.num_tokens() - 1) / block_size_;
  for (block_hash h : request.prompt_block_hashes) {
    if (static_cast<int32_t>(hit.block_ids.size()) >= max_blocks) break;
    const auto id = pool_.lookup(h);
    if (!id) break;
    hit.block_ids.push_back(*id);
  }
  hit.num_cached_tokens = static_cast<int32_t>(hit.block_ids.size()) * block_size_;
  return hit;
}

bool kv_cache_manager::allocate_slots(request_state& request, int32_t num_new_tokens,
                                      const prefix_hit& hit) {
  const int32_t num_tokens_needed = request.num_computed_tokens + num_new_tokens;
  const int64_t num_blocks_needed = (num_tokens_needed + block_size_ - 1) / block_size_;
  const int64_t num_held =
      static_cast<int64_t>(request.block_ids.size() + hit.block_ids.size());
  const int64_t num_new_blocks = std::max<int64_t>(0, num_blocks_needed - num_held);
  // Hit blocks that are free now leave the free list when acquired.
  int64_t num_free_hits = 0;
  for (int32_t id : hit.block_ids) num_free_hits += pool_.ref_count(id) == 0;
  if (num_new_blocks + num_free_hits > pool_.num_free_blocks()) return false;

  if (!hit.block_ids.empty()) {
    pool_.acquire(hit.block_ids);
    request.block_ids = hit.block_ids;
    request.num_registered_blocks = static_cast<int32_t>(hit.block_ids.size());
  }
  if (num_new_blocks > 0) {
    auto fresh = pool_.allocate(num_new_blocks);
    request.block_ids.insert(request.block_ids.end(), fresh->begin(), fresh->end());
  }
  return true;
}

void kv_cache_manager::cache_full_blocks(request_state& request) {
  if (!enable_prefix_caching_) return;
  ensure_prompt_hashes(request);
  const int32_t num_computed_prompt =
      std::min(request.num_computed_tokens, request.num_prompt_tokens);
  const int32_t num_full = num_computed_prompt / block_size_;
  for (int32_t b = request.num_registered_blocks; b < num_full; ++b) {
    pool_.cache(request.block_ids[b], request.prompt_block_hashes[b]);
  }
  request.num_registered_blocks = std::max(request.num_registered_blocks, num_full);
}

void kv_cache_manager::free(request_state& request) {
  std::vector<int32_t> reversed(request.block_ids.rbegin(), request.block_ids.rend());
  pool_.release(reversed);
  request.block_ids.clear();
  request.num_registered_blocks = 0;
}

}  // namespace troupe::engine

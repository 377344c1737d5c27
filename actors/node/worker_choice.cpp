#include "actors/node/worker_choice.hpp"

#include <algorithm>
#include <span>

#include "actors/engine/kv/block_pool.hpp"

namespace troupe::actors {

namespace {

// Rendezvous score of (key, worker name): FNV-1a over the name's bytes seeded
// with the key, then a 64-bit finalizer (splitmix64).
uint64_t mix(uint64_t h) {
  h += 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

uint64_t fnv1a(uint64_t h, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

}  // namespace

std::optional<uint64_t> prefix_affinity_key(const std::vector<int32_t>& prompt_token_ids,
                                            int32_t block_size, int32_t max_blocks) {
  if (block_size <= 0) return std::nullopt;
  const size_t num_blocks = std::min<size_t>(prompt_token_ids.size() / block_size, max_blocks);
  if (num_blocks == 0) return std::nullopt;
  // The prefix cache's own chained block hash: equal keys mean equal cached blocks.
  engine::block_hash h = engine::first_block_parent_hash;
  for (size_t b = 0; b < num_blocks; ++b)
    h = engine::hash_block_tokens(
        h, std::span<const int32_t>(prompt_token_ids.data() + b * block_size, block_size));
  return h;
}

int32_t choose_worker(const std::vector<worker_load>& candidates, std::optional<uint64_t> affinity_key,
                      int64_t max_imbalance) {
  if (candidates.empty()) return -1;
  int32_t least = 0;
  for (int32_t i = 1; i < static_cast<int32_t>(candidates.size()); ++i) {
    const auto& a = candidates[i];
    const auto& b = candidates[least];
    if (a.load < b.load || (a.load == b.load && a.free_blocks > b.free_blocks)) least = i;
  }
  if (!affinity_key) return least;
  int32_t preferred = 0;
  uint64_t best = 0;
  for (int32_t i = 0; i < static_cast<int32_t>(candidates.size()); ++i) {
    const std::string& name = candidates[i].address;
    const uint64_t score = mix(fnv1a(*affinity_key, name.data(), name.size()));
    if (i == 0 || score > best) best = score, preferred = i;
  }
  if (candidates[preferred].load > candidates[least].load + max_imbalance) return least;
  return preferred;
}

}  // namespace troupe::actors

#include "actors/engine/kv/block_pool.hpp"

#include <cassert>

namespace troupe::engine {
namespace {

// splitmix64 finalizer (Steele et al., "Fast splittable pseudorandom number
// generators"): a full-avalanche 64-bit mix.
uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

block_hash hash_block_tokens(block_hash parent_hash, std::span<const int32_t> token_ids) {
  uint64_t h = mix64(parent_hash ^ (static_cast<uint64_t>(token_ids.size()) << 32));
  for (int32_t t : token_ids) h = mix64(h ^ static_cast<uint32_t>(t));
  return h;
}

block_pool::block_pool(int64_t num_blocks) : blocks_(static_cast<size_t>(num_blocks)) {
  for (int64_t id = 0; id < num_blocks; ++id) push_free_tail(static_cast<int32_t>(id));
}

std::optional<std::vector<int32_t>> block_pool::allocate(int64_t count) {
  if (count > num_free_) return std::nullopt;
  std::vector<int32_t> ids;
  ids.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const int32_t id = free_head_;
    unlink_free(id);
    block& b = blocks_[id];
    if (b.has_hash) {
      cached_.erase(b.hash);
      b.has_hash = false;
    }
    b.ref_count = 1;
    ids.push_back(id);
  }
  return ids;
}

std::optional<int32_t> block_pool::lookup(block_hash hash) const {
  const auto it = cached_.find(hash);
  if (it == cached_.end()) return std::nullopt;
  return it->second;
}

void block_pool::acquire(std::span<const int32_t> block_ids) {
  for (int32_t id : block_ids) {
    if (blocks_[id].ref_count++ == 0) unlink_free(id);
  }
}

void block_pool::release(std::span<const int32_t> block_ids) {
  for (int32_t id : block_ids) {
    assert(blocks_[id].ref_count > 0);
    if (--blocks_[id].ref_count == 0) push_free_tail(id);
  }
}

bool block_pool::cache(int32_t block_id, block_hash hash) {
  block& b = blocks_[block_id];
  if (b.has_hash || !cached_.emplace(hash, block_id).second) return false;
  b.has_hash = true;
  b.hash = hash;
  return true;
}

void block_pool::push_free_tail(int32_t id) {
  block& b = blocks_[id];
  b.prev_free = free_tail_;
  b.next_free = -1;
  if (free_tail_ >= 0) {
    blocks_[free_tail_].next_free = id;
  } else {
    free_head_ = id;
  }
  free_tail_ = id;
  ++num_free_;
}

void block_pool::unlink_free(int32_t id) {
  block& b = blocks_[id];
  if (b.prev_free >= 0) {
    blocks_[b.prev_free].next_free = b.next_free;
  } else {
    free_head_ = b.next_free;
  }
  if (b.next_free >= 0) {
    blocks_[b.next_free].prev_free = b.prev_free;
  } else {
    free_tail_ = b.prev_free;
  }
  b.prev_free = b.next_free = -1;
  --num_free_;
}

}  // namespace troupe::engine

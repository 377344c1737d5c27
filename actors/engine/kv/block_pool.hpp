#pragma once
// The pool of KV cache blocks: ids [0, num_blocks), each holding block_size
// tokens' K and V in the executor's cache. Plain bookkeeping, no KV data.
//
// Invariants:
//  - A block is FREE iff its ref_count is 0; free blocks sit in one list in the
//    order they were freed (least recently freed at the head). allocate() takes
//    from the head, so a freed block is reused as late as possible.
//  - A block may carry the hash of the full block of tokens it holds ("cached").
//    The map hash -> block holds exactly the cached blocks, one block per hash.
//    A cached block stays findable after it is freed (ref_count 0) until
//    allocate() hands it out again: that evicts the hash (LRU eviction).
//  - acquire() of a cached free block takes it out of the free list, so
//    num_free_blocks() counts every block that allocate() could hand out.
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

namespace troupe::engine {

using block_hash = uint64_t;

// Hash of a full block chained on its parent's hash (the block before it in the
// sequence; parent = first_block_parent_hash for the first block), so a hash
// names the whole prefix up to the block's end. 64 bits: two different cached
// prefixes collide with probability about n^2 / 2^65 for n cached blocks.
inline constexpr block_hash first_block_parent_hash = 0x243F6A8885A308D3ull;
block_hash hash_block_tokens(block_hash parent_hash, std::span<const int32_t> token_ids);

class block_pool {
 public:
  explicit block_pool(int64_t num_blocks);

  int64_t num_blocks() const { return static_cast<int64_t>(blocks_.size()); }
  int64_t num_free_blocks() const { return num_free_; }
  int64_t num_cached_blocks() const { return static_cast<int64_t>(cached_.size()); }
  int32_t ref_count(int32_t block_id) const { return blocks_[block_id].ref_count; }

  // Takes `count` free blocks, least recently freed first, evicting their
  // hashes; each returns with ref_count 1. nullopt (and no change) if fewer
  // than `count` blocks are free.
  std::optional<std::vector<int32_t>> allocate(int64_t count);
  // The cached block holding the full block with this hash, if any.
  std::optional<int32_t> lookup(block_hash hash) const;
  // One more reference to each block (a free one leaves the free list and
  // keeps its hash).
  void acquire(std::span<const int32_t> block_ids);
  // One reference less; a block reaching 0 joins the tail of the free list.
  void release(std::span<const int32_t> block_ids);
  // Registers a full, computed block under `hash`. Returns false and leaves the
  // block uncached when another block already holds that hash or this block
  // is already cached.
  bool cache(int32_t block_id, block_hash hash);

 private:
  struct block {
    int32_t ref_count = 0;
    bool has_hash = false;
    block_hash hash = 0;
    int32_t prev_free = -1;  // free-list links, -1 = none
    int32_t next_free = -1;
  };
  void push_free_tail(int32_t id);
  void unlink_free(int32_t id);

  std::vector<block> blocks_;
  int32_t free_head_ = -1;
  int32_t free_tail_ = -1;
  int64_t num_free_ = 0;
  std::unordered_map<block_hash, int32_t> cached_;
};

}  // namespace troupe::engine

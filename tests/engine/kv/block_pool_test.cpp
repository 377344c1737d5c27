#include <gtest/gtest.h>

#include <vector>

#include "actors/engine/kv/block_pool.hpp"

namespace troupe::engine {
namespace {

TEST(BlockPool, AllocatesEveryBlockOnceAndRefusesWhenShortWithoutChange) {
  block_pool pool(4);
  auto a = pool.allocate(3);
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(pool.num_free_blocks(), 1);
  EXPECT_FALSE(pool.allocate(2));
  EXPECT_EQ(pool.num_free_blocks(), 1);
  for (int32_t id : *a) EXPECT_EQ(pool.ref_count(id), 1);
}

TEST(BlockPool, FreedBlocksAreReusedLeastRecentlyFreedFirst) {
  block_pool pool(4);
  auto a = *pool.allocate(4);
  pool.release(std::vector<int32_t>{2});
  pool.release(std::vector<int32_t>{0});
  pool.release(std::vector<int32_t>{3});
  EXPECT_EQ(*pool.allocate(2), (std::vector<int32_t>{2, 0}));
  EXPECT_EQ(*pool.allocate(1), (std::vector<int32_t>{3}));
}

TEST(BlockPool, ASharedBlockIsFreeOnlyWhenItsLastReferenceGoes) {
  block_pool pool(2);
  auto a = *pool.allocate(1);
  pool.acquire(a);
  EXPECT_EQ(pool.ref_count(a[0]), 2);
  pool.release(a);
  EXPECT_EQ(pool.num_free_blocks(), 1);
  pool.release(a);
  EXPECT_EQ(pool.num_free_blocks(), 2);
}

TEST(BlockPool, ACachedBlockStaysFindableAfterFreeUntilItsMemoryIsNeeded) {
  block_pool pool(3);
  auto a = *pool.allocate(3);
  ASSERT_TRUE(pool.cache(a[1], 111));
  ASSERT_TRUE(pool.cache(a[2], 222));
  pool.release(std::vector<int32_t>{a[1]});  // free order: 1, then 0, then 2
  pool.release(std::vector<int32_t>{a[0]});
  pool.release(std::vector<int32_t>{a[2]});
  EXPECT_EQ(pool.num_free_blocks(), 3);
  EXPECT_EQ(pool.lookup(111), a[1]);
  EXPECT_EQ(pool.lookup(222), a[2]);
  // The least recently freed block (1) is evicted first; 222 survives.
  EXPECT_EQ(*pool.allocate(1), (std::vector<int32_t>{a[1]}));
  EXPECT_FALSE(pool.lookup(111));
  EXPECT_EQ(pool.lookup(222), a[2]);
  EXPECT_EQ(pool.num_cached_blocks(), 1);
}

TEST(BlockPool, AcquiringACachedFreeBlockTakesItOffTheFreeList) {
  block_pool pool(2);
  auto a = *pool.allocate(2);
  pool.cache(a[0], 7);
  pool.release(a);
  pool.acquire(std::vector<int32_t>{a[0]});  // a prefix-cache hit
  EXPECT_EQ(pool.num_free_blocks(), 1);
  EXPECT_EQ(*pool.allocate(1), (std::vector<int32_t>{a[1]}));  // never hands out the hit
  EXPECT_FALSE(pool.allocate(1));
  EXPECT_EQ(pool.lookup(7), a[0]);
}

TEST(BlockPool, AHashIsCachedByOneBlockOnly) {
  block_pool pool(2);
  auto a = *pool.allocate(2);
  EXPECT_TRUE(pool.cache(a[0], 5));
  EXPECT_FALSE(pool.cache(a[1], 5));
  EXPECT_FALSE(pool.cache(a[0], 6));
  EXPECT_EQ(pool.lookup(5), a[0]);
  EXPECT_FALSE(pool.lookup(6));
}

TEST(BlockHash, NamesTheWholePrefixNotJustTheBlock) {
  const std::vector<int32_t> x = {1, 2, 3, 4}, y = {1, 2, 3, 5};
  const block_hash hx = hash_block_tokens(first_block_parent_hash, x);
  EXPECT_EQ(hx, hash_block_tokens(first_block_parent_hash, x));
  EXPECT_NE(hx, hash_block_tokens(first_block_parent_hash, y));
  // The same tokens after different parents hash differently.
  EXPECT_NE(hash_block_tokens(hx, x),
            hash_block_tokens(hash_block_tokens(first_block_parent_hash, y), x));
  // Order matters.
  EXPECT_NE(hx, hash_block_tokens(first_block_parent_hash, std::vector<int32_t>{4, 3, 2, 1}));
}

}  // namespace
}  // namespace troupe::engine

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "actors/engine/kv/kv_cache_manager.hpp"

namespace troupe::engine {
namespace {

request_state make_state(int32_t num_prompt_tokens, int32_t first_token = 1) {
  request_state r;
  r.token_ids.resize(num_prompt_tokens);
  std::iota(r.token_ids.begin(), r.token_ids.end(), first_token);
  r.num_prompt_tokens = num_prompt_tokens;
  return r;
}

// Allocates and "computes" the whole prompt of r, registering its blocks.
void compute_prompt(kv_cache_manager& kv, request_state& r) {
  const prefix_hit hit = kv.find_cached_prefix(r);
  r.num_computed_tokens = hit.num_cached_tokens;
  ASSERT_TRUE(kv.allocate_slots(r, r.num_tokens() - r.num_computed_tokens, hit));
  r.num_computed_tokens = r.num_tokens();
  kv.cache_full_blocks(r);
}

TEST(KvCacheManager, AllocatesCeilOfTokensOverBlockSizeAndGrowsByWholeBlocks) {
  kv_cache_manager kv(10, 4, false);
  request_state r = make_state(9);
  ASSERT_TRUE(kv.allocate_slots(r, 9));
  EXPECT_EQ(r.block_ids.size(), 3u);
  r.num_computed_tokens = 9;
  ASSERT_TRUE(kv.allocate_slots(r, 3));  // up to 12 tokens: still 3 blocks
  EXPECT_EQ(r.block_ids.size(), 3u);
  r.num_computed_tokens = 12;
  ASSERT_TRUE(kv.allocate_slots(r, 1));
  EXPECT_EQ(r.block_ids.size(), 4u);
  EXPECT_EQ(kv.num_free_blocks(), 6);
}

TEST(KvCacheManager, RefusesWithoutChangeWhenThePoolIsShort) {
  kv_cache_manager kv(3, 4, false);
  request_state r = make_state(13);
  EXPECT_FALSE(kv.allocate_slots(r, 13));
  EXPECT_TRUE(r.block_ids.empty());
  EXPECT_EQ(kv.num_free_blocks(), 3);
}

TEST(KvCacheManager, FindsTheLongestCachedRunOfFullPromptBlocks) {
  kv_cache_manager kv(16, 4, true);
  request_state a = make_state(10);  // blocks [1..4] [5..8] and a partial [9, 10]
  compute_prompt(kv, a);
  const std::vector<int32_t> a_blocks = a.block_ids;
  kv.free(a);
  EXPECT_EQ(kv.num_free_blocks(), 16);

  request_state b = make_state(14);  // same first 10 tokens, continues 11..14
  const prefix_hit hit = kv.find_cached_prefix(b);
  EXPECT_EQ(hit.num_cached_tokens, 8);  // the partial block was never cached
  EXPECT_EQ(hit.block_ids, std::vector<int32_t>(a_blocks.begin(), a_blocks.begin() + 2));

  request_state c = make_state(10, 2);  // differs at the first token
  EXPECT_EQ(kv.find_cached_prefix(c).num_cached_tokens, 0);
}

TEST(KvCacheManager, AFullyCachedPromptLeavesItsLastTokenToCompute) {
  kv_cache_manager kv(16, 4, true);
  request_state a = make_state(8);
  compute_prompt(kv, a);
  request_state b = make_state(8);
  const prefix_hit hit = kv.find_cached_prefix(b);
  EXPECT_EQ(hit.num_cached_tokens, 4);
  // While a still holds its blocks, b shares the first one.
  b.num_computed_tokens = hit.num_cached_tokens;
  ASSERT_TRUE(kv.allocate_slots(b, 4, hit));
  EXPECT_EQ(b.block_ids[0], a.block_ids[0]);
  EXPECT_NE(b.block_ids[1], a.block_ids[1]);
  EXPECT_EQ(kv.pool().ref_count(a.block_ids[0]), 2);
  kv.free(a);
  kv.free(b);
  EXPECT_EQ(kv.num_free_blocks(), 16);
}

TEST(KvCacheManager, DisabledPrefixCachingNeverHits) {
  kv_cache_manager kv(16, 4, false);
  request_state a = make_state(12);
  compute_prompt(kv, a);
  kv.free(a);
  request_state b = make_state(12);
  EXPECT_EQ(kv.find_cached_prefix(b).num_cached_tokens, 0);
  EXPECT_EQ(kv.pool().num_cached_blocks(), 0);
}

TEST(KvCacheManager, OnlyComputedPromptBlocksAreRegistered) {
  kv_cache_manager kv(16, 4, true);
  request_state a = make_state(8);
  ASSERT_TRUE(kv.allocate_slots(a, 8));
  a.num_computed_tokens = 5;  // a chunk: one full block computed
  kv.cache_full_blocks(a);
  EXPECT_EQ(kv.pool().num_cached_blocks(), 1);
  a.num_computed_tokens = 8;
  a.token_ids.insert(a.token_ids.end(), {50, 51, 52, 53});  // output tokens
  ASSERT_TRUE(kv.allocate_slots(a, 4));
  a.num_computed_tokens = 12;
  kv.cache_full_blocks(a);
  EXPECT_EQ(kv.pool().num_cached_blocks(), 2);  // output blocks stay uncached
}

TEST(KvCacheManager, AHitOnFreeCachedBlocksCountsThemAgainstThePool) {
  kv_cache_manager kv(3, 4, true);
  request_state a = make_state(9);  // 2 cached full blocks + 1 partial
  compute_prompt(kv, a);
  kv.free(a);
  request_state b = make_state(12);  // hits 2 blocks, needs 1 more: fits exactly
  prefix_hit hit = kv.find_cached_prefix(b);
  ASSERT_EQ(hit.num_cached_tokens, 8);
  b.num_computed_tokens = 8;
  EXPECT_FALSE(kv.allocate_slots(b, 8, hit));  // 16 tokens = 4 blocks > 3
  EXPECT_EQ(kv.num_free_blocks(), 3);
  ASSERT_TRUE(kv.allocate_slots(b, 4, hit));
  EXPECT_EQ(kv.num_free_blocks(), 0);
  EXPECT_EQ(kv.pool().num_cached_blocks(), 2);  // the hits were not evicted
}

}  // namespace
}  // namespace troupe::engine

// Routing by load and prompt prefix, without actors.
#include <gtest/gtest.h>

#include <map>

#include "actors/node/worker_choice.hpp"

namespace troupe::actors {
namespace {

std::vector<int32_t> prompt(int32_t length, int32_t salt) {
  std::vector<int32_t> ids;
  for (int32_t i = 0; i < length; ++i) ids.push_back(salt * 1000 + i);
  return ids;
}

std::vector<worker_load> three_idle_workers() {
  return {{1, "10.0.0.1:7000", 0, 100}, {2, "10.0.0.2:7000", 0, 100}, {3, "10.0.0.3:7000", 0, 100}};
}

TEST(WorkerChoice, no_candidate_means_no_worker) {
  EXPECT_EQ(choose_worker({}, std::nullopt, 8), -1);
}

TEST(WorkerChoice, a_short_prompt_goes_to_the_least_loaded_worker_then_the_one_with_most_free_blocks) {
  std::vector<worker_load> w = {{1, "a", 5, 10}, {2, "b", 2, 10}, {3, "c", 2, 50}};
  EXPECT_EQ(prefix_affinity_key(prompt(15, 1), 16), std::nullopt);
  EXPECT_EQ(choose_worker(w, std::nullopt, 8), 2);
}

TEST(WorkerChoice, prompts_sharing_their_leading_blocks_meet_on_one_worker) {
  auto w = three_idle_workers();
  std::vector<int32_t> a = prompt(64, 7), b = prompt(64, 7);
  b.insert(b.end(), {1, 2, 3, 4, 5});  // same first four blocks, different tail
  EXPECT_EQ(prefix_affinity_key(a, 16), prefix_affinity_key(b, 16));
  EXPECT_EQ(choose_worker(w, prefix_affinity_key(a, 16), 8), choose_worker(w, prefix_affinity_key(b, 16), 8));
}

TEST(WorkerChoice, different_prefixes_spread_over_the_workers) {
  auto w = three_idle_workers();
  std::map<int32_t, int32_t> hits;
  for (int32_t salt = 0; salt < 300; ++salt) ++hits[choose_worker(w, prefix_affinity_key(prompt(32, salt), 16), 8)];
  ASSERT_EQ(hits.size(), 3u);
  for (const auto& [index, count] : hits) EXPECT_GT(count, 60) << "worker " << index << " got " << count;
}

TEST(WorkerChoice, affinity_yields_to_load_beyond_the_imbalance_bound) {
  auto w = three_idle_workers();
  const auto key = prefix_affinity_key(prompt(32, 11), 16);
  const int32_t preferred = choose_worker(w, key, 8);
  w[preferred].load = 8;  // at the bound: still preferred
  EXPECT_EQ(choose_worker(w, key, 8), preferred);
  w[preferred].load = 9;  // beyond it: the least loaded wins
  EXPECT_NE(choose_worker(w, key, 8), preferred);
}

}  // namespace
}  // namespace troupe::actors

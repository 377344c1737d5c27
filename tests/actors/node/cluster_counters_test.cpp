// The gateway's engine counters (prefix cache, preemptions) are sums over
// its workers that never go down: not when a worker is ejected, and not when
// a worker restarts and its own counters start again from zero.
#include <gtest/gtest.h>

#include "actors/node/cluster_state.hpp"

namespace troupe::actors {
namespace {

engine::engine_stats stats(int64_t queries, int64_t hits, int64_t running) {
  engine::engine_stats s;
  s.prefix_cache_queries = queries;
  s.prefix_cache_hits = hits;
  s.num_running = running;
  return s;
}

TEST(ClusterCounters, stay_monotonic_across_ejection_and_restart) {
  cluster_state state;
  state.workers = std::make_shared<worker_table>();
  int32_t a = state.workers->add("10.0.0.1:7000", "m", 16, scheduler_actor{});
  int32_t b = state.workers->add("10.0.0.2:7000", "m", 16, scheduler_actor{});
  state.workers->heard_from(a, stats(100, 40, 3));
  state.workers->heard_from(b, stats(50, 10, 2));
  state.publish_engine_gauges();
  EXPECT_EQ(state.metrics->prefix_cache_queries_total, 150);
  EXPECT_EQ(state.metrics->prefix_cache_hits_total, 50);
  EXPECT_EQ(state.metrics->num_requests_running, 5);

  // b goes silent and is ejected: its running sequences leave the gauge, its
  // counts stay in the totals.
  state.workers->eject(b);
  state.publish_engine_gauges();
  EXPECT_EQ(state.metrics->prefix_cache_queries_total, 150);
  EXPECT_EQ(state.metrics->num_requests_running, 3);

  // b restarts and rejoins: its counters begin again at zero and grow.
  EXPECT_EQ(state.workers->add("10.0.0.2:7000", "m", 16, scheduler_actor{}), b);
  state.workers->heard_from(b, stats(5, 1, 1));
  state.publish_engine_gauges();
  EXPECT_EQ(state.metrics->prefix_cache_queries_total, 155);
  EXPECT_EQ(state.metrics->prefix_cache_hits_total, 51);
  EXPECT_EQ(state.metrics->num_requests_running, 4);
}

}  // namespace
}  // namespace troupe::actors

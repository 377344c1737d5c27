#include "actors/persistence/request_log_queue.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "tests/actors/persistence/test_support.hpp"

namespace troupe::actors {
namespace {

TEST(RequestLogQueue, AFullQueueDropsTheOldestRowsAndCountsThem) {
  request_log_queue q(3);
  for (int i = 0; i < 5; ++i) q.push(test::sample_row(i));
  EXPECT_EQ(q.num_dropped(), 2);
  auto rows = q.drain(10);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].request_id, "chatcmpl-2");
  EXPECT_EQ(rows[2].request_id, "chatcmpl-4");
  EXPECT_EQ(q.size(), 0u);
}

TEST(RequestLogQueue, DrainTakesTheOldestRowsFirst) {
  request_log_queue q(10);
  for (int i = 0; i < 5; ++i) q.push(test::sample_row(i));
  auto first = q.drain(2);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[1].request_id, "chatcmpl-1");
  EXPECT_EQ(q.size(), 3u);
}

TEST(RequestLogQueue, ConcurrentProducersLoseNothingBelowCapacity) {
  request_log_queue q(100000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) q.push(test::sample_row(i));
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(q.size(), 20000u);
  EXPECT_EQ(q.num_dropped(), 0);
}

}  // namespace
}  // namespace troupe::actors

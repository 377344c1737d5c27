#include <gtest/gtest.h>

#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "actors/engine/sched/scheduler.hpp"

namespace troupe::engine {
namespace {

std::unique_ptr<request_state> make_state(const char* id, int32_t num_prompt_tokens) {
  auto r = std::make_unique<request_state>();
  r->request_id = id;
  r->token_ids.resize(num_prompt_tokens);
  std::iota(r->token_ids.begin(), r->token_ids.end(), 1);
  r->num_prompt_tokens = num_prompt_tokens;
  return r;
}

// What one step scheduled, as (request id, num_new_tokens, do_sample).
struct share {
  std::string id;
  int32_t num_new_tokens;
  bool do_sample;
  bool operator==(const share&) const = default;
};
std::ostream& operator<<(std::ostream& os, const share& s) {
  return os << "{" << s.id << ", " << s.num_new_tokens << ", " << s.do_sample << "}";
}

// schedule() + the executor's part: computed tokens advance, and every sampled
// request gets token 99.
std::vector<share> step(scheduler& sched) {
  const scheduler_output out = sched.schedule();
  sched.update_after_step(out);
  std::vector<share> shares;
  for (const auto& s : out.requests) {
    shares.push_back({s.request->request_id, s.num_new_tokens, s.do_sample});
    if (s.do_sample) s.request->token_ids.push_back(99);
  }
  return shares;
}

using shares = std::vector<share>;

TEST(Scheduler, RequestStatusesAreOrderedWaitingRunningPreemptedFinished) {
  EXPECT_LT(request_status::waiting, request_status::running);
  EXPECT_LT(request_status::running, request_status::preempted);
  EXPECT_FALSE(is_finished(request_status::preempted));
  EXPECT_TRUE(is_finished(request_status::finished_stopped));
  EXPECT_TRUE(is_finished(request_status::finished_length));
  EXPECT_TRUE(is_finished(request_status::finished_aborted));
}

TEST(Scheduler, RunningDecodesComeFirstAndAWaitingPromptIsChunkedToTheBudget) {
  kv_cache_manager kv(64, 4, false);
  scheduler sched({batching_policy::continuous, 8, 10}, kv);
  sched.add(make_state("a", 3));
  EXPECT_EQ(step(sched), (shares{{"a", 3, true}}));
  sched.add(make_state("b", 25));
  EXPECT_EQ(step(sched), (shares{{"a", 1, true}, {"b", 9, false}}));
  EXPECT_EQ(step(sched), (shares{{"a", 1, true}, {"b", 9, false}}));
  EXPECT_EQ(step(sched), (shares{{"a", 1, true}, {"b", 7, true}}));
  EXPECT_EQ(step(sched), (shares{{"a", 1, true}, {"b", 1, true}}));
  EXPECT_EQ(sched.find("b")->num_computed_tokens, 26);
}

TEST(Scheduler, TheNewestRunningRequestIsPreemptedWhenBlocksRunOut) {
  kv_cache_manager kv(4, 4, false);
  scheduler sched({batching_policy::continuous, 8, 64}, kv);
  sched.add(make_state("old", 7));
  sched.add(make_state("new", 7));
  EXPECT_EQ(step(sched), (shares{{"old", 7, true}, {"new", 7, true}}));  // 2 + 2 blocks
  EXPECT_EQ(step(sched), (shares{{"old", 1, true}, {"new", 1, true}}));  // 8 tokens each
  EXPECT_EQ(kv.num_free_blocks(), 0);

  // "old" needs a third block: "new" gives its blocks back and waits in front.
  const scheduler_output out = sched.schedule();
  ASSERT_EQ(out.requests.size(), 1u);
  EXPECT_EQ(out.requests[0].request->request_id, "old");
  EXPECT_EQ(out.preempted_request_ids, (std::vector<std::string>{"new"}));
  const request_state& victim = *sched.find("new");
  EXPECT_EQ(victim.status, request_status::preempted);
  EXPECT_EQ(victim.num_computed_tokens, 0);
  EXPECT_TRUE(victim.block_ids.empty());
  EXPECT_EQ(victim.num_tokens(), 9);  // keeps its output tokens, to be recomputed
  EXPECT_EQ(sched.num_waiting(), 1);
  EXPECT_EQ(sched.stats().num_preemptions, 1);
  EXPECT_EQ(kv.num_free_blocks(), 1);
}

TEST(Scheduler, ARequestThatCannotGrowPreemptsItselfWhenItIsTheNewest) {
  kv_cache_manager kv(3, 4, false);
  scheduler sched({batching_policy::continuous, 8, 64}, kv);
  sched.add(make_state("a", 4));
  sched.add(make_state("b", 4));
  step(sched);  // 1 block each, both sampled -> 5 tokens each, 1 block free
  const scheduler_output out = sched.schedule();
  // "a" takes the free block; "b", the newest, finds none and yields itself.
  ASSERT_EQ(out.requests.size(), 1u);
  EXPECT_EQ(out.requests[0].request->request_id, "a");
  EXPECT_EQ(out.preempted_request_ids, (std::vector<std::string>{"b"}));
  EXPECT_EQ(kv.num_free_blocks(), 1);
}

TEST(Scheduler, WaitingRequestsAreAdmittedInArrivalOrderWithoutOvertaking) {
  kv_cache_manager kv(4, 4, false);
  scheduler sched({batching_policy::continuous, 8, 64}, kv);
  sched.add(make_state("first", 12));  // 3 blocks
  EXPECT_EQ(step(sched), (shares{{"first", 12, true}}));
  sched.add(make_state("big", 8));    // needs 2 blocks, 1 is free
  sched.add(make_state("small", 2));  // would fit, but arrived later
  EXPECT_EQ(step(sched), (shares{{"first", 1, true}}));
  EXPECT_EQ(sched.num_waiting(), 2);
}

TEST(Scheduler, MaxNumSeqsBoundsTheRunningSet) {
  kv_cache_manager kv(64, 4, false);
  scheduler sched({batching_policy::continuous, 2, 64}, kv);
  for (const char* id : {"a", "b", "c"}) sched.add(make_state(id, 3));
  EXPECT_EQ(step(sched), (shares{{"a", 3, true}, {"b", 3, true}}));
  EXPECT_EQ(sched.num_running(), 2);
  EXPECT_EQ(sched.num_waiting(), 1);
}

TEST(Scheduler, FinishingARequestFreesItsBlocksAndRemovesItFromEitherQueue) {
  kv_cache_manager kv(8, 4, false);
  scheduler sched({batching_policy::continuous, 1, 64}, kv);
  sched.add(make_state("running", 6));
  sched.add(make_state("waiting", 6));
  step(sched);
  EXPECT_EQ(kv.num_free_blocks(), 6);
  auto done = sched.finish("running", request_status::finished_aborted);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, request_status::finished_aborted);
  EXPECT_EQ(kv.num_free_blocks(), 8);
  EXPECT_TRUE(sched.finish("waiting", request_status::finished_aborted));
  EXPECT_FALSE(sched.finish("waiting", request_status::finished_aborted));
  EXPECT_FALSE(sched.has_unfinished_requests());
  EXPECT_TRUE(sched.schedule().empty());
}

TEST(Scheduler, StaticBatchingFormsABatchOnlyWhenNoneRunsAndAdmitsNothingMeanwhile) {
  kv_cache_manager kv(64, 4, false);
  scheduler sched({batching_policy::static_batch, 2, 8}, kv);
  sched.add(make_state("a", 6));
  sched.add(make_state("b", 6));
  // Both members prefill within the budget of 8, chunked.
  EXPECT_EQ(step(sched), (shares{{"a", 6, true}, {"b", 2, false}}));
  sched.add(make_state("late", 1));
  EXPECT_EQ(step(sched), (shares{{"a", 1, true}, {"b", 4, true}}));
  EXPECT_EQ(step(sched), (shares{{"a", 1, true}, {"b", 1, true}}));
  sched.finish("a", request_status::finished_length);
  // A slot is free, yet "late" waits for the batch to end.
  EXPECT_EQ(step(sched), (shares{{"b", 1, true}}));
  sched.finish("b", request_status::finished_length);
  EXPECT_EQ(step(sched), (shares{{"late", 1, true}}));
}

}  // namespace
}  // namespace troupe::engine

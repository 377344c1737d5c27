#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "../support/engine_harness.hpp"

namespace troupe::engine {
namespace {

using testing::engine_run;
using testing::fake_executor;
using testing::make_prompt;
using testing::make_request;
using testing::run_to_completion;
using testing::toy_generate;

struct engine_fixture {
  fake_executor* exec = nullptr;  // owned by the engine
  std::unique_ptr<engine> e;
  engine_fixture(int64_t num_blocks, int32_t block_size, engine_options options) {
    auto owned = std::make_unique<fake_executor>(num_blocks, block_size);
    exec = owned.get();
    e = std::make_unique<engine>(std::move(owned), options);
  }
};

engine_options options_with(int32_t max_num_seqs, int32_t max_num_batched_tokens,
                            bool prefix_caching = true) {
  engine_options o;
  o.max_num_seqs = max_num_seqs;
  o.max_num_batched_tokens = max_num_batched_tokens;
  o.enable_prefix_caching = prefix_caching;
  return o;
}

// A mix of prompt lengths (1 to 70 tokens), output lengths, greedy and seeded
// sampling with every filter and penalty.
std::vector<engine_request> mixed_requests(int32_t count, uint32_t salt = 0) {
  std::vector<engine_request> out;
  for (int32_t i = 0; i < count; ++i) {
    const int32_t prompt_len = 1 + (i * 37 + static_cast<int32_t>(salt)) % 70;
    std::string id = "r";
    id += std::to_string(i);  // (not "r" + ...: g++ 12 -Wrestrict false positive)
    auto r = make_request(id, make_prompt(prompt_len, i + 100 * salt),
                          3 + (i * 7) % 20, i % 3 == 0 ? 0.0f : 0.8f, 1000 + i);
    if (i % 4 == 1) r.params.top_k = 10;
    if (i % 4 == 2) r.params.top_p = 0.9f;
    if (i % 5 == 3) r.params.min_p = 0.1f;
    if (i % 6 == 4) {
      r.params.repetition_penalty = 1.3f;
      r.params.frequency_penalty = 0.4f;
      r.params.presence_penalty = 0.2f;
    }
    out.push_back(std::move(r));
  }
  return out;
}

// Adds the requests, runs the engine dry, and checks every request's tokens
// against the toy model applied to that request alone (no KV, no batch).
engine_run run_and_check_against_reference(engine_fixture& f,
                                           const std::vector<engine_request>& requests) {
  for (const auto& r : requests) EXPECT_EQ(f.e->add_request(r), add_error::none) << r.request_id;
  engine_run run = run_to_completion(*f.e);
  EXPECT_FALSE(f.e->has_unfinished_requests());
  EXPECT_EQ(f.exec->num_faults(), 0);
  for (const auto& r : requests) {
    const auto ref = toy_generate(r.prompt_token_ids, r.params, f.e->max_model_len());
    EXPECT_EQ(run.output_ids[r.request_id], ref.output_ids) << r.request_id;
    EXPECT_EQ(run.finished[r.request_id], ref.stopped ? finish_reason::stop : finish_reason::length)
        << r.request_id;
  }
  return run;
}

TEST(Engine, AnAbortedSequenceFreesItsKvBlocksInTheSameIteration) {
  engine_fixture f(64, 4, options_with(8, 64, /*prefix_caching=*/false));
  ASSERT_EQ(f.e->add_request(make_request("keep", make_prompt(10, 1), 50)), add_error::none);
  ASSERT_EQ(f.e->add_request(make_request("drop", make_prompt(21, 2), 50)), add_error::none);
  f.e->step();
  f.e->step();
  // "drop" holds ceil((21 + 1) / 4) = 6 blocks after its prefill and one decode.
  const int64_t free_before = f.e->stats().num_free_blocks;
  f.e->abort_request("drop");
  EXPECT_EQ(f.e->stats().num_free_blocks, free_before + 6);
  EXPECT_EQ(f.e->stats().num_running, 1);

  const auto outputs = f.e->step();
  int32_t num_abort_reports = 0;
  for (const auto& o : outputs) {
    if (o.request_id == "drop") {
      ++num_abort_reports;
      EXPECT_EQ(o.finished, finish_reason::abort);
      EXPECT_TRUE(o.new_token_ids.empty());
    }
  }
  EXPECT_EQ(num_abort_reports, 1);
  for (const auto& o : f.e->step()) EXPECT_NE(o.request_id, "drop");
  f.e->abort_request("no-such-request");  // ignored
}

TEST(Engine, AFailedStepFinishesItsRequestsWithTheErrorAndTheEngineKeepsServing) {
  engine_fixture f(64, 4, options_with(8, 64, /*prefix_caching=*/false));
  const int64_t free0 = f.e->stats().num_free_blocks;
  ASSERT_EQ(f.e->add_request(make_request("a", make_prompt(10, 1), 20)), add_error::none);
  ASSERT_EQ(f.e->add_request(make_request("b", make_prompt(7, 2), 20)), add_error::none);
  f.e->step();  // both prefilled; each holds blocks now
  ASSERT_LT(f.e->stats().num_free_blocks, free0);
  f.exec->fail_next_steps(1);
  const auto outputs = f.e->step();
  ASSERT_EQ(outputs.size(), 2u);
  for (const auto& o : outputs) {
    EXPECT_EQ(o.finished, finish_reason::abort) << o.request_id;
    EXPECT_EQ(o.error, "fake executor: injected step failure") << o.request_id;
    EXPECT_TRUE(o.new_token_ids.empty()) << o.request_id;
  }
  EXPECT_FALSE(f.e->has_unfinished_requests());
  EXPECT_EQ(f.e->stats().num_free_blocks, free0);
  // The engine still serves: a new request runs to the reference output.
  const auto r = make_request("c", make_prompt(5, 3), 6);
  ASSERT_EQ(f.e->add_request(r), add_error::none);
  engine_run run = run_to_completion(*f.e);
  EXPECT_EQ(run.output_ids["c"], toy_generate(r.prompt_token_ids, r.params, f.e->max_model_len()).output_ids);
  EXPECT_NE(run.finished["c"], finish_reason::abort);
}

TEST(Engine, AbortingAWaitingOrPreemptedRequestReportsItOnceAndLeavesOthersIntact) {
  // A pool so small that the second request is preempted while both decode.
  engine_fixture f(6, 4, options_with(4, 64, /*prefix_caching=*/false));
  auto a = make_request("a", make_prompt(8, 1), 12);
  ASSERT_EQ(f.e->add_request(a), add_error::none);
  ASSERT_EQ(f.e->add_request(make_request("b", make_prompt(8, 2), 12)), add_error::none);
  ASSERT_EQ(f.e->add_request(make_request("queued", make_prompt(8, 3), 12)), add_error::none);
  f.e->step();
  f.e->step();
  while (f.e->stats().num_preemptions == 0) f.e->step();
  f.e->abort_request("b");       // preempted, back in the waiting queue
  f.e->abort_request("queued");  // never admitted
  f.e->abort_request("b");       // already gone: ignored
  EXPECT_EQ(f.e->stats().num_waiting, 0);
  testing::engine_run run = run_to_completion(*f.e);
  EXPECT_EQ(run.finished["b"], finish_reason::abort);
  EXPECT_EQ(run.finished["queued"], finish_reason::abort);
  EXPECT_TRUE(run.output_ids["queued"].empty());
  const auto ref = toy_generate(a.prompt_token_ids, a.params, f.e->max_model_len());
  std::vector<int32_t> tail(ref.output_ids.end() - static_cast<std::ptrdiff_t>(run.output_ids["a"].size()),
                            ref.output_ids.end());
  EXPECT_EQ(run.output_ids["a"], tail);  // the rest of a's tokens, as if alone
  EXPECT_EQ(f.e->stats().num_free_blocks, 6);
}

TEST(Engine, ThePoolReturnsToItsInitialFreeCountAfterAllRequestsFinish) {
  for (bool prefix_caching : {false, true}) {
    engine_fixture f(40, 4, options_with(6, 32, prefix_caching));
    const int64_t initial = f.e->stats().num_free_blocks;
    EXPECT_EQ(initial, 40);
    run_and_check_against_reference(f, mixed_requests(10));
    EXPECT_EQ(f.e->stats().num_free_blocks, initial) << "prefix caching " << prefix_caching;
    EXPECT_EQ(f.e->stats().num_running, 0);
    EXPECT_EQ(f.e->stats().num_waiting, 0);
  }
}

TEST(Engine, BatchedRunsWithMixedChunksAndDecodesProduceTheSameTokensAsEachSequenceAlone) {
  engine_fixture f(512, 16, options_with(5, 24));
  run_and_check_against_reference(f, mixed_requests(16));
  // The small budget really produced mixed iterations: a chunk of a prompt
  // beside single-token decodes, and prompts split across steps.
  bool mixed = false;
  for (const auto& batch : f.exec->batches()) {
    EXPECT_LE(batch.num_tokens(), 24);
    EXPECT_LE(batch.num_seqs, 5);
    bool has_chunk = false, has_decode = false;
    for (int32_t s = 0; s < batch.num_seqs; ++s) {
      const int32_t n = batch.query_start_loc[s + 1] - batch.query_start_loc[s];
      has_chunk |= n > 1;
      has_decode |= n == 1 && batch.seq_lens[s] > 1 && batch.do_sample[s];
    }
    mixed |= has_chunk && has_decode;
  }
  EXPECT_TRUE(mixed);
}

TEST(Engine, PreemptionForcedByATinyPoolYieldsIdenticalTokens) {
  // 24 blocks of 4 tokens: the longest request alone needs 23 blocks, so
  // running several at once must preempt.
  engine_fixture f(24, 4, options_with(8, 64));
  run_and_check_against_reference(f, mixed_requests(12, 3));
  EXPECT_GT(f.e->stats().num_preemptions, 0);
  EXPECT_EQ(f.e->stats().num_free_blocks, 24);
}

TEST(Engine, PreemptionWithoutPrefixCachingRecomputesFromScratchAndYieldsIdenticalTokens) {
  engine_fixture f(24, 4, options_with(8, 16, /*prefix_caching=*/false));
  run_and_check_against_reference(f, mixed_requests(12, 5));
  EXPECT_GT(f.e->stats().num_preemptions, 0);
}

TEST(Engine, PrefixCachingReusesBlocksForASharedPrefixAndGivesIdenticalOutputs) {
  engine_fixture f(128, 16, options_with(8, 512));
  const std::vector<int32_t> shared = make_prompt(40, 9);  // 2 full blocks + 8 tokens
  auto first = make_request("first", shared, 5);
  std::vector<int32_t> other = shared;
  other.resize(35);
  const auto tail = make_prompt(12, 10);
  other.insert(other.end(), tail.begin(), tail.end());  // shares 35 tokens: 2 full blocks
  auto second = make_request("second", other, 5, 0.7f, 5);

  auto run1 = run_and_check_against_reference(f, {first});
  EXPECT_EQ(run1.num_cached_prompt_tokens["first"], 0);
  const size_t num_batches_before = f.exec->batches().size();
  auto run2 = run_and_check_against_reference(f, {second});
  EXPECT_EQ(run2.num_cached_prompt_tokens["second"], 32);
  // Only the uncached 47 - 32 = 15 prompt tokens were computed.
  EXPECT_EQ(f.exec->batches()[num_batches_before].num_tokens(), 15);
  EXPECT_EQ(f.e->stats().prefix_cache_hits, 32);
  EXPECT_EQ(f.e->stats().prefix_cache_queries, 40 + 47);

  // A prompt that is entirely cached still computes its last token (here the
  // whole last block): 2 blocks cached of a 32-token prompt -> 16 hit.
  std::vector<int32_t> exact = shared;
  exact.resize(32);
  auto run3 = run_and_check_against_reference(f, {make_request("exact", exact, 3)});
  EXPECT_EQ(run3.num_cached_prompt_tokens["exact"], 16);
  EXPECT_EQ(f.e->stats().num_free_blocks, 128);
}

TEST(Engine, ConcurrentRequestsSharingAPrefixShareBlocksAndGiveIdenticalOutputs) {
  engine_fixture f(64, 8, options_with(8, 256));
  const std::vector<int32_t> system_prompt = make_prompt(24, 11);
  std::vector<engine_request> requests;
  requests.push_back(make_request("warm", system_prompt, 2));
  ASSERT_EQ(f.e->add_request(requests[0]), add_error::none);
  f.e->step();  // computes and registers the 3 prompt blocks
  std::vector<engine_request> users;
  for (int32_t i = 0; i < 4; ++i) {
    std::vector<int32_t> prompt = system_prompt;
    const auto question = make_prompt(5 + i, 20 + i);
    prompt.insert(prompt.end(), question.begin(), question.end());
    users.push_back(make_request("user" + std::to_string(i), prompt, 6, 0.9f, 40 + i));
  }
  auto run = run_and_check_against_reference(f, users);
  for (const auto& u : users) EXPECT_EQ(run.num_cached_prompt_tokens[u.request_id], 24);
  EXPECT_EQ(f.e->stats().num_free_blocks, 64);
}

TEST(Engine, StaticPolicyAdmitsNoRequestWhileABatchRuns) {
  engine_options o = options_with(2, 64);
  o.policy = batching_policy::static_batch;
  engine_fixture f(128, 8, o);
  std::vector<engine_request> requests = {
      make_request("a", make_prompt(5, 1), 3), make_request("b", make_prompt(9, 2), 12),
      make_request("c", make_prompt(7, 3), 4), make_request("d", make_prompt(30, 4), 2),
      make_request("e", make_prompt(3, 5), 5)};
  engine_run run = run_and_check_against_reference(f, requests);
  // Batches {a, b}, {c, d}, {e}: each starts after the previous one ended.
  const int32_t end_ab = std::max(run.finish_step["a"], run.finish_step["b"]);
  EXPECT_GT(run.first_token_step["c"], end_ab);
  EXPECT_GT(run.first_token_step["d"], end_ab);
  EXPECT_GT(run.first_token_step["e"], std::max(run.finish_step["c"], run.finish_step["d"]));
  for (const auto& batch : f.exec->batches()) EXPECT_LE(batch.num_seqs, 2);

  // Static batches under a pool small enough to preempt still give the same tokens.
  engine_fixture tight(16, 4, o);
  run_and_check_against_reference(tight, mixed_requests(6, 2));
  EXPECT_GT(tight.e->stats().num_preemptions, 0);

  // Continuous batching lets c in as soon as a finishes, while b still runs.
  engine_fixture g(128, 8, options_with(2, 64));
  engine_run cont = run_and_check_against_reference(g, requests);
  EXPECT_LT(cont.first_token_step["c"], cont.finish_step["b"]);
}

TEST(Engine, SeededSamplingIsReproducibleAcrossBatchCompositions) {
  auto sampled = make_request("s", make_prompt(20, 77), 30, 1.0f, 4242);
  sampled.params.top_p = 0.95f;
  engine_fixture alone(256, 16, options_with(1, 2048));
  ASSERT_EQ(alone.e->add_request(sampled), add_error::none);
  const auto tokens_alone = run_to_completion(*alone.e).output_ids["s"];
  ASSERT_EQ(tokens_alone.size(), 30u);

  // The same request among others, with a token budget that splits its prompt.
  engine_fixture crowded(256, 16, options_with(6, 7));
  auto others = mixed_requests(8, 1);
  others.insert(others.begin() + 3, sampled);
  for (const auto& r : others) ASSERT_EQ(crowded.e->add_request(r), add_error::none);
  EXPECT_EQ(run_to_completion(*crowded.e).output_ids["s"], tokens_alone);

  // A different seed gives a different sequence.
  sampled.params.seed = 4243;
  engine_fixture reseeded(256, 16, options_with(1, 2048));
  ASSERT_EQ(reseeded.e->add_request(sampled), add_error::none);
  EXPECT_NE(run_to_completion(*reseeded.e).output_ids["s"], tokens_alone);
}

TEST(Engine, AStopTokenFinishesTheRequestUnlessEosIsIgnored) {
  // Find a greedy output and use its third token as the stop token.
  const auto prompt = make_prompt(12, 31);
  auto probe = make_request("probe", prompt, 10);
  const auto ref = toy_generate(prompt, probe.params, 1 << 20);
  const int32_t stop_id = ref.output_ids[2];
  const auto first_at = std::find(ref.output_ids.begin(), ref.output_ids.end(), stop_id);

  engine_fixture f(64, 16, options_with(4, 64));
  auto stopping = make_request("stop", prompt, 10);
  stopping.params.ignore_eos = false;
  stopping.params.stop_token_ids = {stop_id};
  auto ignoring = make_request("ignore", prompt, 10);
  ignoring.params.stop_token_ids = {stop_id};
  auto run = run_and_check_against_reference(f, {stopping, ignoring});
  EXPECT_EQ(run.finished["stop"], finish_reason::stop);
  EXPECT_EQ(run.output_ids["stop"],
            std::vector<int32_t>(ref.output_ids.begin(), first_at + 1));  // includes the stop id
  EXPECT_EQ(run.finished["ignore"], finish_reason::length);
  EXPECT_EQ(run.output_ids["ignore"].size(), 10u);
}

TEST(Engine, ASequenceReachingMaxModelLenFinishesWithLength) {
  engine_options o = options_with(4, 64);
  o.max_model_len = 20;
  engine_fixture f(64, 4, o);
  EXPECT_EQ(f.e->max_model_len(), 20);
  auto run = run_and_check_against_reference(f, {make_request("long", make_prompt(15, 3), 100)});
  EXPECT_EQ(run.output_ids["long"].size(), 5u);
  EXPECT_EQ(run.finished["long"], finish_reason::length);
}

TEST(Engine, MaxModelLenIsCappedByThePoolSoOneRequestAlwaysFits) {
  engine_fixture f(10, 4, options_with(4, 64));
  EXPECT_EQ(f.e->max_model_len(), 40);
  EXPECT_EQ(f.e->add_request(make_request("big", make_prompt(40, 1), 5)),
            add_error::prompt_too_long);
  run_and_check_against_reference(f, {make_request("fits", make_prompt(39, 1), 5)});
}

TEST(Engine, AddRequestRejectsBadRequestsWithTheReason) {
  engine_options o = options_with(4, 64);
  o.max_waiting = 2;
  o.max_model_len = 32;
  engine_fixture f(64, 4, o);
  EXPECT_EQ(f.e->add_request(make_request("empty", {}, 4)), add_error::prompt_empty);
  EXPECT_EQ(f.e->add_request(make_request("long", make_prompt(32, 1), 4)),
            add_error::prompt_too_long);
  auto bad = make_request("bad", make_prompt(4, 1), 4);
  bad.params.top_p = 0.0f;
  EXPECT_EQ(f.e->add_request(bad), add_error::bad_params);
  bad.params.top_p = 1.0f;
  bad.params.max_tokens = 0;
  EXPECT_EQ(f.e->add_request(bad), add_error::bad_params);
  EXPECT_EQ(f.e->add_request(make_request("oov", {1, testing::toy_vocab_size}, 4)),
            add_error::bad_params);
  EXPECT_EQ(f.e->add_request(make_request("x", make_prompt(4, 1), 4)), add_error::none);
  EXPECT_EQ(f.e->add_request(make_request("x", make_prompt(4, 2), 4)), add_error::duplicate_id);
  EXPECT_EQ(f.e->add_request(make_request("y", make_prompt(4, 3), 4)), add_error::none);
  EXPECT_EQ(f.e->add_request(make_request("z", make_prompt(4, 4), 4)), add_error::queue_full);
  EXPECT_EQ(f.e->stats().num_waiting, 2);
}

TEST(Engine, LogprobsAreReportedPerTokenWhenAskedFor) {
  engine_fixture f(64, 16, options_with(4, 64));
  auto r = make_request("lp", make_prompt(6, 8), 4);
  r.params.return_logprobs = true;
  r.params.num_top_logprobs = 3;
  ASSERT_EQ(f.e->add_request(r), add_error::none);
  std::vector<int32_t> context = r.prompt_token_ids;
  int32_t num_tokens = 0;
  while (f.e->has_unfinished_requests()) {
    for (const auto& o : f.e->step()) {
      ASSERT_EQ(o.logprobs.size(), o.new_token_ids.size());
      for (const auto& lp : o.logprobs) {
        // Greedy: the sampled token is the top-1, with log_softmax of its logits.
        const auto logits = testing::toy_logits(context);
        double z = 0;
        for (float x : logits) z += std::exp(x);
        EXPECT_NEAR(lp.logprob, logits[lp.token_id] - std::log(z), 1e-4);
        ASSERT_EQ(lp.top_token_ids.size(), 3u);
        EXPECT_EQ(lp.top_token_ids[0], lp.token_id);
        EXPECT_GE(lp.top_logprobs[0], lp.top_logprobs[1]);
        context.push_back(lp.token_id);
        ++num_tokens;
      }
    }
  }
  EXPECT_EQ(num_tokens, 4);
}

}  // namespace
}  // namespace troupe::engine

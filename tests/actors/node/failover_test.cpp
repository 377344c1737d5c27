// The gateway's routing path with in-process workers (real scheduler actors
// over the CPU executor and a tiny real checkpoint): a request whose worker
// dies mid-stream continues on the other worker, and the client sees exactly
// the tokens an undisturbed run produces — greedy and seeded alike.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <regex>

#include "actors/node/cluster_service.hpp"
#include "actors/node/local_service.hpp"

namespace troupe::actors {
namespace {

node_options tiny_node() {
  node_options o;
  o.model_dir = std::string(TROUPE_SOURCE_DIR) + "/tests/data/models/tiny-llama3";
  o.executor = "cpu";
  o.kv_cache_bytes = 16ll << 20;
  o.num_threads = 1;
  o.engine.max_num_seqs = 8;
  return o;
}

std::unique_ptr<cluster_service> gateway_with_workers(int32_t count) {
  gateway_options g;
  std::string error;
  auto service = cluster_service::create(g, &error);
  EXPECT_TRUE(service) << error;
  for (int32_t i = 0; i < count && service; ++i) {
    auto w = load_worker(tiny_node(), &error);
    EXPECT_TRUE(w) << error;
    if (!w || !service->add_local_worker(std::move(w->engine), std::move(w->info), &error)) return nullptr;
  }
  return service;
}

struct collected {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<int32_t> token_ids;
  std::vector<generation_event> errors;
  bool done = false;
};

generation_request make_request(const std::string& id, bool sampled) {
  generation_request r;
  r.request_id = id;
  r.model = "tiny-llama3";
  r.prompt_token_ids = {128000, 791, 4062, 14198, 39935, 35308, 927, 279, 16053, 5679};
  r.params.max_tokens = 120;
  r.params.ignore_eos = true;
  if (sampled) {
    r.params.temperature = 1.0f;
    r.params.top_p = 0.9f;
    r.params.seed = 42;
    r.has_seed = true;
  } else {
    r.params.temperature = 0.0f;
  }
  return r;
}

// The index of the in-process worker that runs a sequence now, from /metrics.
int32_t busy_worker(const cluster_service& service) {
  const std::string text = service.metrics_text();
  std::smatch m;
  std::regex line("troupe:worker_in_flight\\{worker=\"in-process#(\\d+)\"[^}]*\\} ([0-9]+)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), line); it != std::sregex_iterator(); ++it)
    if (std::stoi((*it)[2]) > 0) return std::stoi((*it)[1]);
  return -1;
}

// Runs the request; with kill_after > 0, kills its worker once that many tokens arrived.
std::vector<int32_t> run(cluster_service& service, generation_request request, int32_t kill_after,
                         std::vector<generation_event>* errors) {
  auto c = std::make_shared<collected>();
  cluster_service* svc = &service;
  auto sink = [c, svc, kill_after](generation_event ev) {
    std::lock_guard lock(c->mutex);
    const size_t before = c->token_ids.size();
    c->token_ids.insert(c->token_ids.end(), ev.token_ids.begin(), ev.token_ids.end());
    if (ev.error != service_error::none) c->errors.push_back(ev);
    if (kill_after > 0 && before < size_t(kill_after) && c->token_ids.size() >= size_t(kill_after)) {
      const int32_t busy = busy_worker(*svc);
      EXPECT_GE(busy, 0);
      if (busy >= 0) svc->kill_local_worker(busy);
    }
    if (ev.done) c->done = true;
    c->cv.notify_all();
  };
  std::string error;
  EXPECT_EQ(service.start(std::move(request), sink, &error), service_error::none) << error;
  std::unique_lock lock(c->mutex);
  EXPECT_TRUE(c->cv.wait_for(lock, std::chrono::seconds(60), [&] { return c->done; }));
  *errors = c->errors;
  return c->token_ids;
}

void expect_failover_is_invisible(bool sampled) {
  std::vector<generation_event> errors;
  std::vector<int32_t> undisturbed, survived;
  {
    auto service = gateway_with_workers(1);
    ASSERT_TRUE(service);
    undisturbed = run(*service, make_request("a", sampled), 0, &errors);
  }
  ASSERT_EQ(undisturbed.size(), 120u);
  auto service = gateway_with_workers(2);
  ASSERT_TRUE(service);
  survived = run(*service, make_request("b", sampled), 7, &errors);
  EXPECT_TRUE(errors.empty()) << errors.front().error_message;
  EXPECT_EQ(survived, undisturbed);
  EXPECT_NE(service->metrics_text().find("troupe:worker_failovers_total{worker=\"in-process#"),
            std::string::npos);
  std::smatch m;
  const std::string text = service->metrics_text();
  ASSERT_TRUE(std::regex_search(text, m, std::regex("troupe:worker_failovers_total\\{[^}]*\\} 1")))
      << "exactly one sequence moved";
  EXPECT_TRUE(std::regex_search(text, m, std::regex("troupe:worker_healthy\\{[^}]*\\} 0")))
      << "the dead worker is ejected";
}

TEST(Failover, a_greedy_stream_whose_worker_dies_continues_identically_on_another_worker) {
  expect_failover_is_invisible(false);
}

TEST(Failover, a_seeded_sampled_stream_whose_worker_dies_draws_the_same_tokens_on_another_worker) {
  expect_failover_is_invisible(true);
}

TEST(Failover, with_no_worker_left_the_stream_ends_with_a_clear_error_event) {
  auto service = gateway_with_workers(1);
  ASSERT_TRUE(service);
  std::vector<generation_event> errors;
  run(*service, make_request("c", false), 5, &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].error_message.find("no other worker"), std::string::npos) << errors[0].error_message;
}

TEST(Failover, a_gateway_without_a_worker_of_the_model_is_not_ready_and_answers_overloaded) {
  gateway_options g;
  std::string error;
  auto service = cluster_service::create(g, &error);
  ASSERT_TRUE(service);
  EXPECT_FALSE(service->ready());
  EXPECT_TRUE(service->models().empty());
}

TEST(Failover, a_worker_of_another_cluster_protocol_version_is_refused) {
  gateway_options g;
  std::string error;
  auto service = cluster_service::create(g, &error);
  ASSERT_TRUE(service);
  auto w = load_worker(tiny_node(), &error);
  ASSERT_TRUE(w) << error;
  w->info.protocol_version = cluster_protocol_version + 1;
  EXPECT_FALSE(service->add_local_worker(std::move(w->engine), std::move(w->info), &error));
  EXPECT_FALSE(service->ready());
  EXPECT_NE(service->metrics_text().find("troupe:workers_refused_total 1"), std::string::npos);
}

}  // namespace
}  // namespace troupe::actors

// The request log on a real PostgreSQL server that the test starts itself;
// rows are read back with psql.
#include <caf/all.hpp>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "actors/log_actor.hpp"
#include "actors/persistence/request_log_store.hpp"
#include "tests/actors/persistence/pg_test_server.hpp"

namespace troupe::actors {
namespace {

class PostgresRequestLog : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new test::pg_test_server(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
#ifndef TROUPE_HAVE_POSTGRES
    GTEST_SKIP() << "built without libpq (TROUPE_HAVE_POSTGRES unset)";
#endif
    if (!server_->skip_reason().empty()) GTEST_SKIP() << server_->skip_reason();
    ASSERT_TRUE(server_->ok()) << server_->error();
    server_->psql("DROP TABLE IF EXISTS request_log; DROP TABLE IF EXISTS schema_version;");
  }
  static test::pg_test_server* server_;
};
test::pg_test_server* PostgresRequestLog::server_ = nullptr;

TEST_F(PostgresRequestLog, ABurstThroughTheLogActorIsStoredCompleteAndCorrect) {
  std::string error;
  auto store = open_request_log_store(server_->url(), store_access::write, &error);
  ASSERT_TRUE(store) << error;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto writer = request_log_writer::start(sys, std::move(store), {});
  constexpr int kRows = 1000;
  for (int i = 0; i < kRows; ++i) writer->submit(test::sample_row(i));
  writer->stop();
  EXPECT_EQ(writer->num_dropped(), 0);

  int status = 0;
  std::string out = server_->psql(
      "SELECT json_agg(t ORDER BY started_at) FROM request_log t", &status);
  ASSERT_EQ(status, 0) << out;
  test::expect_sample_rows(nlohmann::json::parse(out), kRows);
  EXPECT_EQ(server_->psql("SELECT version FROM schema_version WHERE component = 'request_log'"),
            "2\n");
}

TEST_F(PostgresRequestLog, TailAndSinceReadRowsBackAndReopeningKeepsTheSchema) {
  std::string error;
  {
    auto store = open_request_log_store(server_->url(), store_access::write, &error);
    ASSERT_TRUE(store) << error;
    std::vector<request_log_row> rows;
    for (int i = 0; i < 10; ++i) rows.push_back(test::sample_row(i));
    ASSERT_TRUE(store->append(rows, &error)) << error;
  }
  ASSERT_TRUE(open_request_log_store(server_->url(), store_access::write, &error)) << error;
  auto reader = open_request_log_store(server_->url(), store_access::read, &error);
  ASSERT_TRUE(reader) << error;
  std::vector<request_log_row> tail;
  ASSERT_TRUE(reader->tail(2, &tail, &error)) << error;
  ASSERT_EQ(tail.size(), 2u);
  EXPECT_EQ(tail[0].request_id, "chatcmpl-8");
  EXPECT_EQ(tail[0].prompt_text, test::sample_row(8).prompt_text);
  EXPECT_FALSE(tail[1].prompt_text);
  EXPECT_DOUBLE_EQ(tail[1].total_ms, test::sample_row(9).total_ms);
  int num_since = 0;
  ASSERT_TRUE(reader->for_each_since(test::sample_row(5).started_at_unix_ms,
                                     [&](const request_log_row&) { ++num_since; }, &error))
      << error;
  EXPECT_EQ(num_since, 5);
}

TEST_F(PostgresRequestLog, AnUnreachableServerIsAnErrorThatHidesThePassword) {
  std::string error;
  EXPECT_FALSE(open_request_log_store(
      "postgresql://troupe:hunter2-secret@/postgres?host=/nonexistent&connect_timeout=2",
      store_access::write, &error));
  EXPECT_NE(error.find("PostgreSQL"), std::string::npos);
  EXPECT_EQ(error.find("hunter2-secret"), std::string::npos) << error;
}

}  // namespace
}  // namespace troupe::actors

// The request log end to end on SQLite: rows go through the log actor and are
// read back with the sqlite3 CLI, an independent reader.
#include <caf/all.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "actors/log_actor.hpp"
#include "actors/persistence/request_log_store.hpp"
#include "actors/persistence/schema/migrations.hpp"
#include "tests/actors/persistence/test_support.hpp"

namespace troupe::actors {
namespace {

using namespace std::chrono_literals;

nlohmann::json sqlite_json(const std::string& db, const std::string& sql) {
  std::string out = test::run_command("sqlite3 -json " + test::shell_quote(db) + " " +
                                      test::shell_quote(sql));
  if (out.empty()) return nlohmann::json::array();
  return nlohmann::json::parse(out);
}

int64_t sqlite_count(const std::string& db) {
  std::string out = test::run_command("sqlite3 " + test::shell_quote(db) +
                                      " 'SELECT count(*) FROM request_log'");
  return out.empty() ? -1 : std::stoll(out);
}

// Polls until the table holds n rows or the deadline passes.
bool wait_for_rows(const std::string& db, int64_t n, std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (sqlite_count(db) == n) return true;
    std::this_thread::sleep_for(20ms);
  }
  return sqlite_count(db) == n;
}

class SqliteRequestLog : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::have_command("sqlite3")) GTEST_SKIP() << "the sqlite3 CLI is not installed";
  }
  test::scratch_dir dir_;
  caf::actor_system_config cfg_;
  caf::actor_system sys_{cfg_};
};

TEST_F(SqliteRequestLog, ABurstOfRowsIsStoredCompleteAndCorrect) {
  std::string db = dir_.file("log.db");
  std::string error;
  auto store = open_request_log_store("sqlite:" + db, store_access::write, &error);
  ASSERT_TRUE(store) << error;
  auto writer = request_log_writer::start(sys_, std::move(store), {});
  constexpr int kRows = 1000;
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&, t] {
      for (int i = t; i < kRows; i += 4) writer->submit(test::sample_row(i));
    });
  }
  for (auto& p : producers) p.join();
  writer->stop();
  EXPECT_EQ(writer->num_dropped(), 0);

  auto rows = sqlite_json(db, "SELECT * FROM request_log ORDER BY started_at");
  ASSERT_EQ(rows.size(), size_t(kRows));
  test::expect_sample_rows(rows, kRows);
  EXPECT_EQ(test::run_command("sqlite3 " + test::shell_quote(db) + " 'PRAGMA journal_mode'"), "wal\n");
}

TEST_F(SqliteRequestLog, AFewRowsAreWrittenByTheTimerWithinTheFlushInterval) {
  std::string db = dir_.file("log.db");
  request_log_options options;
  options.flush_ms = 100;
  auto writer = request_log_writer::start(
      sys_, open_request_log_store("sqlite:" + db, store_access::write, nullptr), options);
  for (int i = 0; i < 3; ++i) writer->submit(test::sample_row(i));
  // 3 rows never fill a 64-row batch: only the timer can write them.
  EXPECT_TRUE(wait_for_rows(db, 3, 3000ms));
  writer->stop();
}

TEST_F(SqliteRequestLog, AFullBatchIsWrittenBeforeTheTimer) {
  std::string db = dir_.file("log.db");
  request_log_options options;
  options.flush_ms = 600000;  // the timer would not fire during this test
  options.batch_rows = 16;
  auto writer = request_log_writer::start(
      sys_, open_request_log_store("sqlite:" + db, store_access::write, nullptr), options);
  for (int i = 0; i < 16; ++i) writer->submit(test::sample_row(i));
  EXPECT_TRUE(wait_for_rows(db, 16, 3000ms));
  writer->stop();
}

TEST_F(SqliteRequestLog, OverflowDropsOldestRowsAndReportsThemInTheMetric) {
  std::string db = dir_.file("log.db");
  request_log_options options;
  options.flush_ms = 600000;
  options.batch_rows = 1000;
  options.queue_rows = 10;
  auto writer = request_log_writer::start(
      sys_, open_request_log_store("sqlite:" + db, store_access::write, nullptr), options);
  for (int i = 0; i < 25; ++i) writer->submit(test::sample_row(i));
  EXPECT_EQ(writer->num_dropped(), 15);
  EXPECT_NE(writer->metrics_text().find("troupe:request_log_dropped_total 15\n"), std::string::npos);
  writer->stop();
  auto rows = sqlite_json(db, "SELECT request_id FROM request_log ORDER BY id");
  ASSERT_EQ(rows.size(), 10u);
  EXPECT_EQ(rows[0]["request_id"], "chatcmpl-15");  // the newest ten survive
}

TEST_F(SqliteRequestLog, TailAndSinceReadRowsBack) {
  std::string db = dir_.file("log.db");
  auto store = open_request_log_store("sqlite:" + db, store_access::write, nullptr);
  std::vector<request_log_row> rows;
  for (int i = 0; i < 10; ++i) rows.push_back(test::sample_row(i));
  std::string error;
  ASSERT_TRUE(store->append(rows, &error)) << error;

  auto reader = open_request_log_store("sqlite:" + db, store_access::read, &error);
  ASSERT_TRUE(reader) << error;
  std::vector<request_log_row> tail;
  ASSERT_TRUE(reader->tail(3, &tail, &error));
  ASSERT_EQ(tail.size(), 3u);
  EXPECT_EQ(tail[0].request_id, "chatcmpl-7");
  EXPECT_EQ(tail[2].request_id, "chatcmpl-9");
  EXPECT_EQ(tail[2].id, 10);
  std::vector<std::string> since;
  ASSERT_TRUE(reader->for_each_since(rows[6].started_at_unix_ms,
                                     [&](const request_log_row& r) { since.push_back(r.request_id); },
                                     &error));
  EXPECT_EQ(since, (std::vector<std::string>{"chatcmpl-6", "chatcmpl-7", "chatcmpl-8", "chatcmpl-9"}));
  EXPECT_EQ(tail[1].prompt_text, rows[8].prompt_text);
}

TEST(RequestLogStore, ReadingAMissingDatabaseFailsWithoutCreatingIt) {
  test::scratch_dir dir;
  std::string error;
  EXPECT_FALSE(open_request_log_store("sqlite:" + dir.file("none.db"), store_access::read, &error));
  EXPECT_FALSE(std::filesystem::exists(dir.file("none.db")));
  EXPECT_FALSE(open_request_log_store("mysql://x", store_access::read, &error));
  EXPECT_NE(error.find("sqlite:"), std::string::npos);
}

// A database written by a build before the `user` column (schema v1) is
// migrated on open: its rows stay, with end_user '', and new rows keep theirs.
TEST_F(SqliteRequestLog, AVersionOneDatabaseGainsTheEndUserColumnAndKeepsItsRows) {
  std::string db = dir_.file("v1.db");
  std::string v1 = request_log_migrations()[0].sqlite_sql;
  test::run_command("sqlite3 " + test::shell_quote(db) + " " + test::shell_quote(
      v1 + "CREATE TABLE schema_version (component TEXT PRIMARY KEY, version INTEGER NOT NULL);"
           "INSERT INTO schema_version VALUES ('request_log', 1);"
           "INSERT INTO request_log (request_id, principal, model, endpoint, status, finish_reason,"
           " prompt_tokens, completion_tokens, queue_time_ms, ttft_ms, total_ms, client_address,"
           " started_at) VALUES ('old-1', 'anonymous', 'm', '/v1/completions', 200, 'stop', 1, 2,"
           " 0, 0, 0, '127.0.0.1', 1767600000000);"));
  ASSERT_EQ(sqlite_count(db), 1);
  std::string error;
  auto store = open_request_log_store("sqlite:" + db, store_access::write, &error);
  ASSERT_TRUE(store) << error;
  request_log_row row = test::sample_row(1);
  ASSERT_TRUE(store->append(std::span<const request_log_row>(&row, 1), &error)) << error;
  auto rows = sqlite_json(db, "SELECT request_id, end_user FROM request_log ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["request_id"], "old-1");
  EXPECT_EQ(rows[0]["end_user"], "");
  EXPECT_EQ(rows[1]["end_user"], "user-1");
  EXPECT_EQ(sqlite_json(db, "SELECT version FROM schema_version WHERE component='request_log'")[0]["version"], 2);
}

}  // namespace
}  // namespace troupe::actors

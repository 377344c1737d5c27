#include "actors/persistence/shared_bucket_store.hpp"

#ifdef TROUPE_HAVE_POSTGRES
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "actors/persistence/postgres_db.hpp"
#endif

namespace troupe::actors {

#ifndef TROUPE_HAVE_POSTGRES

std::unique_ptr<shared_bucket_store> shared_bucket_store::open(const std::string&, size_t,
                                                               std::string* error) {
  if (error) *error = "this troupe was built without PostgreSQL support (libpq)";
  return nullptr;
}

#else

namespace {

constexpr const char* kNowMs = "(extract(epoch from clock_timestamp()) * 1000)::bigint";
// A bucket left alone for a minute is full again, which is what a missing
// row means; rows idle for twice that are deleted now and then.
constexpr int64_t kIdleRowMs = 120000;
constexpr int64_t kSweepEveryMs = 60000;

std::string number_text(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "0";
}

class postgres_bucket_store final : public shared_bucket_store {
 public:
  postgres_bucket_store(std::string url, size_t max_connections)
      : url_(std::move(url)), max_connections_(std::max<size_t>(1, max_connections)) {}

  // The first connection (made by open) creates the schema.
  void adopt(std::unique_ptr<pg_connection> db) {
    idle_.push_back(std::move(db));
    ++num_connections_;
  }

  bool update(const std::string& principal,
              const std::function<void(rate_bucket_row& row, int64_t now_ms)>& change,
              std::string* error) override {
    std::unique_ptr<pg_connection> db = acquire(error);
    if (!db) return false;
    bool ok = transact(*db, principal, change, error);
    release(std::move(db));
    return ok;
  }

 private:
  bool transact(pg_connection& db, const std::string& principal,
                const std::function<void(rate_bucket_row&, int64_t)>& change, std::string* error) {
    db.ensure_open();
    const std::string who = db.literal(principal);
    // Round trip 1: begin, and lock (or create) the row. ON CONFLICT DO
    // UPDATE takes the row lock that serialises other gateways until commit.
    std::string lock_sql =
        std::string("BEGIN; INSERT INTO rate_buckets AS b VALUES (") + who + ", 0, -1, 0, -1, " +
        kNowMs + ") ON CONFLICT (principal) DO UPDATE SET principal = b.principal " +
        "RETURNING requests_level, requests_limit, tokens_level, tokens_limit, updated_ms, " + kNowMs;
    pg_result got(PQexec(db.handle(), lock_sql.c_str()));
    if (!got.ok() || got.rows() != 1) {
      db.set_error(error);
      db.exec("ROLLBACK", nullptr);
      return false;
    }
    rate_bucket_row row;
    row.requests_level = std::strtod(got.text(0, 0).c_str(), nullptr);
    row.requests_limit = std::strtoll(got.text(0, 1).c_str(), nullptr, 10);
    row.tokens_level = std::strtod(got.text(0, 2).c_str(), nullptr);
    row.tokens_limit = std::strtoll(got.text(0, 3).c_str(), nullptr, 10);
    row.updated_ms = std::strtoll(got.text(0, 4).c_str(), nullptr, 10);
    const int64_t now_ms = std::strtoll(got.text(0, 5).c_str(), nullptr, 10);
    change(row, now_ms);
    // Round trip 2: write back, sweep idle rows when due, commit.
    std::string write_sql =
        "UPDATE rate_buckets SET requests_level = " + number_text(row.requests_level) +
        ", requests_limit = " + std::to_string(row.requests_limit) +
        ", tokens_level = " + number_text(row.tokens_level) +
        ", tokens_limit = " + std::to_string(row.tokens_limit) +
        ", updated_ms = " + std::to_string(row.updated_ms) + " WHERE principal = " + who + ";";
    if (sweep_due(now_ms)) {
      write_sql += " DELETE FROM rate_buckets WHERE updated_ms < " +
                   std::to_string(now_ms - kIdleRowMs) + ";";
    }
    write_sql += " COMMIT";
    if (!db.exec(write_sql.c_str(), error)) {
      db.exec("ROLLBACK", nullptr);
      return false;
    }
    return true;
  }

  bool sweep_due(int64_t now_ms) {
    std::lock_guard lock(mu_);
    if (now_ms < next_sweep_ms_) return false;
    next_sweep_ms_ = now_ms + kSweepEveryMs;
    return true;
  }

  std::unique_ptr<pg_connection> acquire(std::string* error) {
    std::unique_lock lock(mu_);
    for (;;) {
      if (!idle_.empty()) {
        auto db = std::move(idle_.back());
        idle_.pop_back();
        return db;
      }
      if (num_connections_ < max_connections_) break;
      freed_.wait(lock);
    }
    ++num_connections_;
    lock.unlock();
    auto db = pg_connection::connect(url_, error);
    if (!db) {
      std::lock_guard relock(mu_);
      --num_connections_;
      freed_.notify_one();
    }
    return db;
  }

  void release(std::unique_ptr<pg_connection> db) {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(db));
    freed_.notify_one();
  }

  const std::string url_;
  const size_t max_connections_;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<pg_connection>> idle_;
  size_t num_connections_ = 0;
  int64_t next_sweep_ms_ = 0;
};

}  // namespace

std::unique_ptr<shared_bucket_store> shared_bucket_store::open(const std::string& url,
                                                               size_t max_connections,
                                                               std::string* error) {
  auto db = pg_connection::connect(url, error);
  if (!db) return nullptr;
  if (!migrate_postgres(*db, "rate_buckets", rate_buckets_migrations(), error)) return nullptr;
  auto store = std::make_unique<postgres_bucket_store>(url, max_connections);
  store->adopt(std::move(db));
  return store;
}

#endif

}  // namespace troupe::actors

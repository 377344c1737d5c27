#pragma once
// Where finished requests are recorded: SQLite ("sqlite:PATH") or PostgreSQL
// ("postgresql://…" / "postgres://…", any libpq connection URI). The choice is
// one URL. A store is used by one thread at a time (the log actor, or a CLI).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace troupe::actors {

struct request_log_row {
  int64_t id = 0;                 // assigned by the database; 0 before insert
  std::string request_id;
  std::string principal;          // "key:…", "jwt:…", "static:…", "anonymous"; never a secret
  std::string model;
  std::string endpoint;
  int32_t status = 0;
  std::string finish_reason;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  double queue_time_ms = 0;
  double ttft_ms = 0;
  double total_ms = 0;
  std::string client_address;
  int64_t started_at_unix_ms = 0;
  std::optional<std::string> prompt_text;  // only when storing text is opted in
  std::optional<std::string> output_text;
  std::string end_user;           // the request's OpenAI `user` field ("" if none); schema v2
};

class request_log_store {
 public:
  virtual ~request_log_store() = default;

  // Inserts all rows in one transaction: all or none become visible.
  virtual bool append(std::span<const request_log_row> rows, std::string* error) = 0;

  // The newest max_rows rows, oldest first.
  virtual bool tail(size_t max_rows, std::vector<request_log_row>* out, std::string* error) = 0;

  // Every row with started_at ≥ since, in id order, streamed to visit.
  virtual bool for_each_since(int64_t since_unix_ms,
                              const std::function<void(const request_log_row&)>& visit,
                              std::string* error) = 0;
};

enum class store_access {
  write,  // create / migrate the schema as needed
  read,   // the schema must exist (read-only for SQLite)
};

// Opens the store named by url; nullptr and *error (naming the URL scheme or
// path, never a password) on failure.
std::unique_ptr<request_log_store> open_request_log_store(const std::string& url,
                                                          store_access access, std::string* error);

// The factories behind open_request_log_store.
std::unique_ptr<request_log_store> open_sqlite_request_log(const std::string& path,
                                                           store_access access, std::string* error);
std::unique_ptr<request_log_store> open_postgres_request_log(const std::string& conninfo,
                                                             store_access access, std::string* error);

}  // namespace troupe::actors

#pragma once
// A thin RAII layer over the SQLite C API: one connection, prepared
// statements, and the pragmas every Troupe database uses (WAL so readers such
// as `troupe logs tail` never block the writer; a busy timeout so short
// write contention waits instead of failing).
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace troupe::actors {

class sqlite_statement {
 public:
  sqlite_statement(sqlite3* db, const char* sql, std::string* error);
  ~sqlite_statement();
  sqlite_statement(const sqlite_statement&) = delete;
  sqlite_statement& operator=(const sqlite_statement&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  void bind(int index, const std::string& text);
  void bind(int index, int64_t value);
  void bind(int index, double value);
  void bind_null(int index);
  void bind(int index, const std::optional<std::string>& text);
  void bind(int index, const std::optional<int64_t>& value);

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step();
  void reset();

  std::string text(int column) const;
  int64_t integer(int column) const;
  double real(int column) const;
  bool is_null(int column) const;
  std::optional<std::string> optional_text(int column) const;
  std::optional<int64_t> optional_integer(int column) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

class sqlite_db {
 public:
  enum class mode { read_write_create, read_only };
  // Opens the file and applies the pragmas; nullptr with *error on failure.
  static std::unique_ptr<sqlite_db> open(const std::string& path, mode m, std::string* error);
  ~sqlite_db();

  sqlite3* handle() const { return db_; }
  // Runs one or more statements without results.
  bool exec(const char* sql, std::string* error);
  std::string last_error() const;

 private:
  explicit sqlite_db(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

}  // namespace troupe::actors

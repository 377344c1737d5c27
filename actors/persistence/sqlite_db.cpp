#include "actors/persistence/sqlite_db.hpp"

#include <filesystem>

namespace troupe::actors {

sqlite_statement::sqlite_statement(sqlite3* db, const char* sql, std::string* error) {
  if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
    if (error) *error = sqlite3_errmsg(db);
    stmt_ = nullptr;
  }
}

sqlite_statement::~sqlite_statement() { sqlite3_finalize(stmt_); }

void sqlite_statement::bind(int index, const std::string& text) {
  sqlite3_bind_text(stmt_, index, text.data(), int(text.size()), SQLITE_TRANSIENT);
}
void sqlite_statement::bind(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
void sqlite_statement::bind(int index, double value) { sqlite3_bind_double(stmt_, index, value); }
void sqlite_statement::bind_null(int index) { sqlite3_bind_null(stmt_, index); }
void sqlite_statement::bind(int index, const std::optional<std::string>& text) {
  if (text) bind(index, *text);
  else bind_null(index);
}
void sqlite_statement::bind(int index, const std::optional<int64_t>& value) {
  if (value) bind(index, *value);
  else bind_null(index);
}

int sqlite_statement::step() { return sqlite3_step(stmt_); }
void sqlite_statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string sqlite_statement::text(int column) const {
  const auto* p = sqlite3_column_text(stmt_, column);
  return p ? std::string(reinterpret_cast<const char*>(p), size_t(sqlite3_column_bytes(stmt_, column)))
           : std::string();
}
int64_t sqlite_statement::integer(int column) const { return sqlite3_column_int64(stmt_, column); }
double sqlite_statement::real(int column) const { return sqlite3_column_double(stmt_, column); }
bool sqlite_statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}
std::optional<std::string> sqlite_statement::optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}
std::optional<int64_t> sqlite_statement::optional_integer(int column) const {
  if (is_null(column)) return std::nullopt;
  return integer(column);
}

std::unique_ptr<sqlite_db> sqlite_db::open(const std::string& path, mode m, std::string* error) {
  sqlite3* raw = nullptr;
  if (m != mode::read_only) {
    // A database in a state folder that does not exist yet (first start).
    std::error_code ec;
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  }
  int flags = m == mode::read_only ? SQLITE_OPEN_READONLY
                                   : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    if (error) *error = "cannot open SQLite database '" + path + "': " +
                        (raw ? sqlite3_errmsg(raw) : "out of memory");
    sqlite3_close(raw);
    return nullptr;
  }
  std::unique_ptr<sqlite_db> db(new sqlite_db(raw));
  sqlite3_busy_timeout(raw, 5000);
  // synchronous=FULL: each committed batch survives power loss, not only a
  // process crash; with batched commits this costs one fsync per batch.
  const char* pragmas = m == mode::read_only
                            ? "PRAGMA foreign_keys=ON;"
                            : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;";
  std::string why;
  if (!db->exec(pragmas, &why)) {
    if (error) *error = "SQLite database '" + path + "': " + why;
    return nullptr;
  }
  return db;
}

sqlite_db::~sqlite_db() { sqlite3_close(db_); }

bool sqlite_db::exec(const char* sql, std::string* error) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    if (error) *error = message ? message : sqlite3_errmsg(db_);
    sqlite3_free(message);
    return false;
  }
  return true;
}

std::string sqlite_db::last_error() const { return sqlite3_errmsg(db_); }

}  // namespace troupe::actors

#include "actors/persistence/schema/sqlite_migrate.hpp"

namespace troupe::actors {

int sqlite_schema_version(sqlite_db& db, const char* component, std::string* error) {
  {
    sqlite_statement exists(db.handle(),
                            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'",
                            error);
    if (!exists.ok()) return -1;
    if (exists.step() != SQLITE_ROW) return 0;
  }
  sqlite_statement q(db.handle(), "SELECT version FROM schema_version WHERE component = ?1", error);
  if (!q.ok()) return -1;
  q.bind(1, std::string(component));
  return q.step() == SQLITE_ROW ? int(q.integer(0)) : 0;
}

bool migrate_sqlite(sqlite_db& db, const char* component, std::span<const migration> migrations,
                    std::string* error) {
  if (!db.exec("BEGIN IMMEDIATE;"
               "CREATE TABLE IF NOT EXISTS schema_version ("
               "  component TEXT PRIMARY KEY, version INTEGER NOT NULL);",
               error)) {
    return false;
  }
  auto rollback = [&](std::string why) {
    db.exec("ROLLBACK;", nullptr);
    if (error) *error = std::move(why);
    return false;
  };
  std::string why;
  int current = sqlite_schema_version(db, component, &why);
  if (current < 0) return rollback(why);
  int latest = latest_version(migrations);
  if (current > latest) {
    return rollback(std::string(component) + " schema version " + std::to_string(current) +
                    " is newer than this build knows (" + std::to_string(latest) + ")");
  }
  for (const migration& m : migrations) {
    if (m.version <= current) continue;
    if (!db.exec(m.sqlite_sql, &why)) {
      return rollback(std::string(component) + " migration " + std::to_string(m.version) + " (" +
                      m.description + "): " + why);
    }
  }
  if (latest > current) {
    sqlite_statement up(db.handle(),
                        "INSERT INTO schema_version (component, version) VALUES (?1, ?2) "
                        "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                        &why);
    if (!up.ok()) return rollback(why);
    up.bind(1, std::string(component));
    up.bind(2, int64_t(latest));
    if (up.step() != SQLITE_DONE) return rollback(db.last_error());
  }
  if (!db.exec("COMMIT;", &why)) return rollback(why);
  return true;
}

}  // namespace troupe::actors

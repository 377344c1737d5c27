#pragma once
#include <span>
#include <string>

#include "actors/persistence/schema/migrations.hpp"
#include "actors/persistence/sqlite_db.hpp"

namespace troupe::actors {

// Brings `component` up to the latest version in one IMMEDIATE transaction
// (so two processes opening the same file do not both migrate). Fails on a
// database newer than this build.
bool migrate_sqlite(sqlite_db& db, const char* component, std::span<const migration> migrations,
                    std::string* error);

// The version recorded for `component` (0 when none), or -1 on error.
int sqlite_schema_version(sqlite_db& db, const char* component, std::string* error);

}  // namespace troupe::actors

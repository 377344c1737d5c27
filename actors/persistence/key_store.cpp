#include "actors/persistence/key_store.hpp"

#include "actors/persistence/postgres_db.hpp"

namespace troupe::actors {

std::string join_models(const std::vector<std::string>& models) {
  std::string out;
  for (const auto& m : models) {
    if (m.empty()) continue;
    if (!out.empty()) out += ',';
    out += m;
  }
  return out;
}

std::vector<std::string> split_models(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::unique_ptr<key_store> key_store::open(const std::string& location, std::string* error) {
  if (is_postgres_url(location)) return open_postgres_key_store(location, error);
  const std::string path = location.rfind("sqlite:", 0) == 0 ? location.substr(7) : location;
  return open_sqlite_key_store(path, error);
}

}  // namespace troupe::actors

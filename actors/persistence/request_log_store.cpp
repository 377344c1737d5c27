#include "actors/persistence/request_log_store.hpp"

namespace troupe::actors {

std::unique_ptr<request_log_store> open_request_log_store(const std::string& url,
                                                          store_access access, std::string* error) {
  if (url.rfind("sqlite:", 0) == 0) {
    std::string path = url.substr(7);
    if (path.rfind("//", 0) == 0) path = path.substr(2);  // "sqlite:///abs/path" too
    if (path.empty()) {
      if (error) *error = "request log URL 'sqlite:' needs a path";
      return nullptr;
    }
    return open_sqlite_request_log(path, access, error);
  }
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    return open_postgres_request_log(url, access, error);
  }
  if (error) *error = "request log URL must start with 'sqlite:' or 'postgresql://'";
  return nullptr;
}

}  // namespace troupe::actors

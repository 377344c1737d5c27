#include "config/version.hpp"

namespace troupe::config {
const char* version() { return "0.1.0"; }
}  // namespace troupe::config

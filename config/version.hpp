#pragma once
namespace troupe::config {
// The Troupe release, printed by `troupe --version` and in /v1/models.
const char* version();
}  // namespace troupe::config

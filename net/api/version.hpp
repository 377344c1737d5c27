#pragma once
// The server's version, as GET /version reports it (the CMake project
// version, passed in at build time).
#ifndef TROUPE_VERSION_STRING
#define TROUPE_VERSION_STRING "unknown"
#endif

namespace troupe::net {
inline constexpr const char* kVersion = TROUPE_VERSION_STRING;
}  // namespace troupe::net

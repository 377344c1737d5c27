// The troupe command: one binary, every role.
#include <cstdio>
#include <cstring>

#include "config/version.hpp"

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("troupe %s\n", troupe::config::version());
    return 0;
  }
  std::printf("usage: troupe --help\n");
  return 0;
}

// The troupe command: one binary, every role.
#include <cstdio>
#include <cstring>

#include "cli/serve.hpp"
#include "config/version.hpp"

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("troupe %s\n", troupe::config::version());
    return 0;
  }
  if (argc > 1 && std::strcmp(argv[1], "serve") == 0) return troupe::cli::run_serve(argc, argv);
  std::printf("usage: troupe serve --help\n");
  return 0;
}

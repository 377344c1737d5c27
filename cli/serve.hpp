#pragma once
// `troupe serve` (the all-in-one server) and `troupe gateway` (the same edge
// in front of remote workers), and `troupe worker` (an engine for gateways).
#include <string>

namespace troupe::config {
struct troupe_config;
}

namespace troupe::cli {

// argv[1] is "serve" / "gateway" / "worker"; options follow. Return the exit code.
int run_serve(int argc, char** argv);
int run_gateway(int argc, char** argv);
int run_worker(int argc, char** argv);

// argv → configuration: defaults < the --config TOML file < flags.
bool build_config(int argc, char** argv, config::troupe_config* cfg, std::string* error);

}  // namespace troupe::cli

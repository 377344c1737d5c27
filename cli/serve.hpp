#pragma once
// `troupe serve`: the all-in-one OpenAI-compatible server.
namespace troupe::cli {

// argv[1] is "serve"; options follow. Returns the process exit code.
int run_serve(int argc, char** argv);

}  // namespace troupe::cli

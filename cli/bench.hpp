#pragma once
namespace troupe::cli {
// troupe bench [--base-url URL …]  — drives an OpenAI-compatible server
// troupe bench plot RESULT.json… --out PREFIX [--format png|svg]
int run_bench(int argc, char** argv);
}  // namespace troupe::cli

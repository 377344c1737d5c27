#include "cli/logs.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "actors/persistence/request_log_export.hpp"
#include "actors/persistence/request_log_store.hpp"
#include "cli/cli_args.hpp"
#include "config/load.hpp"

namespace troupe::cli {
namespace {

constexpr const char* kUsage =
    "usage: troupe logs tail [-n N] [--json] [--db URL]\n"
    "       troupe logs export --since ISO8601|UNIX_SECONDS [--db URL]\n"
    "       troupe logs migrate [--db URL]\n"
    "\n"
    "Reads the request log the server writes ([log] url): \"sqlite:PATH\" or\n"
    "\"postgresql://user@host/db\". Default: $TROUPE_LOG_URL, else sqlite:troupe-data/requests.db.\n"
    "tail prints the newest N rows (default 20), oldest first; export prints every row\n"
    "that started at or after --since as JSON lines; migrate creates or upgrades the\n"
    "schema (the server also does this when it starts).\n";

std::string default_url() { return config::resolved_log_url(config::troupe_config{}); }

// cli_args knows only long options: accept the customary -n for --lines.
std::vector<char*> with_long_options(int argc, char** argv) {
  static char lines[] = "--lines";
  std::vector<char*> out(argv, argv + argc);
  for (auto& a : out) {
    if (std::string(a) == "-n") a = lines;
  }
  return out;
}

std::unique_ptr<actors::request_log_store> open(const cli_args& args,
                                                actors::store_access access) {
  std::string error;
  auto store = actors::open_request_log_store(args.get_or("db", default_url()), access, &error);
  if (!store) std::fprintf(stderr, "troupe logs: %s\n", error.c_str());
  return store;
}

int tail(cli_args& args) {
  int64_t n = args.get_int("lines", 20);
  if (!args.ok() || n < 0) {
    std::fprintf(stderr, "troupe logs: -n needs a whole number ≥ 0\n");
    return 2;
  }
  auto store = open(args, actors::store_access::read);
  if (!store) return 1;
  std::vector<actors::request_log_row> rows;
  std::string error;
  if (!store->tail(size_t(n), &rows, &error)) {
    std::fprintf(stderr, "troupe logs: %s\n", error.c_str());
    return 1;
  }
  bool json = args.has("json");
  for (const auto& r : rows) {
    std::string line = json ? actors::request_log_json_line(r) : actors::request_log_summary_line(r);
    std::printf("%s\n", line.c_str());
  }
  return 0;
}

int export_since(cli_args& args) {
  auto since_text = args.get("since");
  if (!since_text) {
    std::fprintf(stderr, "troupe logs: export needs --since (ISO 8601 or Unix seconds)\n");
    return 2;
  }
  auto since = actors::parse_since(*since_text);
  if (!since) {
    std::fprintf(stderr, "troupe logs: --since '%s' is neither ISO 8601 nor Unix seconds\n",
                 since_text->c_str());
    return 2;
  }
  auto store = open(args, actors::store_access::read);
  if (!store) return 1;
  std::string error;
  bool ok = store->for_each_since(
      *since,
      [](const actors::request_log_row& r) {
        std::string line = actors::request_log_json_line(r);
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fputc('\n', stdout);
      },
      &error);
  if (!ok) {
    std::fprintf(stderr, "troupe logs: %s\n", error.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int run_logs(int argc, char** argv) {
  auto argv_long = with_long_options(argc, argv);
  cli_args args(argc, argv_long.data(), 2, {"lines", "since", "db"}, {"json", "help"});
  if (!args.ok()) {
    std::fprintf(stderr, "troupe logs: %s\n\n%s", args.error().c_str(), kUsage);
    return 2;
  }
  const auto& pos = args.positional();
  if (args.has("help") || pos.size() != 1) {
    std::fputs(kUsage, args.has("help") ? stdout : stderr);
    return args.has("help") ? 0 : 2;
  }
  if (pos[0] == "tail") return tail(args);
  if (pos[0] == "export") return export_since(args);
  if (pos[0] == "migrate") return open(args, actors::store_access::write) ? 0 : 1;
  std::fprintf(stderr, "troupe logs: unknown action '%s'\n\n%s", pos[0].c_str(), kUsage);
  return 2;
}

}  // namespace troupe::cli

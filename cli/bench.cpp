// `troupe bench`: the serving benchmark, in the conventions of vLLM's
// benchmark_serving, against Troupe or any other OpenAI-compatible server.
#include "cli/bench.hpp"

#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>

#include "bench/serving/client.hpp"
#include "bench/serving/report.hpp"
#include "bench/serving/server_metrics.hpp"
#include "bench/serving/sweep.hpp"
#include "cli/cli_args.hpp"

namespace troupe::cli {

namespace {

constexpr const char* bench_usage =
    "usage: troupe bench --base-url URL --model NAME [options]\n"
    "       troupe bench plot RESULT.json... --out PREFIX [--format png|svg] [--knee]\n"
    "       troupe bench summary RESULT.json... [--knee] [--out FILE.md]\n"
    "\n"
    "  --base-url URL          server, e.g. https://127.0.0.1:8443 (default)\n"
    "  --api-key KEY           bearer key (default: $OPENAI_API_KEY)\n"
    "  --model NAME            model id to request (required)\n"
    "  --endpoint E            completions (default) or chat\n"
    "  --num-prompts N         requests to send (default 100)\n"
    "  --request-rate R        Poisson arrivals per second; inf = all at once (default inf)\n"
    "  --max-concurrency C     at most C requests in flight (closed loop)\n"
    "  --dataset D             fixed (default), uniform or sharegpt-like\n"
    "  --input-len N           prompt length in words (~tokens) (default 128)\n"
    "  --output-len N          max_tokens, sent with ignore_eos (default 128)\n"
    "  --shared-prefix-len N   words every prompt shares (prefix caching) (default 0)\n"
    "  --seed S                workload seed (default 0)\n"
    "  --goodput ttft:MS,tpot:MS  SLO for the goodput figure\n"
    "  --label TEXT            name of this run in charts (default: the model)\n"
    "  --point NAME=VALUE      where this run sits in a sweep (e.g. max_num_seqs=16);\n"
    "                          runs of one label are drawn as one curve in VALUE order\n"
    "  --server-metrics        read the server's /metrics before and after; counter\n"
    "                          deltas (prefix-cache hits, preemptions) go into the JSON\n"
    "  --out FILE.json         write every figure and the run's parameters\n"
    "  --insecure | --cacert F accept any certificate | trust this PEM\n"
    "  --no-progress           no progress bar on stderr\n"
    "\n"
    "plot and summary read the JSON of several runs: one curve (table block) per\n"
    "--label, ordered by --point. --knee marks each curve's knee: the first point\n"
    "after which output throughput never again grows by --knee-gain (default\n"
    "0.10 = 10%) or more, while the next step grows TPOT p50 by more than that.\n";

int fail(const std::string& m) {
  std::fprintf(stderr, "troupe bench: %s\n", m.c_str());
  return 2;
}

bool parse_goodput(const std::string& spec, bench::slo* out) {
  std::size_t pos = 0;
  while (pos < spec.size()) {
    auto comma = spec.find(',', pos);
    std::string part = spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    auto colon = part.find(':');
    if (colon == std::string::npos) return false;
    const std::string key = part.substr(0, colon);
    double value;
    try {
      value = std::stod(part.substr(colon + 1));
    } catch (...) {
      return false;
    }
    if (key == "ttft") out->ttft_ms = value;
    else if (key == "tpot") out->tpot_ms = value;
    else return false;
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return true;
}

bool read_results(const std::vector<std::string>& paths, std::vector<nlohmann::json>* results,
                  std::string* error) {
  for (const auto& path : paths) {
    std::ifstream in(path);
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("ttft_ms")) {
      *error = path + " is not a troupe bench result";
      return false;
    }
    results->push_back(std::move(j));
  }
  return true;
}

// --knee / --knee-gain G → the relative throughput gain that ends the climb; 0 = no knee.
bool knee_gain_from(cli_args& args, double* gain) {
  *gain = args.has("knee") || args.has("knee-gain") ? args.get_double("knee-gain", 0.10) : 0;
  return args.ok() && *gain >= 0;
}

// Creates the folder an --out path names (plot prefixes, summary and result
// files), so a missing folder is made rather than reported as a failure of
// the tool that writes into it.
bool ensure_parent_dir(const std::string& out, std::string* error) {
  const std::filesystem::path parent = std::filesystem::path(out).parent_path();
  if (parent.empty()) return true;
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) return *error = "cannot create the folder " + parent.string() + " for --out: " + ec.message(), false;
  return true;
}

int run_plot(int argc, char** argv) {
  cli_args args(argc, argv, 3, {"out", "format", "knee-gain"}, {"knee", "help"});
  if (!args.ok()) return fail(args.error());
  auto out = args.get("out");
  if (!out || args.positional().empty()) return fail(std::string("plot needs RESULT.json files and --out\n") + bench_usage);
  const std::string format = args.get_or("format", "png");
  if (format != "png" && format != "svg") return fail("--format must be png or svg");
  double knee_gain = 0;
  if (!knee_gain_from(args, &knee_gain)) return fail("--knee-gain expects a fraction such as 0.10");
  std::vector<nlohmann::json> results;
  std::string error;
  if (!read_results(args.positional(), &results, &error)) return fail(error);
  if (!ensure_parent_dir(*out, &error)) return fail(error);
  if (!bench::plot_results(results, *out, format, knee_gain, &error)) return fail(error);
  std::printf("wrote %s_latency_vs_throughput.%s and %s_percentiles.%s\n", out->c_str(),
              format.c_str(), out->c_str(), format.c_str());
  return 0;
}

int run_summary(int argc, char** argv) {
  cli_args args(argc, argv, 3, {"out", "knee-gain"}, {"knee", "help"});
  if (!args.ok()) return fail(args.error());
  if (args.positional().empty()) return fail(std::string("summary needs RESULT.json files\n") + bench_usage);
  double knee_gain = 0;
  if (!knee_gain_from(args, &knee_gain)) return fail("--knee-gain expects a fraction such as 0.10");
  std::vector<nlohmann::json> results;
  std::string error;
  if (!read_results(args.positional(), &results, &error)) return fail(error);
  auto curves = bench::group_curves(results);
  if (knee_gain > 0) bench::mark_knees(curves, knee_gain);
  const std::string table = bench::markdown_table(curves, knee_gain > 0);
  if (auto out = args.get("out")) {
    if (!ensure_parent_dir(*out, &error)) return fail(error);
    std::ofstream f(*out);
    f << table;
    if (!f) return fail("cannot write " + *out);
  } else {
    std::fputs(table.c_str(), stdout);
  }
  return 0;
}

// "NAME=VALUE" with a numeric VALUE → the JSON "point" of a sweep run.
bool parse_point(const std::string& spec, nlohmann::json* out) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  char* end = nullptr;
  const std::string value = spec.substr(eq + 1);
  const double v = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0') return false;
  *out = {{"name", spec.substr(0, eq)}, {"value", v}};
  return true;
}

bool scrape(const bench::client_options& client, std::map<std::string, double>* samples,
            std::string* error) {
  std::string body;
  if (!bench::fetch_text(client, "/metrics", &body, error)) return false;
  *samples = bench::parse_prometheus_samples(body);
  return true;
}

}  // namespace

int run_bench(int argc, char** argv) {
  if (argc > 2 && std::string(argv[2]) == "plot") return run_plot(argc, argv);
  if (argc > 2 && std::string(argv[2]) == "summary") return run_summary(argc, argv);
  cli_args args(argc, argv, 2,
                {"base-url", "api-key", "model", "endpoint", "num-prompts", "request-rate",
                 "max-concurrency", "dataset", "input-len", "output-len", "shared-prefix-len",
                 "seed", "goodput", "label", "point", "out", "cacert"},
                {"insecure", "no-progress", "server-metrics", "help"});
  if (args.has("help")) {
    std::fputs(bench_usage, stdout);
    return 0;
  }
  bench::client_options client;
  client.base_url = args.get_or("base-url", "https://127.0.0.1:8443");
  const char* env_key = std::getenv("OPENAI_API_KEY");
  client.api_key = args.get_or("api-key", env_key ? env_key : "");
  client.endpoint = args.get_or("endpoint", "completions");
  client.insecure = args.has("insecure");
  client.cacert = args.get_or("cacert", "");
  client.max_concurrency = static_cast<int32_t>(args.get_int("max-concurrency", 0));
  bench::workload_options w;
  w.num_prompts = static_cast<int32_t>(args.get_int("num-prompts", 100));
  w.input_len = static_cast<int32_t>(args.get_int("input-len", 128));
  w.output_len = static_cast<int32_t>(args.get_int("output-len", 128));
  w.shared_prefix_len = static_cast<int32_t>(args.get_int("shared-prefix-len", 0));
  w.seed = static_cast<uint64_t>(args.get_int("seed", 0));
  const std::string rate = args.get_or("request-rate", "inf");
  if (!args.ok()) return fail(args.error());
  if (rate != "inf") {
    try {
      w.request_rate = std::stod(rate);
    } catch (...) {
      return fail("--request-rate expects a number or inf");
    }
    if (!(w.request_rate > 0)) return fail("--request-rate must be positive (or inf)");
  }
  if (!bench::parse_dataset(args.get_or("dataset", "fixed"), &w.dataset))
    return fail("--dataset must be fixed, uniform or sharegpt-like");
  if (client.endpoint != "completions" && client.endpoint != "chat")
    return fail("--endpoint must be completions or chat");
  auto model = args.get("model");
  if (!model) return fail(std::string("--model is required\n") + bench_usage);
  client.model = *model;
  if (w.num_prompts < 1 || w.input_len < 1 || w.output_len < 1)
    return fail("--num-prompts, --input-len and --output-len must be positive");
  bench::slo goal;
  if (auto g = args.get("goodput"); g && !parse_goodput(*g, &goal))
    return fail("--goodput expects ttft:MS,tpot:MS");
  nlohmann::json point;
  if (auto p = args.get("point"); p && !parse_point(*p, &point))
    return fail("--point expects NAME=NUMBER, e.g. max_num_seqs=16");
  std::string error;
  std::map<std::string, double> metrics_before;
  const bool server_metrics = args.has("server-metrics");
  if (server_metrics && !scrape(client, &metrics_before, &error)) return fail(error);

  const auto requests = bench::make_workload(w);
  const bool show_progress = !args.has("no-progress");
  auto progress = [&](int done, int total) {
    if (!show_progress) return;
    const int width = 40, filled = total ? width * done / total : width;
    std::fprintf(stderr, "\r[%s%s] %d/%d", std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(), done, total);
    if (done == total) std::fputc('\n', stderr);
  };
  double duration_s = 0;
  auto timings = bench::run_load(client, requests, progress, &duration_s, &error);
  if (!error.empty()) return fail(error);
  const auto summary = bench::summarize_run(timings, duration_s, goal);
  std::fputs(bench::format_table(summary, goal).c_str(), stdout);
  nlohmann::json result = bench::to_json(summary, client, w, goal, args.get_or("label", client.model));
  if (!point.is_null()) result["point"] = point;
  if (server_metrics) {
    std::map<std::string, double> metrics_after;
    if (!scrape(client, &metrics_after, &error)) return fail(error);
    result["server_metrics"] = bench::counter_deltas(metrics_before, metrics_after);
    if (auto rate = bench::prefix_cache_hit_rate(result))
      std::printf("Prefix-cache hit rate:   %.1f%% of prompt tokens\n", 100 * *rate);
  }
  if (auto out = args.get("out")) {
    std::string error;
    if (!ensure_parent_dir(*out, &error)) return fail(error);
    std::ofstream f(*out);
    f << result.dump(2) << "\n";
    if (!f) return fail("cannot write " + *out);
  }
  return summary.completed > 0 ? 0 : 1;
}

}  // namespace troupe::cli

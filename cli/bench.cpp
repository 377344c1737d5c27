// `troupe bench`: the serving benchmark, in the conventions of vLLM's
// benchmark_serving, against Troupe or any other OpenAI-compatible server.
#include "cli/bench.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>

#include "bench/serving/client.hpp"
#include "bench/serving/report.hpp"
#include "cli/cli_args.hpp"

namespace troupe::cli {

namespace {

constexpr const char* bench_usage =
    "usage: troupe bench --base-url URL --model NAME [options]\n"
    "       troupe bench plot RESULT.json... --out PREFIX [--format png|svg]\n"
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
    "  --out FILE.json         write every figure and the run's parameters\n"
    "  --insecure | --cacert F accept any certificate | trust this PEM\n"
    "  --no-progress           no progress bar on stderr\n";

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

int run_plot(int argc, char** argv) {
  cli_args args(argc, argv, 3, {"out", "format"}, {"help"});
  if (!args.ok()) return fail(args.error());
  auto out = args.get("out");
  if (!out || args.positional().empty()) return fail(std::string("plot needs RESULT.json files and --out\n") + bench_usage);
  const std::string format = args.get_or("format", "png");
  if (format != "png" && format != "svg") return fail("--format must be png or svg");
  std::vector<nlohmann::json> results;
  for (const auto& path : args.positional()) {
    std::ifstream in(path);
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("ttft_ms"))
      return fail(path + " is not a troupe bench result");
    results.push_back(std::move(j));
  }
  std::string error;
  if (!bench::plot_results(results, *out, format, &error)) return fail(error);
  std::printf("wrote %s_latency_vs_throughput.%s and %s_percentiles.%s\n", out->c_str(),
              format.c_str(), out->c_str(), format.c_str());
  return 0;
}

}  // namespace

int run_bench(int argc, char** argv) {
  if (argc > 2 && std::string(argv[2]) == "plot") return run_plot(argc, argv);
  cli_args args(argc, argv, 2,
                {"base-url", "api-key", "model", "endpoint", "num-prompts", "request-rate",
                 "max-concurrency", "dataset", "input-len", "output-len", "shared-prefix-len",
                 "seed", "goodput", "label", "out", "cacert"},
                {"insecure", "no-progress", "help"});
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

  const auto requests = bench::make_workload(w);
  const bool show_progress = !args.has("no-progress");
  auto progress = [&](int done, int total) {
    if (!show_progress) return;
    const int width = 40, filled = total ? width * done / total : width;
    std::fprintf(stderr, "\r[%s%s] %d/%d", std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(), done, total);
    if (done == total) std::fputc('\n', stderr);
  };
  std::string error;
  double duration_s = 0;
  auto timings = bench::run_load(client, requests, progress, &duration_s, &error);
  if (!error.empty()) return fail(error);
  const auto summary = bench::summarize_run(timings, duration_s, goal);
  std::fputs(bench::format_table(summary, goal).c_str(), stdout);
  if (auto out = args.get("out")) {
    std::ofstream f(*out);
    f << bench::to_json(summary, client, w, goal, args.get_or("label", client.model)).dump(2) << "\n";
    if (!f) return fail("cannot write " + *out);
  }
  return summary.completed > 0 ? 0 : 1;
}

}  // namespace troupe::cli

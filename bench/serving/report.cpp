#include "bench/serving/report.hpp"

#include "bench/serving/sweep.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

namespace troupe::bench {

namespace {

std::string row(const char* name, const distribution& d) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%-22s %10.2f %10.2f %10.2f %10.2f\n", name, d.mean, d.p50, d.p90,
                d.p99);
  return buf;
}

nlohmann::json dist_json(const distribution& d) {
  return {{"mean", d.mean}, {"p50", d.p50}, {"p90", d.p90}, {"p99", d.p99}};
}

std::string run_command(const char* cmd) {
  std::string out;
  if (FILE* p = popen(cmd, "r")) {
    char buf[256];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

std::string describe_machine() {
  std::string cpu;
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  std::string gpu = run_command("nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1");
  return gpu.empty() ? "CPU: " + cpu : "GPU: " + gpu + "; CPU: " + cpu;
}

std::string format_table(const run_summary& s, const slo& goal) {
  std::ostringstream o;
  char buf[512];  // the 8-line block below is ~330 bytes
  o << "============ Serving Benchmark Result ============\n";
  std::snprintf(buf, sizeof buf,
                "Successful requests:     %d\nFailed requests:         %d\n"
                "Benchmark duration (s):  %.2f\nTotal input tokens:      %lld\n"
                "Total output tokens:     %lld\nRequest throughput (req/s):       %.2f\n"
                "Output token throughput (tok/s):  %.2f\nTotal token throughput (tok/s):   %.2f\n",
                s.completed, s.failed, s.duration_s, static_cast<long long>(s.total_input_tokens),
                static_cast<long long>(s.total_output_tokens), s.request_throughput,
                s.output_throughput, s.total_token_throughput);
  o << buf;
  if (goal.ttft_ms > 0 || goal.tpot_ms > 0) {
    std::snprintf(buf, sizeof buf, "Goodput (req/s) [ttft<=%gms tpot<=%gms]: %.2f\n", goal.ttft_ms,
                  goal.tpot_ms, s.goodput);
    o << buf;
  }
  std::snprintf(buf, sizeof buf, "%-22s %10s %10s %10s %10s\n", "latency (ms)", "mean", "p50", "p90", "p99");
  o << buf << row("TTFT", s.ttft_ms) << row("TPOT", s.tpot_ms) << row("ITL", s.itl_ms)
    << row("E2E", s.e2e_ms);
  for (const auto& e : s.sample_errors) o << "error: " << e << "\n";
  o << "==================================================\n";
  return o.str();
}

nlohmann::json to_json(const run_summary& s, const client_options& client,
                       const workload_options& w, const slo& goal, const std::string& label) {
  const char* dataset = w.dataset == dataset_kind::fixed     ? "fixed"
                        : w.dataset == dataset_kind::uniform ? "uniform"
                                                             : "sharegpt-like";
  return {
      {"label", label},
      {"parameters",
       {{"base_url", client.base_url}, {"model", client.model}, {"endpoint", client.endpoint},
        {"num_prompts", w.num_prompts}, {"request_rate", w.request_rate > 0 ? w.request_rate : -1},
        {"max_concurrency", client.max_concurrency}, {"input_len", w.input_len},
        {"output_len", w.output_len}, {"dataset", dataset}, {"seed", w.seed},
        {"shared_prefix_len", w.shared_prefix_len},
        {"goodput_slo", {{"ttft_ms", goal.ttft_ms}, {"tpot_ms", goal.tpot_ms}}}}},
      {"machine", describe_machine()},
      {"commit", TROUPE_GIT_COMMIT},
      {"completed", s.completed},
      {"failed", s.failed},
      {"duration_s", s.duration_s},
      {"request_throughput", s.request_throughput},
      {"output_throughput", s.output_throughput},
      {"total_token_throughput", s.total_token_throughput},
      {"total_input_tokens", s.total_input_tokens},
      {"total_output_tokens", s.total_output_tokens},
      {"goodput", s.goodput},
      {"ttft_ms", dist_json(s.ttft_ms)},
      {"tpot_ms", dist_json(s.tpot_ms)},
      {"itl_ms", dist_json(s.itl_ms)},
      {"e2e_ms", dist_json(s.e2e_ms)},
      {"errors", s.sample_errors},
  };
}

namespace {

std::string gnuplot_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// One subplot: latency column p50 (solid) and p99 (dashed) of every curve,
// each point named by its --point, the knee circled and labelled.
void plot_latency(std::ostringstream& gp, const std::vector<sweep_curve>& curves,
                  const std::string& data_path, const char* ylabel, int p50_column) {
  gp << "set ylabel '" << ylabel << "'\nunset label\n";
  for (std::size_t i = 0; i < curves.size(); ++i) {
    const auto& c = curves[i];
    if (!c.knee) continue;
    const auto& p = c.points[*c.knee];
    const double y = (*p.result)[p50_column == 2 ? "ttft_ms" : "tpot_ms"]["p50"].get<double>();
    // A red ring on the point; the words in the lower right corner, where
    // they cannot fall off the plot.
    gp << "set label '' at " << p.output_throughput << "," << y << " point pt 6 ps 3 lc rgb 'red'\n";
    gp << "set label " << gnuplot_quote("knee (" + c.label + "): " + p.point_text()) << " at graph 0.98,"
       << 0.05 + 0.06 * static_cast<double>(i) << " right tc rgb 'red'\n";
  }
  gp << "plot ";
  for (std::size_t i = 0; i < curves.size(); ++i) {
    if (i) gp << ", ";
    const std::string title = curves[i].label;
    gp << "'" << data_path << "' index " << i << " using 1:" << p50_column
       << " with linespoints lw 2 pt 7 lc " << i + 1 << " title " << gnuplot_quote(title + " p50")
       << ", '' index " << i << " using 1:" << p50_column + 1 << " with linespoints dt 2 pt 6 lc "
       << i + 1 << " title " << gnuplot_quote(title + " p99");
    const bool named = !curves[i].points.empty() && !curves[i].points.front().point_name.empty();
    if (named)
      gp << ", '' index " << i << " using 1:" << p50_column << ":6 with labels offset 0,1 font ',8' "
         << "tc lt " << i + 1 << " notitle";
  }
  gp << "\n";
}

}  // namespace

bool plot_results(const std::vector<nlohmann::json>& results, const std::string& out_prefix,
                  const std::string& format, double knee_gain, std::string* error) {
  const std::string terminal = format == "svg" ? "svg size 1100,560 noenhanced" : "pngcairo size 1100,560 noenhanced";
  std::vector<sweep_curve> curves = group_curves(results);
  if (knee_gain > 0) mark_knees(curves, knee_gain);
  // Data: one block per curve, in sweep order; column 6 names the point.
  const std::string data_path = out_prefix + ".dat";
  std::ofstream data(data_path);
  for (const auto& c : curves) {
    data << "# " << c.label << "\n";
    for (const auto& p : c.points) {
      const auto& r = *p.result;
      data << p.output_throughput << " " << r["ttft_ms"]["p50"].get<double>() << " "
           << r["ttft_ms"]["p99"].get<double>() << " " << r["tpot_ms"]["p50"].get<double>() << " "
           << r["tpot_ms"]["p99"].get<double>() << " \"" << p.point_text() << "\"\n";
    }
    data << "\n\n";
  }
  data.close();
  std::ostringstream gp;
  gp << "set terminal " << terminal << "\nset grid\nset key top left\n";
  // Room around the data for the point names.
  gp << "set offsets graph 0.08, graph 0.12, graph 0.12, graph 0.05\n";
  gp << "set output '" << out_prefix << "_latency_vs_throughput." << format << "'\n";
  gp << "set multiplot layout 1,2 title 'Latency vs output throughput (p50 solid, p99 dashed)'\n";
  gp << "set xlabel 'output tokens/s'\n";
  plot_latency(gp, curves, data_path, "TTFT (ms)", 2);
  plot_latency(gp, curves, data_path, "TPOT (ms)", 4);
  gp << "unset multiplot\nunset label\nset offsets 0, 0, 0, 0\n";
  // Percentile bars of the highest-throughput run of each curve.
  const std::string bars_path = out_prefix + "_bars.dat";
  std::ofstream bars(bars_path);
  for (const auto& c : curves) {
    const auto best = std::max_element(c.points.begin(), c.points.end(), [](const auto& a, const auto& b) {
      return a.output_throughput < b.output_throughput;
    });
    const auto& r = *best->result;
    bars << '"' << c.label << "\" " << r["ttft_ms"]["p50"] << " " << r["ttft_ms"]["p90"] << " "
         << r["ttft_ms"]["p99"] << " " << r["tpot_ms"]["p50"] << " " << r["tpot_ms"]["p90"] << " "
         << r["tpot_ms"]["p99"] << "\n";
  }
  bars.close();
  gp << "set output '" << out_prefix << "_percentiles." << format << "'\n";
  gp << "set style data histogram\nset style histogram cluster gap 1\nset style fill solid 0.8\n"
        "set xlabel ''\nset ylabel 'ms'\nset title 'Latency percentiles (highest-throughput run of each)'\n";
  gp << "plot '" << bars_path << "' using 2:xtic(1) title 'TTFT p50', '' using 3 title 'TTFT p90', "
        "'' using 4 title 'TTFT p99', '' using 5 title 'TPOT p50', '' using 6 title 'TPOT p90', "
        "'' using 7 title 'TPOT p99'\n";
  const std::string script_path = out_prefix + ".gnuplot";
  std::ofstream(script_path) << gp.str();
  const std::string cmd = "gnuplot '" + script_path + "' 2>&1";
  std::string output = run_command(cmd.c_str());
  std::ifstream check(out_prefix + "_latency_vs_throughput." + format);
  if (!check || check.peek() == EOF) {
    *error = "gnuplot did not write the chart (is gnuplot installed?): " + output;
    return false;
  }
  return true;
}

}  // namespace troupe::bench

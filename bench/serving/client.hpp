#pragma once
// Drives an OpenAI-compatible server (Troupe or any other) with a workload
// over HTTP or HTTPS, streaming every response with SSE, and times each
// request as a user would see it.
#include <functional>
#include <string>
#include <vector>

#include "bench/serving/stats.hpp"
#include "bench/serving/workload.hpp"

namespace troupe::bench {

struct client_options {
  std::string base_url = "https://127.0.0.1:8443";  // scheme://host:port[/prefix]
  std::string api_key;
  std::string model;
  std::string endpoint = "completions";  // "completions" or "chat"
  bool insecure = false;                 // accept any certificate
  std::string cacert;                    // PEM file to trust (self-signed servers)
  int32_t max_concurrency = 0;           // 0 = unbounded
  double request_timeout_s = 600;
  bool ignore_eos = true;                // exact output lengths where the server honours it
};

struct endpoint_url {
  bool tls = false;
  std::string host, port, path_prefix;
};

bool parse_base_url(const std::string& url, endpoint_url* out, std::string* error);

// GET base_url + path (e.g. "/metrics") with the same TLS settings and key;
// false and *error unless the answer is 200.
bool fetch_text(const client_options& options, const std::string& path, std::string* body,
                std::string* error);

// Sends every request at its send_at_s (or as slots free up) and returns one
// timing per request, in workload order. progress(done, total) is called as
// requests finish.
std::vector<request_timing> run_load(const client_options& options,
                                     const std::vector<bench_request>& requests,
                                     const std::function<void(int, int)>& progress,
                                     double* duration_s, std::string* error);

}  // namespace troupe::bench

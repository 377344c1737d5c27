// Structured-output cost: compile time of a JSON schema (schema → regex →
// byte automaton) and of the first token masks over a real vocabulary, and
// the time per output token (TPOT) of the engine on the CPU executor with and
// without a schema at concurrency 1 and N. Prints figures; asserts nothing.
//
//   structured_bench --model=DIR [--concurrency=N] [--tokens=N] [--repeat=N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/engine/engine.hpp"
#include "actors/engine/exec/cpu_executor.hpp"
#include "actors/engine/structured/byte_dfa.hpp"
#include "actors/engine/structured/json_schema_regex.hpp"
#include "actors/engine/structured/token_grammar.hpp"
#include "actors/engine/tokenizer/tokenizer.hpp"

namespace {

using namespace troupe;
using clock_type = std::chrono::steady_clock;
namespace st = engine::structured;

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

// 50 properties: strings (some bounded), integers, numbers, booleans, enums.
nlohmann::ordered_json fifty_property_schema() {
  nlohmann::ordered_json s = {{"type", "object"}, {"properties", nlohmann::ordered_json::object()},
                              {"required", nlohmann::ordered_json::array()},
                              {"additionalProperties", false}};
  for (int i = 0; i < 50; ++i) {
    const std::string name = "property_" + std::to_string(i);
    nlohmann::ordered_json p;
    switch (i % 5) {
      case 0: p = {{"type", "string"}}; break;
      case 1: p = {{"type", "integer"}}; break;
      case 2: p = {{"type", "number"}}; break;
      case 3: p = {{"type", "boolean"}}; break;
      default: p = {{"enum", {"alpha", "beta", "gamma"}}}; break;
    }
    s["properties"][name] = p;
    s["required"].push_back(name);
  }
  return s;
}

// The constraint of the TPOT runs: a JSON-like list of strings that never
// ends by itself (a schema's output ends as soon as it is complete, and a
// random model completes small ones in a few tokens), so the constrained
// and the free run do the same number of steps at the same batch size.
const char* const kTpotRegex = R"((?:"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt])*",)*)";

struct run_result {
  double tpot_ms = 0;
  int64_t tokens = 0;
};

// Runs `concurrency` requests of `max_tokens` tokens at once; TPOT = wall time
// of the steps after the first (prefill) divided by the decode steps.
run_result run(const std::string& model_dir, std::shared_ptr<const st::token_vocabulary> vocab,
               const std::string& regex, int32_t concurrency, int32_t max_tokens) {
  std::string error;
  auto exec = engine::make_cpu_executor(model_dir, {}, &error);
  if (!exec) {
    std::fprintf(stderr, "cannot load %s: %s\n", model_dir.c_str(), error.c_str());
    std::exit(1);
  }
  engine::engine_options o;
  o.max_num_seqs = concurrency;
  o.vocabulary = std::move(vocab);
  engine::engine eng(std::move(exec), o);
  for (int32_t i = 0; i < concurrency; ++i) {
    engine::engine_request r;
    r.request_id = "r" + std::to_string(i);
    r.prompt_token_ids = {1, 2, 3, 4, 5, 6, 7, 8};
    r.params.temperature = 1.0f;
    r.params.seed = 17 + i;
    r.params.max_tokens = max_tokens;
    r.params.ignore_eos = true;
    r.params.guided_regex = regex;
    if (eng.add_request(r) != engine::add_error::none) {
      std::fprintf(stderr, "request refused\n");
      std::exit(1);
    }
  }
  eng.step();  // prefill (and the first token)
  run_result out;
  int64_t steps = 0;
  const auto t0 = clock_type::now();
  while (eng.has_unfinished_requests()) {
    for (const auto& o : eng.step()) out.tokens += static_cast<int64_t>(o.new_token_ids.size());
    ++steps;
  }
  out.tpot_ms = steps ? ms_since(t0) / steps : 0;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model;
  int32_t concurrency = 8, tokens = 64, repeat = 20;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--model=", 0) == 0) model = a.substr(8);
    else if (a.rfind("--concurrency=", 0) == 0) concurrency = std::stoi(a.substr(14));
    else if (a.rfind("--tokens=", 0) == 0) tokens = std::stoi(a.substr(9));
    else if (a.rfind("--repeat=", 0) == 0) repeat = std::stoi(a.substr(9));
    else {
      std::fprintf(stderr, "usage: structured_bench --model=DIR [--concurrency=N] [--tokens=N] [--repeat=N]\n");
      return 2;
    }
  }
  // Compile time of the 50-property schema (median of `repeat`).
  const auto schema = fifty_property_schema();
  std::vector<double> compile_ms;
  std::string regex;
  size_t num_states = 0;
  for (int i = 0; i < repeat; ++i) {
    const auto t0 = clock_type::now();
    auto r = st::json_schema_to_regex(schema);
    std::string error;
    auto dfa = st::regex_to_dfa(r.regex, &error);
    compile_ms.push_back(ms_since(t0));
    if (!dfa) {
      std::fprintf(stderr, "compile failed: %s\n", error.c_str());
      return 1;
    }
    regex = r.regex;
    num_states = static_cast<size_t>(dfa->num_states());
  }
  std::sort(compile_ms.begin(), compile_ms.end());
  std::printf("50-property schema: regex %zu bytes, %zu automaton states, compile %.2f ms (median of %d)\n",
              regex.size(), num_states, compile_ms[compile_ms.size() / 2], repeat);
  if (model.empty()) return 0;

  std::string error;
  auto tok = engine::tokenizer::load(model + "/tokenizer.json", &error);
  if (!tok) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  auto t0 = clock_type::now();
  auto vocab = st::vocabulary_from_tokenizer(*tok, tok->vocab_size());
  std::printf("vocabulary: %d tokens, byte strings and order built in %.1f ms (once per server)\n",
              vocab->vocab_size, ms_since(t0));
  {
    std::string err;
    auto dfa = st::regex_to_dfa(regex, &err);
    st::token_grammar g(std::move(*dfa), vocab);
    // Masks of the states a typical output passes through: first use, then cached.
    std::vector<int32_t> states = {0};
    for (const char* prefix : {"{\"property_0\":\"", "{\"property_0\":\"ab\",\"property_1\":1"})
      states.push_back(g.dfa().walk(0, prefix));
    for (int32_t s : states) {
      auto t1 = clock_type::now();
      (void)g.mask(s);
      const double first = ms_since(t1);
      t1 = clock_type::now();
      (void)g.mask(s);
      std::printf("  mask of state %d: first %.2f ms, cached %.4f ms\n", s, first, ms_since(t1));
    }
  }
  const std::string tpot_regex = kTpotRegex;
  for (int32_t c : {1, concurrency}) {
    const run_result free_run = run(model, vocab, "", c, tokens);
    const run_result guided = run(model, vocab, tpot_regex, c, tokens);
    std::printf("concurrency %d, %d tokens: TPOT %.3f ms free (%lld tokens), %.3f ms constrained "
                "(%lld tokens) (%+.1f %%)\n",
                c, tokens, free_run.tpot_ms, static_cast<long long>(free_run.tokens), guided.tpot_ms,
                static_cast<long long>(guided.tokens),
                100.0 * (guided.tpot_ms - free_run.tpot_ms) / free_run.tpot_ms);
  }
  return 0;
}

#pragma once
// Sliding-window perplexity of a token sequence under a model, with the windows
// and token counting of tools/reference/perplexity_reference.py (the
// transformers "Perplexity of fixed-length models" procedure):
//
//   prev_end = 0
//   for begin = 0, stride, 2*stride, ...:
//     end = min(begin + context, n);  trg_len = end - prev_end
//     the window ids[begin, end) is run from position 0; token j of the window
//     (j >= 1) is predicted by logits row j - 1, and it is scored when
//     j >= max(1, (end - begin) - trg_len), i.e. when no earlier window scored it
//     prev_end = end; stop after the window that reaches n
//   perplexity = exp(sum of -log p(scored token) / number of scored tokens)
//
// With stride < context every token but the first is scored once (n - 1
// tokens); with stride == context each window's first token has no context and
// is skipped (n - num_windows tokens).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "actors/engine/exec/executor.hpp"

namespace troupe::engine {

struct perplexity_options {
  int32_t context_tokens = 512;  // window length
  int32_t stride_tokens = 512;   // 1 <= stride_tokens <= context_tokens
};

// One model call: the tokens [begin, end) of the text, of which window
// positions [first_scored, end - begin) are scored.
struct perplexity_window {
  int64_t begin = 0;
  int64_t end = 0;
  int32_t first_scored = 1;

  int32_t num_tokens() const { return static_cast<int32_t>(end - begin); }
  int32_t num_scored() const { return num_tokens() - first_scored; }
};

// The windows over a text of num_text_tokens tokens (empty when fewer than 2).
// Precondition: 1 <= stride_tokens <= context_tokens.
std::vector<perplexity_window> plan_perplexity_windows(int64_t num_text_tokens,
                                                       const perplexity_options& options);

struct perplexity_result {
  int64_t num_text_tokens = 0;
  int64_t num_windows = 0;
  int64_t tokens_evaluated = 0;  // scored tokens
  double nll_sum = 0.0;          // natural log, summed over scored tokens
  double mean_nll() const { return tokens_evaluated ? nll_sum / tokens_evaluated : 0.0; }
  double perplexity() const;
};

// -log softmax(logits)[target], accumulated in fp64.
double token_nll(const float* logits, int32_t vocab_size, int32_t target);

// Called after each window with (windows done, windows in all).
using perplexity_progress = std::function<void(int64_t, int64_t)>;

// Runs every window through `exec` (one sequence per step, its KV in blocks
// 0..ceil(window / block_size) - 1, all logits returned) and sums the scored
// tokens' negative log-likelihoods. nullopt and *error when the options are
// invalid, the text has fewer than two tokens, a token id is outside the
// vocabulary, a window does not fit the executor's KV cache, or the executor
// returns logits of the wrong size.
std::optional<perplexity_result> compute_perplexity(executor& exec,
                                                    const std::vector<int32_t>& token_ids,
                                                    const perplexity_options& options,
                                                    std::string* error,
                                                    const perplexity_progress& progress = {});

}  // namespace troupe::engine

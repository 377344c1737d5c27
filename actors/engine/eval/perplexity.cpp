#include "actors/engine/eval/perplexity.hpp"

#include <algorithm>
#include <cmath>

namespace troupe::engine {

namespace {

void set_error(std::string* error, std::string message) {
  if (error) *error = std::move(message);
}

// The step for one window: a single sequence with no computed tokens, whose
// K/V go to slots 0..n-1 (blocks 0, 1, ... in order). No sampling.
gpu::step_batch window_batch(const std::vector<int32_t>& ids, const perplexity_window& w,
                             int32_t block_size) {
  const int32_t n = w.num_tokens();
  const int32_t num_blocks = (n + block_size - 1) / block_size;
  gpu::step_batch b;
  b.num_seqs = 1;
  b.block_size = block_size;
  b.token_ids.assign(ids.begin() + w.begin, ids.begin() + w.end);
  b.positions.resize(n);
  b.slot_mapping.resize(n);
  for (int32_t i = 0; i < n; ++i) {
    b.positions[i] = i;
    b.slot_mapping[i] = i;  // block i / block_size holds offset i % block_size
  }
  b.query_start_loc = {0, n};
  b.seq_lens = {n};
  b.max_blocks_per_seq = num_blocks;
  b.block_tables.resize(num_blocks);
  for (int32_t i = 0; i < num_blocks; ++i) b.block_tables[i] = i;
  b.do_sample = {0};
  b.sampling.resize(1);
  b.sample_index = {0};
  b.return_all_logits = true;
  return b;
}

}  // namespace

std::vector<perplexity_window> plan_perplexity_windows(int64_t num_text_tokens,
                                                       const perplexity_options& options) {
  std::vector<perplexity_window> windows;
  if (num_text_tokens < 2) return windows;
  int64_t prev_end = 0;
  for (int64_t begin = 0; begin < num_text_tokens; begin += options.stride_tokens) {
    perplexity_window w;
    w.begin = begin;
    w.end = std::min<int64_t>(begin + options.context_tokens, num_text_tokens);
    const int64_t target_len = w.end - prev_end;
    w.first_scored = static_cast<int32_t>(std::max<int64_t>(1, w.num_tokens() - target_len));
    windows.push_back(w);
    prev_end = w.end;
    if (w.end == num_text_tokens) break;
  }
  return windows;
}

double perplexity_result::perplexity() const { return std::exp(mean_nll()); }

double token_nll(const float* logits, int32_t vocab_size, int32_t target) {
  double max_logit = logits[0];
  for (int32_t v = 1; v < vocab_size; ++v) max_logit = std::max<double>(max_logit, logits[v]);
  double sum = 0.0;
  for (int32_t v = 0; v < vocab_size; ++v) sum += std::exp(static_cast<double>(logits[v]) - max_logit);
  return std::log(sum) + max_logit - static_cast<double>(logits[target]);
}

std::optional<perplexity_result> compute_perplexity(executor& exec,
                                                    const std::vector<int32_t>& token_ids,
                                                    const perplexity_options& options,
                                                    std::string* error,
                                                    const perplexity_progress& progress) {
  if (options.context_tokens < 2) {
    set_error(error, "context must be at least 2 tokens, got " +
                         std::to_string(options.context_tokens));
    return std::nullopt;
  }
  if (options.stride_tokens < 1 || options.stride_tokens > options.context_tokens) {
    set_error(error, "stride must be between 1 and the context (" +
                         std::to_string(options.context_tokens) + "), got " +
                         std::to_string(options.stride_tokens));
    return std::nullopt;
  }
  if (token_ids.size() < 2) {
    set_error(error, "the text has fewer than two tokens");
    return std::nullopt;
  }
  const int32_t vocab = exec.spec().vocab_size;
  for (int32_t id : token_ids) {
    if (id < 0 || id >= vocab) {
      set_error(error, "token id " + std::to_string(id) + " is outside the model's vocabulary of " +
                           std::to_string(vocab));
      return std::nullopt;
    }
  }
  const int32_t block_size = exec.block_size();
  const int64_t needed_blocks = (options.context_tokens + block_size - 1) / block_size;
  if (needed_blocks > exec.num_kv_blocks()) {
    set_error(error, "a window of " + std::to_string(options.context_tokens) + " tokens needs " +
                         std::to_string(needed_blocks) + " KV blocks but the executor has " +
                         std::to_string(exec.num_kv_blocks()));
    return std::nullopt;
  }

  const auto windows = plan_perplexity_windows(static_cast<int64_t>(token_ids.size()), options);
  perplexity_result result;
  result.num_text_tokens = static_cast<int64_t>(token_ids.size());
  result.num_windows = static_cast<int64_t>(windows.size());
  for (std::size_t k = 0; k < windows.size(); ++k) {
    const auto& w = windows[k];
    const auto step = exec.execute(window_batch(token_ids, w, block_size));
    const std::size_t expected = static_cast<std::size_t>(w.num_tokens()) * vocab;
    if (step.logits.size() != expected) {
      set_error(error, "the executor returned " + std::to_string(step.logits.size()) +
                           " logits for a window of " + std::to_string(w.num_tokens()) +
                           " tokens (expected " + std::to_string(expected) + ")");
      return std::nullopt;
    }
    for (int32_t j = w.first_scored; j < w.num_tokens(); ++j) {
      const float* row = step.logits.data() + static_cast<std::size_t>(j - 1) * vocab;
      result.nll_sum += token_nll(row, vocab, token_ids[w.begin + j]);
    }
    result.tokens_evaluated += w.num_scored();
    if (progress) progress(static_cast<int64_t>(k + 1), result.num_windows);
  }
  return result;
}

}  // namespace troupe::engine

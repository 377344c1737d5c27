#include "actors/node/local_service.hpp"

#include <atomic>
#include <caf/all.hpp>
#include <chrono>
#include <mutex>
#include <random>
#include <unordered_map>

#include "actors/engine/chat/tool_calls.hpp"
#include "actors/engine/exec/cpu_executor.hpp"
#include "actors/engine/structured/token_vocabulary.hpp"
#include "actors/messages.hpp"
#include "actors/metrics/metrics_registry.hpp"
#include "actors/node/model_bundle.hpp"
#include "actors/request_actor.hpp"
#include "actors/scheduler_actor.hpp"
#ifdef TROUPE_HAVE_CUDA
#include "actors/engine/exec/cuda_executor_adapter.hpp"
#endif

namespace troupe::actors {

namespace {

struct node_config : caf::actor_system_config {
  explicit node_config(int32_t num_threads) {
    announce_message_types(*this);
    set("scheduler.max-threads", std::max(1, num_threads));
    set("logger.console", caf::atom("none"));
  }
};

class local_service final : public generation_service {
 public:
  local_service(const node_options& options, std::shared_ptr<model_bundle> model,
                std::unique_ptr<engine::executor> exec)
      : config_(options.scheduler_threads),
        system_(config_),
        model_(std::move(model)),
        metrics_(std::make_shared<metrics_registry>()),
        max_in_flight_(options.engine.max_num_seqs + options.engine.max_waiting) {
    engine::engine_options engine_options = options.engine;
    engine_options.vocabulary =
        engine::structured::vocabulary_from_tokenizer(model_->tokenizer, exec->spec().vocab_size);
    auto eng = std::make_unique<engine::engine>(std::move(exec), engine_options);
    model_->max_model_len = eng->max_model_len();
    scheduler_ = spawn_scheduler(system_, std::move(eng), metrics_);
  }

  ~local_service() override {
    caf::anon_send_exit(scheduler_, caf::exit_reason::user_shutdown);
    system_.await_all_actors_done();
  }

  model_info model() const override {
    model_info m{model_->id, model_->created_unix_s, model_->max_model_len,
                 model_->chat_template.has_value()};
    m.vocab_size = model_->tokenizer.vocab_size();
    m.tool_call_format = engine::to_string(model_->tool_call_format);
    m.default_temperature = model_->generation.temperature;
    m.default_top_p = model_->generation.top_p;
    m.default_top_k = model_->generation.top_k;
    m.default_repetition_penalty = model_->generation.repetition_penalty;
    return m;
  }
  bool ready() const override { return true; }

  std::vector<int32_t> tokenize(const std::string& text, bool add_special_tokens) const override {
    return model_->tokenizer.encode(text, add_special_tokens);
  }
  std::string detokenize(const std::vector<int32_t>& ids) const override {
    return model_->tokenizer.decode(ids, false);
  }

  std::optional<std::string> render_chat(const std::vector<chat_message>& messages,
                                         bool add_generation_prompt,
                                         std::string* error) const override {
    return render_chat_with_tools(messages, "", add_generation_prompt, error);
  }

  std::optional<std::string> render_chat_with_tools(const std::vector<chat_message>& messages,
                                                    const std::string& tools_json,
                                                    bool add_generation_prompt,
                                                    std::string* error) const override {
    if (!model_->chat_template) {
      *error = "This model has no chat template (tokenizer_config.json has no chat_template); "
               "use /v1/completions or configure model.chat_template.";
      return std::nullopt;
    }
    nlohmann::ordered_json msgs = nlohmann::ordered_json::array();
    for (const auto& m : messages) {
      nlohmann::ordered_json msg = {{"role", m.role}, {"content", m.content}};
      if (!m.tool_calls_json.empty()) msg["tool_calls"] = nlohmann::ordered_json::parse(m.tool_calls_json);
      if (!m.tool_call_id.empty()) msg["tool_call_id"] = m.tool_call_id;
      if (!m.name.empty()) msg["name"] = m.name;
      msgs.push_back(std::move(msg));
    }
    std::optional<nlohmann::ordered_json> tools;
    if (!tools_json.empty()) tools = nlohmann::ordered_json::parse(tools_json);
    return engine::render_chat(*model_->chat_template, msgs, add_generation_prompt,
                               model_->tokenizer_config.bos_token.value_or(""),
                               model_->tokenizer_config.eos_token.value_or(""), tools, error);
  }

  service_error start(generation_request request, event_sink sink,
                      std::string* error_message) override {
    if (request.prompt_text)
      request.prompt_token_ids = tokenize(*request.prompt_text, request.add_special_tokens);
    const int64_t num_prompt = static_cast<int64_t>(request.prompt_token_ids.size());
    const int32_t vocab = model_->tokenizer.vocab_size();
    if (num_prompt == 0) {
      *error_message = "The prompt is empty.";
      return service_error::bad_request;
    }
    for (int32_t id : request.prompt_token_ids)
      if (id < 0 || id >= vocab) {
        *error_message = "Token id " + std::to_string(id) + " is out of vocabulary.";
        return service_error::bad_request;
      }
    const int64_t max_len = model_->max_model_len;
    if (num_prompt + request.params.max_tokens > max_len) {
      *error_message = "This model's maximum context length is " + std::to_string(max_len) +
                       " tokens. However, you requested " +
                       std::to_string(num_prompt + request.params.max_tokens) + " tokens (" +
                       std::to_string(num_prompt) + " in the messages, " +
                       std::to_string(request.params.max_tokens) +
                       " in the completion). Please reduce the length of the messages or completion.";
      return service_error::context_length_exceeded;
    }
    if (!request.params.ignore_eos && request.params.stop_token_ids.empty())
      request.params.stop_token_ids = model_->eos_token_ids;
    else if (!request.params.ignore_eos)
      request.params.stop_token_ids.insert(request.params.stop_token_ids.end(),
                                           model_->eos_token_ids.begin(),
                                           model_->eos_token_ids.end());
    if (!request.has_seed) request.params.seed = draw_seed();
    const int32_t n = std::max(1, request.n);
    if (in_flight_.fetch_add(n) + n > max_in_flight_) {
      in_flight_ -= n;
      ++metrics_->requests_rejected_overload;
      *error_message = "The engine is currently overloaded, please try again later.";
      return service_error::overloaded;
    }
    const std::string id = request.request_id;
    request_actor_args args;
    args.model = model_;
    args.scheduler = scheduler_;
    args.metrics = metrics_;
    args.request = std::move(request);
    args.sink = std::move(sink);
    args.on_finished = [this, id, n] {
      in_flight_ -= n;
      std::lock_guard lock(mutex_);
      requests_.erase(id);
    };
    std::lock_guard lock(mutex_);
    requests_[id] = spawn_request_actor(system_, std::move(args));
    return service_error::none;
  }

  void cancel(const std::string& request_id) override {
    std::lock_guard lock(mutex_);
    auto it = requests_.find(request_id);
    if (it != requests_.end()) caf::anon_send(it->second, cancel_atom::value);
  }

  std::string metrics_text() const override { return metrics_->render(); }

 private:
  uint64_t draw_seed() {
    std::lock_guard lock(mutex_);
    return seed_rng_();
  }

  node_config config_;
  caf::actor_system system_;
  std::shared_ptr<model_bundle> model_;
  std::shared_ptr<metrics_registry> metrics_;
  scheduler_actor scheduler_;
  const int32_t max_in_flight_;
  std::atomic<int32_t> in_flight_{0};
  std::mutex mutex_;
  std::unordered_map<std::string, request_actor> requests_;
  std::mt19937_64 seed_rng_{std::random_device{}()};
};

}  // namespace

std::unique_ptr<engine::executor> make_executor(const node_options& options, std::string* error) {
  std::string which = options.executor;
#ifdef TROUPE_HAVE_CUDA
  if (which == "auto") which = engine::cuda_device_available() ? "cuda" : "cpu";
  if (which == "cuda") {
    gpu::cuda_executor_options o;
    o.block_size = options.block_size;
    o.gpu_memory_utilization = options.gpu_memory_utilization;
    // The executor's workspaces and graph buckets are sized for the largest
    // step the scheduler can form.
    o.max_num_seqs = options.engine.max_num_seqs;
    o.max_num_batched_tokens = options.engine.max_num_batched_tokens;
    o.max_model_len = options.engine.max_model_len;
    return engine::make_cuda_executor(options.model_dir, o, error);
  }
#else
  if (which == "auto") which = "cpu";
  if (which == "cuda") {
    *error = "executor 'cuda' requested, but this build has no CUDA executor";
    return nullptr;
  }
#endif
  if (which != "cpu") {
    *error = "unknown executor '" + which + "' (expected auto, cpu or cuda)";
    return nullptr;
  }
  engine::cpu_executor_options o;
  o.block_size = options.block_size;
  o.kv_budget_bytes = options.kv_cache_bytes;
  o.num_threads = options.num_threads;
  return engine::make_cpu_executor(options.model_dir, o, error);
}

std::unique_ptr<generation_service> start_local_service(const node_options& options,
                                                        std::string* error) {
  auto model = load_model_bundle(options.model_dir, options.served_model_name,
                                 options.chat_template_override, error);
  if (!model) return nullptr;
  auto exec = make_executor(options, error);
  if (!exec) return nullptr;
  return std::make_unique<local_service>(options, std::move(model), std::move(exec));
}

}  // namespace troupe::actors

#include "actors/node/cluster_service.hpp"

#include <atomic>
#include <mutex>
#include <random>

#include "actors/engine/chat/tool_calls.hpp"
#include "actors/node/cluster_state.hpp"
#include "actors/node/membership_actor.hpp"
#include "actors/node/output_dispatcher.hpp"
#include "actors/request_actor.hpp"
#include "actors/scheduler_actor.hpp"

namespace troupe::actors {

namespace {

struct node_config : caf::actor_system_config {
  explicit node_config(const gateway_options& o) {
    announce_message_types(*this);
    if (o.remote) configure_cluster(*this, o.cluster);
    set("scheduler.max-threads", std::max(1, o.num_threads));
    set("logger.console", caf::atom("none"));
  }
};

model_info info_of(const model_bundle& m) {
  model_info info;
  info.id = m.id;
  info.created = m.created_unix_s;
  info.max_model_len = m.max_model_len;
  info.has_chat_template = m.chat_template.has_value();
  info.vocab_size = m.tokenizer.vocab_size();
  info.tool_call_format = engine::to_string(m.tool_call_format);
  info.default_temperature = m.generation.temperature;
  info.default_top_p = m.generation.top_p;
  info.default_top_k = m.generation.top_k;
  info.default_repetition_penalty = m.generation.repetition_penalty;
  return info;
}

class gateway_node final : public cluster_service {
 public:
  explicit gateway_node(const gateway_options& options)
      : options_(options), config_(options), system_(config_) {
    state_->workers = std::make_shared<worker_table>(options.cluster.affinity_max_imbalance);
    dispatcher_ = spawn_output_dispatcher(system_, state_);
    membership_ = spawn_membership(system_, state_, options.cluster, options.workers);
  }

  ~gateway_node() override {
    std::vector<request_actor> running;
    {
      std::lock_guard lock(state_->mutex);
      for (const auto& [id, actor] : state_->requests) running.push_back(actor);
    }
    for (const auto& r : running) caf::anon_send(r, cancel_atom::value);
    for (const auto& w : local_workers_) caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(membership_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(dispatcher_, caf::exit_reason::user_shutdown);
    if (registry_) caf::anon_send_exit(registry_, caf::exit_reason::user_shutdown);
    local_workers_.clear();
    membership_ = nullptr;
    dispatcher_ = nullptr;
    registry_ = nullptr;
  }

  bool open_registry(std::string* error) {
    if (!options_.registry) return true;
    registry_ = spawn_registry(system_, membership_);
    auto port = publish_on_cluster(registry_, *options_.registry, options_.cluster);
    if (!port) {
      *error = "cannot listen for workers on " + options_.registry->host + ":" +
               std::to_string(options_.registry->port) + ": " + system_.render(port.error());
      return false;
    }
    registry_port_ = *port;
    return true;
  }

  bool add_local_worker(std::unique_ptr<engine::engine> engine, worker_info info,
                        std::string* error) override {
    info.max_model_len = engine->max_model_len();
    auto worker = spawn_scheduler(system_, std::move(engine), std::make_shared<metrics_registry>(),
                                  std::move(info));
    const std::string address = "in-process#" + std::to_string(local_workers_.size());
    local_workers_.push_back(worker);
    bool admitted = false;
    caf::scoped_actor self{system_};
    self->request(membership_, caf::infinite, join_atom::value, worker, address)
        .receive([&](bool ok) { admitted = ok; },
                 [&](caf::error& e) { *error = system_.render(e); });
    if (!admitted && error->empty()) *error = "the in-process worker was refused";
    return admitted;
  }

  uint16_t registry_port() const override { return registry_port_; }

  void kill_local_worker(size_t index) override {
    if (index < local_workers_.size())
      caf::anon_send_exit(local_workers_[index], caf::exit_reason::kill);
  }

  std::vector<model_info> models() const override {
    std::vector<model_info> out;
    std::lock_guard lock(state_->mutex);
    for (const auto& m : state_->models) out.push_back(info_of(*m));
    return out;
  }

  bool ready() const override {
    const auto ids = state_->workers->model_ids();
    if (ids.empty()) return false;
    for (const auto& id : ids)
      if (!state_->workers->has_healthy_worker(id)) return false;
    return true;
  }

  std::vector<int32_t> tokenize(const std::string& model, const std::string& text,
                                bool add_special_tokens) const override {
    auto m = state_->find_model(model);
    return m ? m->tokenizer.encode(text, add_special_tokens) : std::vector<int32_t>{};
  }

  std::string detokenize(const std::string& model, const std::vector<int32_t>& ids) const override {
    auto m = state_->find_model(model);
    return m ? m->tokenizer.decode(ids, false) : std::string{};
  }

  std::optional<std::string> render_chat(const std::string& model,
                                         const std::vector<chat_message>& messages,
                                         bool add_generation_prompt,
                                         std::string* error) const override {
    return render_chat_with_tools(model, messages, "", add_generation_prompt, error);
  }

  std::optional<std::string> render_chat_with_tools(const std::string& model,
                                                    const std::vector<chat_message>& messages,
                                                    const std::string& tools_json,
                                                    bool add_generation_prompt,
                                                    std::string* error) const override {
    auto m = state_->find_model(model);
    if (!m) {
      *error = "The model '" + model + "' is not served here.";
      return std::nullopt;
    }
    if (!m->chat_template) {
      *error = "This model has no chat template (tokenizer_config.json has no chat_template); "
               "use /v1/completions or configure model.chat_template.";
      return std::nullopt;
    }
    nlohmann::ordered_json msgs = nlohmann::ordered_json::array();
    for (const auto& msg : messages) {
      nlohmann::ordered_json j = {{"role", msg.role}, {"content", msg.content}};
      if (!msg.tool_calls_json.empty()) j["tool_calls"] = nlohmann::ordered_json::parse(msg.tool_calls_json);
      if (!msg.tool_call_id.empty()) j["tool_call_id"] = msg.tool_call_id;
      if (!msg.name.empty()) j["name"] = msg.name;
      msgs.push_back(std::move(j));
    }
    std::optional<nlohmann::ordered_json> tools;
    if (!tools_json.empty()) tools = nlohmann::ordered_json::parse(tools_json);
    return engine::render_chat(*m->chat_template, msgs, add_generation_prompt,
                               m->tokenizer_config.bos_token.value_or(""),
                               m->tokenizer_config.eos_token.value_or(""), tools, error);
  }

  service_error start(generation_request request, event_sink sink,
                      std::string* error_message) override {
    auto model = state_->find_model(request.model);
    if (!model) {
      *error_message = "The model '" + request.model + "' does not exist.";
      return service_error::bad_request;
    }
    request.model = model->id;
    if (request.prompt_text)
      request.prompt_token_ids = model->tokenizer.encode(*request.prompt_text, request.add_special_tokens);
    if (auto e = validate(*model, request, error_message); e != service_error::none) return e;
    if (!state_->workers->has_healthy_worker(model->id)) {
      *error_message = "No worker of model '" + model->id + "' is available now; try again later.";
      return service_error::overloaded;
    }
    // Sequences it will run: n per prompt.
    const int32_t n = std::max(1, request.n) * (1 + static_cast<int32_t>(request.extra_prompt_token_ids.size()));
    if (state_->in_flight.fetch_add(n) + n > options_.max_in_flight) {
      state_->in_flight -= n;
      ++state_->metrics->requests_rejected_overload;
      *error_message = "The engine is currently overloaded, please try again later.";
      return service_error::overloaded;
    }
    const std::string id = request.request_id;
    request_actor_args args;
    args.model = model;
    args.workers = state_->workers;
    args.dispatcher = dispatcher_;
    args.metrics = state_->metrics;
    args.failovers_total = state_->failovers_total;
    // Remote workers may return (restart, healed link); in-process ones do not.
    args.failover_wait = std::chrono::milliseconds(options_.remote ? options_.cluster.eject_after_ms : 0);
    args.request = std::move(request);
    args.sink = std::move(sink);
    auto state = state_;
    args.on_finished = [state, id, n] {
      state->in_flight -= n;
      std::lock_guard lock(state->mutex);
      state->requests.erase(id);
    };
    std::lock_guard lock(state_->mutex);
    state_->requests[id] = spawn_request_actor(system_, std::move(args));
    return service_error::none;
  }

  void cancel(const std::string& request_id) override {
    std::lock_guard lock(state_->mutex);
    auto it = state_->requests.find(request_id);
    if (it != state_->requests.end()) caf::anon_send(it->second, cancel_atom::value);
  }

  std::string metrics_text() const override {
    std::string out = state_->metrics->render();
    const auto workers = state_->workers->snapshot();
    auto family = [&](const std::string& name, const char* type, const char* help, auto value) {
      out += "# HELP troupe:" + name + " " + help + "\n# TYPE troupe:" + name + " " + type + "\n";
      for (const auto& w : workers)
        out += "troupe:" + name + "{worker=\"" + w.address + "\",model_name=\"" + w.model_id + "\"} " +
               std::to_string(value(w)) + "\n";
    };
    family("worker_healthy", "gauge", "1 while the worker answers heartbeats and takes requests.",
           [](const worker_entry& w) { return w.healthy && !w.draining ? 1 : 0; });
    family("worker_in_flight", "gauge", "Sequences this gateway runs on the worker.",
           [](const worker_entry& w) { return w.in_flight; });
    // From the worker's own engine (its last heartbeat): the same on every
    // gateway, which is what the worker tier's autoscaler reads.
    family("worker_requests_waiting", "gauge", "Sequences waiting in the worker's queue (all gateways).",
           [](const worker_entry& w) { return w.stats.num_waiting; });
    family("worker_kv_cache_usage_perc", "gauge", "Fraction of the worker's KV blocks in use (0-1).",
           [](const worker_entry& w) {
             return w.stats.num_total_blocks <= 0
                        ? 0.0
                        : 1.0 - double(w.stats.num_free_blocks) / double(w.stats.num_total_blocks);
           });
    family("worker_routed_total", "counter", "Sequences routed to the worker.",
           [](const worker_entry& w) { return w.routed_total; });
    family("worker_failovers_total", "counter", "Sequences moved off the worker after it failed.",
           [](const worker_entry& w) { return w.failovers_total; });
    family("worker_ejections_total", "counter", "Times the worker was ejected (silent or disconnected).",
           [](const worker_entry& w) { return w.ejections_total; });
    out += "# HELP troupe:workers_refused_total Workers refused at the handshake (version or interface).\n"
           "# TYPE troupe:workers_refused_total counter\ntroupe:workers_refused_total " +
           std::to_string(state_->refused_workers_total.load()) + "\n";
    return out;
  }

 private:
  static service_error validate(const model_bundle& model, generation_request& request,
                                std::string* error_message) {
    const int64_t num_prompt = static_cast<int64_t>(request.prompt_token_ids.size());
    const int32_t vocab = model.tokenizer.vocab_size();
    if (num_prompt == 0) {
      *error_message = "The prompt is empty.";
      return service_error::bad_request;
    }
    for (int32_t id : request.prompt_token_ids)
      if (id < 0 || id >= vocab) {
        *error_message = "Token id " + std::to_string(id) + " is out of vocabulary.";
        return service_error::bad_request;
      }
    const int64_t max_len = model.max_model_len;
    if (max_len > 0 && num_prompt + request.params.max_tokens > max_len) {
      *error_message = "This model's maximum context length is " + std::to_string(max_len) +
                       " tokens. However, you requested " +
                       std::to_string(num_prompt + request.params.max_tokens) + " tokens (" +
                       std::to_string(num_prompt) + " in the messages, " +
                       std::to_string(request.params.max_tokens) +
                       " in the completion). Please reduce the length of the messages or completion.";
      return service_error::context_length_exceeded;
    }
    if (!request.params.ignore_eos)
      request.params.stop_token_ids.insert(request.params.stop_token_ids.end(),
                                           model.eos_token_ids.begin(), model.eos_token_ids.end());
    if (!request.has_seed) request.params.seed = draw_seed();
    return service_error::none;
  }

  static uint64_t draw_seed() {
    static std::mutex mutex;
    static std::mt19937_64 rng{std::random_device{}()};
    std::lock_guard lock(mutex);
    return rng();
  }

  gateway_options options_;
  node_config config_;
  caf::actor_system system_;
  std::shared_ptr<cluster_state> state_ = std::make_shared<cluster_state>();
  dispatcher_actor dispatcher_;
  caf::actor membership_;
  registry_actor registry_;
  std::vector<scheduler_actor> local_workers_;
  uint16_t registry_port_ = 0;
};

}  // namespace

std::unique_ptr<cluster_service> cluster_service::create(const gateway_options& options,
                                                        std::string* error) {
  auto node = std::make_unique<gateway_node>(options);
  if (!node->open_registry(error)) return nullptr;
  return node;
}

}  // namespace troupe::actors

// The whole security path as the server wires it: hooks with a stored API key
// and a request log writer (log actor over SQLite). What record() is given
// comes back from the database under the key's principal, without text.
#include <caf/all.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "actors/log_actor.hpp"
#include "net/auth/api_key.hpp"
#include "net/auth/security_hooks.hpp"

namespace troupe::net {
namespace {

TEST(SecurityWiring, RequestsRecordedThroughTheHooksLandInTheRequestLog) {
  auto dir = std::filesystem::temp_directory_path() / ("troupe_wiring_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string keys_db = (dir / "keys.db").string();
  std::string log_url = "sqlite:" + (dir / "requests.db").string();

  std::string key = *generate_api_key();
  {
    auto store = actors::key_store::open(keys_db, nullptr);
    actors::api_key_record r;
    r.id = "key_0a0b0c0d0e0f";
    r.name = "wiring";
    r.key_sha256_hex = api_key_sha256_hex(key);
    r.created_at_unix_s = 1;
    ASSERT_TRUE(store->insert(r, nullptr));
  }

  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::string error;
  auto log_store = actors::open_request_log_store(log_url, actors::store_access::write, &error);
  ASSERT_TRUE(log_store) << error;
  auto writer = actors::request_log_writer::start(sys, std::move(log_store), {});
  security_options options;
  options.keys_db = keys_db;
  auto hooks = security_hooks::create(options, writer, &error);
  ASSERT_TRUE(hooks) << error;

  for (int i = 0; i < 5; ++i) {
    principal who;
    ASSERT_FALSE(hooks->authenticate("Bearer " + key, &who));
    admission adm;
    ASSERT_FALSE(hooks->admit(who, "tiny", 30, &adm));
    request_record rec;
    rec.request_id = "chatcmpl-" + std::to_string(i);
    rec.model = "tiny";
    rec.endpoint = "/v1/chat/completions";
    rec.finish_reason = "stop";
    rec.prompt_tokens = 10;
    rec.completion_tokens = i;
    rec.prompt_text = "do not store me";
    rec.started_at_unix_ms = 1767600000000 + i;
    hooks->record(who, 30, rec);
  }
  EXPECT_NE(hooks->metrics_text().find("troupe:request_log_dropped_total 0\n"), std::string::npos);
  writer->stop();

  auto reader = actors::open_request_log_store(log_url, actors::store_access::read, &error);
  ASSERT_TRUE(reader) << error;
  std::vector<actors::request_log_row> rows;
  ASSERT_TRUE(reader->tail(10, &rows, &error)) << error;
  ASSERT_EQ(rows.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(rows[size_t(i)].request_id, "chatcmpl-" + std::to_string(i));
    EXPECT_EQ(rows[size_t(i)].principal, "key:key_0a0b0c0d0e0f");
    EXPECT_EQ(rows[size_t(i)].completion_tokens, i);
    EXPECT_FALSE(rows[size_t(i)].prompt_text);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace troupe::net

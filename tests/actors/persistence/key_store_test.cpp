#include "actors/persistence/key_store.hpp"

#include <gtest/gtest.h>

#include "actors/persistence/schema/sqlite_migrate.hpp"
#include "tests/actors/persistence/test_support.hpp"

namespace troupe::actors {
namespace {

api_key_record sample_key(const std::string& id, const std::string& hash) {
  api_key_record r;
  r.id = id;
  r.name = "team " + id;
  r.key_sha256_hex = hash;
  r.max_requests_per_minute = 60;
  r.allowed_models = {"a", "b"};
  r.created_at_unix_s = 1767600000;
  return r;
}

TEST(KeyStore, StoresLooksUpListsAndRevokesKeys) {
  test::scratch_dir dir;
  std::string error;
  auto store = key_store::open(dir.file("keys.db"), &error);
  ASSERT_TRUE(store) << error;
  ASSERT_TRUE(store->insert(sample_key("key_1", std::string(64, 'a')), &error)) << error;
  ASSERT_TRUE(store->insert(sample_key("key_2", std::string(64, 'b')), &error)) << error;
  EXPECT_FALSE(store->insert(sample_key("key_3", std::string(64, 'a')), &error));  // hash is unique

  auto found = store->find_by_hash(std::string(64, 'b'));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, "key_2");
  EXPECT_EQ(found->max_requests_per_minute, 60);
  EXPECT_FALSE(found->max_tokens_per_minute);
  EXPECT_EQ(found->allowed_models, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(store->find_by_hash(std::string(64, 'c')));
  EXPECT_EQ(store->list().size(), 2u);

  EXPECT_EQ(store->revoke("key_1", 1767600100), revoke_outcome::revoked);
  EXPECT_EQ(store->revoke("key_1", 1767600200), revoke_outcome::already_revoked);
  EXPECT_EQ(store->revoke("key_9", 1767600200), revoke_outcome::not_found);
  EXPECT_EQ(store->find_by_hash(std::string(64, 'a'))->revoked_at_unix_s, 1767600100);
}

TEST(KeyStore, SchemaVersionIsRecordedAndReopeningKeepsData) {
  test::scratch_dir dir;
  {
    auto store = key_store::open(dir.file("keys.db"), nullptr);
    ASSERT_TRUE(store->insert(sample_key("key_1", std::string(64, 'a')), nullptr));
  }
  auto store = key_store::open(dir.file("keys.db"), nullptr);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->list().size(), 1u);
  if (test::have_command("sqlite3")) {
    EXPECT_EQ(test::run_command("sqlite3 " + dir.file("keys.db") +
                                " \"SELECT version FROM schema_version WHERE component='api_keys'\""),
              "1\n");
  }
}

TEST(KeyStore, ADatabaseFromANewerBuildIsRefused) {
  test::scratch_dir dir;
  { ASSERT_TRUE(key_store::open(dir.file("keys.db"), nullptr)); }
  {
    auto db = sqlite_db::open(dir.file("keys.db"), sqlite_db::mode::read_write_create, nullptr);
    ASSERT_TRUE(db->exec("UPDATE schema_version SET version = 99 WHERE component = 'api_keys'", nullptr));
  }
  std::string error;
  EXPECT_FALSE(key_store::open(dir.file("keys.db"), &error));
  EXPECT_NE(error.find("newer"), std::string::npos) << error;
}

TEST(KeyStore, ModelListsRoundTrip) {
  EXPECT_EQ(join_models({"a", "", "b"}), "a,b");
  EXPECT_EQ(split_models("a,,b"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(split_models("").empty());
}

}  // namespace
}  // namespace troupe::actors

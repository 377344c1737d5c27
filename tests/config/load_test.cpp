#include "config/load.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace troupe::config {
namespace {

TEST(ConfigLoad, EmptyTextKeepsTheDocumentedDefaults) {
  troupe_config c;
  ASSERT_FALSE(load_toml_text("", "t.toml", &c));
  EXPECT_EQ(c.server.host, "127.0.0.1");
  EXPECT_EQ(c.server.port, 8443);
  EXPECT_EQ(c.server.max_body_bytes, 4 * 1024 * 1024);
  EXPECT_EQ(c.server.shutdown_grace_ms, 10000);
  EXPECT_EQ(c.engine.executor, "auto");
  EXPECT_EQ(c.engine.policy, "continuous");
  EXPECT_FALSE(c.auth.disabled);
}

TEST(ConfigLoad, ValuesOfEverySectionAreRead) {
  troupe_config c;
  auto err = load_toml_text(R"(
[server]
host = "0.0.0.0"
port = 9000
no_tls = true
max_body_bytes = 1048576
[model]
path = "/models/llama"
served_model_name = "llama"
[engine]
executor = "cpu"
policy = "static"
max_num_seqs = 8
gpu_memory_utilization = 0.5
enable_prefix_caching = false
[auth]
api_keys = ["sk-a", "sk-b"]
)", "t.toml", &c);
  ASSERT_FALSE(err) << *err;
  EXPECT_EQ(c.server.host, "0.0.0.0");
  EXPECT_EQ(c.server.port, 9000);
  EXPECT_TRUE(c.server.no_tls);
  EXPECT_EQ(c.server.max_body_bytes, 1048576);
  EXPECT_EQ(c.model.path, "/models/llama");
  EXPECT_EQ(c.model.served_model_name, "llama");
  EXPECT_EQ(c.engine.executor, "cpu");
  EXPECT_EQ(c.engine.policy, "static");
  EXPECT_EQ(c.engine.max_num_seqs, 8);
  EXPECT_DOUBLE_EQ(c.engine.gpu_memory_utilization, 0.5);
  EXPECT_FALSE(c.engine.enable_prefix_caching);
  EXPECT_EQ(c.auth.api_keys, (std::vector<std::string>{"sk-a", "sk-b"}));
}

TEST(ConfigLoad, AnUnknownKeyIsAnErrorNamingIt) {
  troupe_config c;
  auto err = load_toml_text("[server]\nprot = 1\n", "t.toml", &c);
  ASSERT_TRUE(err);
  EXPECT_EQ(*err, "config: unknown key 'server.prot'");
  err = load_toml_text("[sever]\nport = 1\n", "t.toml", &c);
  ASSERT_TRUE(err);
  EXPECT_EQ(*err, "config: unknown key 'sever'");
}

TEST(ConfigLoad, AWrongTypeIsAnErrorNamingTheKey) {
  troupe_config c;
  auto err = load_toml_text("[server]\nport = \"8443\"\n", "t.toml", &c);
  ASSERT_TRUE(err);
  EXPECT_EQ(*err, "config: 'server.port' must be an integer");
  err = load_toml_text("[auth]\napi_keys = \"sk-a\"\n", "t.toml", &c);
  ASSERT_TRUE(err);
  EXPECT_EQ(*err, "config: 'auth.api_keys' must be an array of strings");
  err = load_toml_text("[engine]\nenable_prefix_caching = 1\n", "t.toml", &c);
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("'engine.enable_prefix_caching'"), std::string::npos);
}

TEST(ConfigLoad, OutOfRangeAndUnknownChoicesAreRejected) {
  troupe_config c;
  auto err = load_toml_text("[server]\nport = 70000\n", "t.toml", &c);
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("'server.port' must be between 0 and 65535"), std::string::npos);
  err = load_toml_text("[engine]\npolicy = \"fifo\"\n", "t.toml", &c);
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("'engine.policy' must be one of"), std::string::npos);
}

TEST(ConfigLoad, ASyntaxErrorSaysWhere) {
  troupe_config c;
  auto err = load_toml_text("[server]\nport = = 1\n", "bad.toml", &c);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->rfind("config: bad.toml:2:", 0), 0u) << *err;
}

TEST(ConfigFlags, FlagNamesMapToTheirTomlTwins) {
  EXPECT_EQ(key_for_flag("max-num-seqs"), "engine.max_num_seqs");
  EXPECT_EQ(key_for_flag("port"), "server.port");
  EXPECT_EQ(key_for_flag("tls-cert"), "server.tls_cert");
  EXPECT_EQ(key_for_flag("served-model-name"), "model.served_model_name");
  EXPECT_EQ(key_for_flag("engine.block_size"), "engine.block_size");
  EXPECT_EQ(key_for_flag("no-such-flag"), "");
  EXPECT_TRUE(is_boolean_key("server.no_tls"));
  EXPECT_FALSE(is_boolean_key("server.port"));
}

TEST(ConfigFlags, SettingsFromTextOverrideAndCheckTypes) {
  troupe_config c;
  ASSERT_FALSE(apply_setting(&c, "server.port", "0"));
  EXPECT_EQ(c.server.port, 0);
  ASSERT_FALSE(apply_setting(&c, "auth.api_keys", "k1"));
  ASSERT_FALSE(apply_setting(&c, "auth.api_keys", "k2"));
  EXPECT_EQ(c.auth.api_keys.size(), 2u);
  auto err = apply_setting(&c, "engine.max_num_seqs", "many");
  ASSERT_TRUE(err);
  EXPECT_EQ(*err, "config: 'engine.max_num_seqs' must be an integer (got \"many\")");
}

TEST(ConfigValidate, ACertWithoutAKeyIsRejected) {
  troupe_config c;
  c.server.tls_cert = "cert.pem";
  auto err = validate(c);
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("tls_key"), std::string::npos);
}

// The shipped example must parse and must document every key the schema has.
TEST(ConfigExample, TheExampleFileParsesAndMentionsEveryKey) {
  std::string path = std::string(TROUPE_SOURCE_DIR) + "/config/troupe.example.toml";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  troupe_config c;
  auto err = load_toml_text(text, path, &c);
  ASSERT_FALSE(err) << *err;
  for (const std::string& key : all_keys()) {
    std::string leaf = key.substr(key.find('.') + 1);
    EXPECT_NE(text.find(leaf + " ="), std::string::npos) << "example lacks " << key;
  }
}

// --help and the example file come from the same table; the file in the
// repository must be exactly what that table generates.
TEST(ConfigExample, TheExampleFileIsWhatTheSchemaGenerates) {
  std::string path = std::string(TROUPE_SOURCE_DIR) + "/config/troupe.example.toml";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream buf;
  buf << in.rdbuf();
  EXPECT_EQ(buf.str(), example_toml())
      << "regenerate it: troupe serve --example-config > config/troupe.example.toml";
}

TEST(ConfigExample, EveryKeyHasHelpAndItsDefaultIsValidToml) {
  std::string uncommented;
  std::istringstream lines(example_toml());
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# ", 0) == 0 && line.find(" = ") != std::string::npos) {
      std::string assignment = line.substr(2, line.find(" # ") - 2);
      uncommented += assignment + "\n";
    } else if (line.rfind("[", 0) == 0) {
      uncommented += line + "\n";
    }
  }
  troupe_config c;
  auto err = load_toml_text(uncommented, "uncommented example", &c);
  ASSERT_FALSE(err) << *err << "\n" << uncommented;
  EXPECT_EQ(c.server.port, troupe_config{}.server.port);
  EXPECT_EQ(c.server.stats_interval_s, troupe_config{}.server.stats_interval_s);
  EXPECT_EQ(c.engine.executor, troupe_config{}.engine.executor);
  for (const key_doc& d : describe_keys()) {
    EXPECT_FALSE(d.help.empty()) << d.section << "." << d.key;
    EXPECT_FALSE(d.default_text.empty()) << d.section << "." << d.key;
  }
}

}  // namespace
}  // namespace troupe::config

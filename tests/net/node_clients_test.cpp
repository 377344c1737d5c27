// Real clients (the OpenAI Node SDK, `ws`, Node's https) run the serve_*
// integration scripts against an in-process TLS edge over the fake service, so
// the wire format is checked in CI even without a model. Skips without node or
// tests/node/node_modules.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "net/tls/self_signed.hpp"
#include "tests/net/test_server.hpp"

namespace troupe::net::testing {
namespace {

namespace fs = std::filesystem;

class NodeClients : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (std::system("node --version > /dev/null 2>&1") != 0) return;
    if (!fs::exists(fs::path(TROUPE_NODE_MODULES) / "openai")) return;
    dir_ = fs::temp_directory_path() / ("troupe-node-clients-" + std::to_string(::getpid()));
    std::string err;
    auto files = load_or_create_self_signed(dir_.string(), &err);
    ASSERT_TRUE(files) << err;
    fake_service::options fo;
    fo.step_delay_ms = 2;
    server_ = new test_server(fo, config::server_config{}, files->cert_pem, files->key_pem);
    ca_ = files->cert_path;
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void run_script(const std::string& name) {
    if (server_ == nullptr) GTEST_SKIP() << "node or tests/node/node_modules missing (npm ci in tests/node)";
    std::string cmd = "cd '" + std::string(TROUPE_SOURCE_DIR) + "' && TROUPE_TEST_URL='https://localhost:" +
                      std::to_string(server_->port) + "' TROUPE_TEST_CA='" + ca_ + "' NODE_EXTRA_CA_CERTS='" +
                      ca_ + "' TROUPE_TEST_KEY=sk-test NODE_PATH='" + TROUPE_NODE_MODULES +
                      "' timeout 300 node tests/integration/" + name + " 2>&1";
    int rc = std::system(cmd.c_str());
    EXPECT_EQ(WEXITSTATUS(rc), 0) << name << " failed (its output is above)";
  }
  static inline test_server* server_ = nullptr;
  static inline fs::path dir_;
  static inline std::string ca_;
};

TEST_F(NodeClients, TheOpenAINodeSdkSpeaksToTheEdge) { run_script("serve_openai_sdk.test.mjs"); }
TEST_F(NodeClients, TheWsClientRunsTwoStreamsOnOneSocketAndCancelsOne) {
  run_script("serve_websocket.test.mjs");
}
TEST_F(NodeClients, BadInputGetsOpenAIErrorsAndTheServerKeepsServing) {
  run_script("serve_bad_input.test.mjs");
}
TEST_F(NodeClients, AThousandVanishingClientsLeaveNoRequestRunning) {
  run_script("serve_vanishing_clients.test.mjs");
}

}  // namespace
}  // namespace troupe::net::testing

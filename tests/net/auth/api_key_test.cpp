#include "net/auth/api_key.hpp"

#include <gtest/gtest.h>

#include <set>

namespace troupe::net {
namespace {

TEST(ApiKey, Crc32MatchesTheStandardCheckValue) {
  EXPECT_EQ(crc32_ieee("123456789"), 0xCBF43926u);  // the CRC-32/ISO-HDLC check value
  EXPECT_EQ(crc32_ieee(""), 0u);
}

TEST(ApiKey, Sha256HexMatchesTheFips180KnownAnswer) {
  EXPECT_EQ(api_key_sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ApiKey, GeneratedKeysHaveThePrefix256RandomBitsAndAValidChecksum) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto key = generate_api_key();
    ASSERT_TRUE(key);
    EXPECT_EQ(key->size(), 53u);
    EXPECT_EQ(key->substr(0, 4), "trp_");
    EXPECT_TRUE(is_well_formed_api_key(*key));
    seen.insert(*key);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(ApiKey, AnyAlteredCharacterFailsTheChecksum) {
  auto key = *generate_api_key();
  for (size_t i = 4; i < key.size(); ++i) {
    std::string bad = key;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(is_well_formed_api_key(bad)) << "position " << i;
  }
  EXPECT_FALSE(is_well_formed_api_key(key.substr(0, key.size() - 1)));
  EXPECT_FALSE(is_well_formed_api_key("sk-" + key.substr(4)));
}

TEST(ApiKey, KeyIdsArePublicHexNames) {
  auto id = generate_api_key_id();
  ASSERT_TRUE(id);
  EXPECT_EQ(id->size(), 16u);
  EXPECT_EQ(id->substr(0, 4), "key_");
  EXPECT_EQ(id->find_first_not_of("0123456789abcdef", 4), std::string::npos);
}

}  // namespace
}  // namespace troupe::net

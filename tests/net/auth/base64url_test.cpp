#include "net/auth/base64url.hpp"

#include <gtest/gtest.h>

namespace troupe::net {
namespace {

// RFC 4648 §10 test vectors, in the url-safe alphabet without padding.
TEST(Base64url, EncodesTheRfc4648Vectors) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

TEST(Base64url, DecodesWhatItEncodes) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += char(i);
  for (size_t n = 0; n < bytes.size(); n += 7) {
    auto d = base64url_decode(base64url_encode(bytes.substr(0, n)));
    ASSERT_TRUE(d);
    EXPECT_EQ(*d, bytes.substr(0, n));
  }
}

TEST(Base64url, RejectsPaddingStandardAlphabetAndNonCanonicalTails) {
  EXPECT_FALSE(base64url_decode("Zg=="));
  EXPECT_FALSE(base64url_decode("+/8"));
  EXPECT_FALSE(base64url_decode("Zh"));     // low bits of the last char must be zero
  EXPECT_FALSE(base64url_decode("Zm9vY"));  // length ≡ 1 mod 4 encodes nothing
  EXPECT_FALSE(base64url_decode("Zm 9v"));
}

}  // namespace
}  // namespace troupe::net

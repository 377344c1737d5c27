#include <gtest/gtest.h>

#include "actors/engine/text/stop_matcher.hpp"

using troupe::engine::stop_matcher;

namespace {
std::string feed(stop_matcher& m, const std::vector<std::string>& pieces) {
  std::string out;
  for (const auto& p : pieces) out += m.push(p);
  return out + m.flush();
}
}  // namespace

TEST(StopMatcher, AStopStringSplitAcrossDeltasIsNeverEmitted) {
  stop_matcher m({"\nUser:"});
  EXPECT_EQ(feed(m, {"Hello", " there\n", "Us", "er:", " more"}), "Hello there");
  EXPECT_TRUE(m.stopped());
}

TEST(StopMatcher, HeldBackTextIsReleasedWhenItStopsLookingLikeAStop) {
  stop_matcher m({"STOP"});
  EXPECT_EQ(m.push("abc ST"), "abc ");
  EXPECT_EQ(m.push("ART"), "START");
  EXPECT_EQ(m.flush(), "");
  EXPECT_FALSE(m.stopped());
}

TEST(StopMatcher, TheEarliestOfSeveralStopStringsWins) {
  stop_matcher m({"world", "lo"});
  EXPECT_EQ(feed(m, {"hello world"}), "hel");
}

TEST(StopMatcher, WithoutStopStringsEverythingPassesThrough) {
  stop_matcher m({});
  EXPECT_EQ(m.push("a"), "a");
  EXPECT_EQ(m.push("ü"), "ü");
}

TEST(StopMatcher, TheRemainderIsFlushedAtTheEnd) {
  stop_matcher m({"xyz"});
  EXPECT_EQ(m.push("abcx"), "abc");
  EXPECT_EQ(m.flush(), "x");
}

TEST(StopMatcher, IncludeStopStringKeepsTheMatchedStopAndDropsWhatFollows) {
  stop_matcher m({"END", "EN"}, /*include_stop_string=*/true);
  EXPECT_EQ(feed(m, {"abc E", "ND tail"}), "abc END");  // the longer of two stops at one place
  EXPECT_TRUE(m.stopped());
}

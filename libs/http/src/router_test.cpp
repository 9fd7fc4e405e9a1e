#include "http/router.hpp"

#include <gtest/gtest.h>

namespace sn::http {
namespace {

Handler Noop() {
    return [](Context&) -> boost::asio::awaitable<Response> { co_return Response{}; };
}

TEST(Router, MatchesLiteralAndParameterSegments) {
    Router router;
    router.Add(Verb::get, "/user/get/{id}", Access::kPublic, Noop());
    router.Add(Verb::post, "/dialog/{user_id}/send", Access::kAuthenticated, Noop());

    const auto m = router.Find(Verb::post, "/dialog/abc/send");
    ASSERT_NE(m.route, nullptr);
    EXPECT_EQ(m.route->pattern, "/dialog/{user_id}/send");
    ASSERT_EQ(m.params.size(), 1U);
    EXPECT_EQ(m.params[0].first, "user_id");
    EXPECT_EQ(m.params[0].second, "abc");
    EXPECT_EQ(m.route->access, Access::kAuthenticated);
}

TEST(Router, DistinguishesUnknownPathFromWrongMethod) {
    Router router;
    router.Add(Verb::get, "/user/get/{id}", Access::kPublic, Noop());
    const auto wrong_method = router.Find(Verb::post, "/user/get/1");
    EXPECT_EQ(wrong_method.route, nullptr);
    EXPECT_TRUE(wrong_method.path_known);
    const auto unknown = router.Find(Verb::get, "/user/get/1/extra");
    EXPECT_EQ(unknown.route, nullptr);
    EXPECT_FALSE(unknown.path_known);
}

TEST(Router, LiteralSegmentsMustMatchExactly) {
    Router router;
    router.Add(Verb::get, "/counters/unread", Access::kPublic, Noop());
    EXPECT_EQ(router.Find(Verb::get, "/counters/unreadx").route, nullptr);
    EXPECT_NE(router.Find(Verb::get, "/counters/unread/").route, nullptr);
}

TEST(SplitPath, IgnoresEmptySegments) {
    const auto parts = SplitPath("//a/b/");
    ASSERT_EQ(parts.size(), 2U);
    EXPECT_EQ(parts[0], "a");
    EXPECT_EQ(parts[1], "b");
}

}  // namespace
}  // namespace sn::http

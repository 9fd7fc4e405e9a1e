#include "amqp/connection_options.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace sn::amqp {
namespace {

TEST(ParseUrl, ReadsEveryPart) {
    const ConnectionOptions options = ParseUrl("amqp://alice:s%40cret@broker.local:5673/saga");
    EXPECT_EQ(options.user, "alice");
    EXPECT_EQ(options.password, "s@cret");
    EXPECT_EQ(options.addresses, (std::vector<Address>{{"broker.local", 5673}}));
    EXPECT_EQ(options.vhost, "saga");
    EXPECT_EQ(options.heartbeat, std::chrono::seconds(30));
    EXPECT_EQ(options.connect_timeout, std::chrono::seconds(5));
    EXPECT_EQ(options.frame_max, 131072);
}

TEST(ParseUrl, DefaultsToGuestPort5672AndRootVhost) {
    for (const char* url : {"amqp://localhost", "amqp://localhost/", "amqp://localhost/%2f", "amqp://localhost/%2F"}) {
        const ConnectionOptions options = ParseUrl(url);
        EXPECT_EQ(options.vhost, "/") << url;
        EXPECT_EQ(options.addresses.at(0).port, 5672) << url;
        EXPECT_EQ(options.user, "guest") << url;
        EXPECT_EQ(options.password, "guest") << url;
    }
}

TEST(ParseUrl, TheProjectDefault) {
    const ConnectionOptions options = ParseUrl("amqp://guest:guest@127.0.0.1:55672/");
    EXPECT_EQ(options.addresses, (std::vector<Address>{{"127.0.0.1", 55672}}));
    EXPECT_EQ(options.vhost, "/");
    EXPECT_EQ(Endpoint(options), "127.0.0.1:55672/");
}

TEST(ParseUrl, Ipv6AndQueryParameters) {
    const ConnectionOptions options = ParseUrl("amqp://[::1]:5672/v?heartbeat=10&connection_timeout=1500");
    EXPECT_EQ(options.addresses.at(0).host, "::1");
    EXPECT_EQ(options.heartbeat, std::chrono::seconds(10));
    EXPECT_EQ(options.connect_timeout, std::chrono::milliseconds(1500));
    EXPECT_EQ(Endpoint(options), "[::1]:5672/v");
}

TEST(ParseUrl, OneUrlPerClusterNode) {
    const ConnectionOptions options =
        ParseUrl("amqp://u:p@10.0.0.1:5672/saga,amqp://u:p@10.0.0.2:5673/saga,amqp://u:p@[::1]/saga");
    EXPECT_EQ(options.addresses, (std::vector<Address>{{"10.0.0.1", 5672}, {"10.0.0.2", 5673}, {"::1", 5672}}));
    EXPECT_EQ(options.user, "u");
    EXPECT_EQ(options.vhost, "saga");
    EXPECT_EQ(Endpoint(options), "10.0.0.1:5672,10.0.0.2:5673,[::1]:5672/saga");
}

TEST(ParseUrl, ClusterNodesShareCredentialsAndVhost) {
    for (const char* url : {"amqp://u:p@a/,amqp://u:q@b/", "amqp://u:p@a/x,amqp://u:p@b/y",
                            "amqp://a/?heartbeat=5,amqp://b/", "amqp://a/,", ",amqp://a/", "amqp://a/,,amqp://b/"}) {
        EXPECT_THROW((void)ParseUrl(url), std::invalid_argument) << url;
    }
}

TEST(ParseUrl, RejectsBadUrls) {
    for (const char* url : {"", "localhost:5672", "http://localhost/", "amqps://localhost/", "amqp:///vhost",
                            "amqp://host:0/", "amqp://host:70000/", "amqp://host:x/", "amqp://host/a/b",
                            "amqp://host/?heartbeat=-1", "amqp://host/?frobnicate=1", "amqp://ho st/"}) {
        EXPECT_THROW((void)ParseUrl(url), std::invalid_argument) << url;
    }
}

// Boost.URL 1.81 takes what follows a port or an IPv6 literal as a path even without its '/', and
// the vhost would then be that text less its first character (found by config_fuzz).
TEST(ParseUrl, RejectsAPathWithoutItsSlash) {
    for (const char* url : {"amqp://host:5672vhost", "amqp://[::1]vhost", "amqp://[::1]:5672x"}) {
        EXPECT_THROW((void)ParseUrl(url), std::invalid_argument) << url;
    }
}

TEST(ParseUrl, ErrorsDoNotLeakThePassword) {
    try {
        (void)ParseUrl("amqp://u:topsecret@host:99999/");
        FAIL();
    } catch (const std::invalid_argument& error) {
        EXPECT_EQ(std::string(error.what()).find("topsecret"), std::string::npos);
    }
}

}  // namespace
}  // namespace sn::amqp

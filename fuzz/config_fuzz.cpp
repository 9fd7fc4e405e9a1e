// Configuration as the services read it at start: the AMQP and Redis URLs, and every setting a
// service reads from its environment through config::EnvReader (app::ReadBaseConfig,
// saga::ReadConfig, ReadInboxRetention). The input's lines are the values of kNames, in order
// (a line that is missing leaves its variable unset). A bad value must be a ConfigError or
// std::invalid_argument, which the service prints before it exits; anything else is a finding,
// and so is a URL password that survives the masking of the printed configuration.
#include <boost/json/serialize.hpp>
#include <cstdint>
#include <cstdlib>

#include "amqp/connection_options.hpp"
#include "app/runtime.hpp"
#include "common/config.hpp"
#include "fuzz_support.hpp"
#include "redis/client.hpp"
#include "saga/config.hpp"
#include "saga/events.hpp"

namespace {

using sn::fuzz::Fail;

constexpr std::string_view kNames[] = {
    "AMQP_URL",
    "REDIS_URL",
    "HTTP_HOST",
    "HTTP_PORT",
    "THREADS",
    "PG_DSN",
    "PG_POOL_SIZE",
    "PG_STATEMENT_TIMEOUT_MS",
    "OUTBOX_BATCH",
    "OUTBOX_BATCH_BYTES",
    "CONSUMER_PREFETCH",
    "CONSUMER_BATCH",
    "CONSUMER_LINGER_MS",
    "INBOX_RETENTION_HOURS",
    "INBOX_PRUNE_INTERVAL_MS",
    "MIGRATIONS_DIRS",
};

// A password written in the URL as itself (`:password@`, once) must not be in what is printed.
// (Without userinfo the options keep the default password, which may well be elsewhere in the URL:
// the default is no secret.)
void CheckMasked(std::string_view url, const std::string& password) {
    const std::string written = ":" + password + "@";
    if (password.size() < 4 || password == sn::amqp::ConnectionOptions{}.password ||
        url.find(written) == std::string_view::npos || url.find(written) != url.rfind(written)) {
        return;
    }
    if (sn::config::MaskUrlPassword(url).find(written) != std::string::npos) {
        Fail("password printed unmasked", url);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (text.find('\0') != std::string_view::npos) {
        return 0;  // an environment variable cannot hold a NUL
    }
    std::size_t start = 0;
    for (const auto name : kNames) {
        const std::string key(name);
        if (start > text.size()) {
            unsetenv(key.c_str());
            continue;
        }
        auto end = text.find('\n', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        setenv(key.c_str(), std::string(text.substr(start, end - start)).c_str(), 1);
        start = end + 1;
    }
    const std::string amqp_url = std::getenv("AMQP_URL") != nullptr ? std::getenv("AMQP_URL") : "";
    try {
        const auto options = sn::amqp::ParseUrl(amqp_url);
        CheckMasked(amqp_url, options.password);
        (void)sn::amqp::Endpoint(options);
    } catch (const std::invalid_argument&) {
    }
    try {
        (void)sn::redis::ParseUrl(std::getenv("REDIS_URL") != nullptr ? std::getenv("REDIS_URL") : "");
    } catch (const std::invalid_argument&) {
    }
    sn::config::EnvReader env;
    try {
        (void)sn::app::ReadBaseConfig(env, "fuzz", "/nonexistent");
        (void)sn::saga::ReadConfig(env, sn::saga::kCountersQueue);
        (void)sn::saga::ReadInboxRetention(env);
    } catch (const sn::config::ConfigError&) {
    } catch (const std::invalid_argument&) {
    }
    // What the service prints at start.
    (void)boost::json::serialize(env.Effective());
    return 0;
}

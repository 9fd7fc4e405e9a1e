#pragma once

// Shared by the live tests: where the broker is, unique names, cleanup, polling.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "amqp/admin.hpp"
#include "amqp/connection_options.hpp"
#include "amqp/topology.hpp"
#include "common/ids.hpp"

namespace sn::amqp::testing {

[[nodiscard]] inline ConnectionOptions BrokerOptions() {
    const char* url = std::getenv("AMQP_URL");
    ConnectionOptions options = ParseUrl(url != nullptr ? url : "amqp://guest:guest@127.0.0.1:55672/");
    options.name = "amqp_live_test";
    return options;
}

/// "amqp-test.<what>.<random>": runs never see each other's leftovers.
[[nodiscard]] inline std::string UniqueName(std::string_view what) {
    return "amqp-test." + std::string(what) + "." + ids::NewRequestId();
}

/// Deletes the topology at the end of the test, whatever happened.
class TopologyCleanup {
   public:
    explicit TopologyCleanup(Topology topology) : topology_(std::move(topology)) {}
    ~TopologyCleanup() {
        try {
            DeleteTopology(BrokerOptions(), topology_);
        } catch (const std::exception& error) {
            ADD_FAILURE() << "cleanup failed: " << error.what();
        }
    }
    TopologyCleanup(const TopologyCleanup&) = delete;
    TopologyCleanup& operator=(const TopologyCleanup&) = delete;

   private:
    Topology topology_;
};

/// Polls until the condition holds or the deadline passes; returns the condition's last value.
[[nodiscard]] inline bool WaitFor(const std::function<bool()>& condition,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return condition();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

/// The rabbitmqctl command line for the test broker: AMQP_CTL, else the stack script.
[[nodiscard]] inline std::string RabbitmqCtl() {
    if (const char* ctl = std::getenv("AMQP_CTL"); ctl != nullptr) {
        return ctl;
    }
    const std::filesystem::path stack = std::filesystem::path(SN_SOURCE_DIR) / "scripts" / "stack";
    return std::filesystem::exists(stack) ? stack.string() + " rabbitmqctl" : std::string{};
}

}  // namespace sn::amqp::testing

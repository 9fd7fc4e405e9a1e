#pragma once

#include <string>
#include <vector>

#include "redis/client.hpp"

namespace sn::redis {

/// A Lua script run by its SHA1 (EVALSHA), so that its source is neither sent nor hashed by Redis
/// on every call; a Redis that does not have it cached yet (a restart, SCRIPT FLUSH) gets the
/// source once (EVAL), which caches it again.
class Script {
   public:
    explicit Script(std::string source);

    struct Call {
        std::vector<std::string> keys;
        std::vector<std::string> args;
    };

    /// Runs the script once. Like Connection::Run, an error reply is returned, not thrown.
    [[nodiscard]] Reply Run(Connection& conn, const Call& call) const;
    /// Runs the script once per call, all in one round trip; the replies in order.
    [[nodiscard]] std::vector<Reply> RunMany(Connection& conn, const std::vector<Call>& calls) const;

    [[nodiscard]] const std::string& Sha1() const noexcept { return sha1_; }

   private:
    [[nodiscard]] Command Make(const char* verb, const std::string& body, const Call& call) const;

    std::string source_;
    std::string sha1_;  // lowercase hex, as Redis names scripts
};

}  // namespace sn::redis

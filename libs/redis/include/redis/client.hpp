#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/errors.hpp"

/// A small face for hiredis: owned contexts, deadlines on every call, reconnect on the next use.
namespace sn::redis {

/// Redis could not be reached, the connection broke, or a reply did not come in time.
class ConnectionError : public UnavailableError {
    using UnavailableError::UnavailableError;
};

/// Where and how long to wait.
struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    int db = 0;
    std::chrono::milliseconds connect_timeout{1000};
    std::chrono::milliseconds command_timeout{1000};
};

/// Parses "redis://host:port[/db]"; throws std::invalid_argument for anything else.
[[nodiscard]] Options ParseUrl(std::string_view url);

/// One reply, copied out of hiredis' tree (so it owns nothing of hiredis').
struct Reply {
    enum class Type { kNil, kString, kInteger, kArray, kStatus, kError };
    Type type = Type::kNil;
    std::string str;  // string, status or error text
    long long integer = 0;
    std::vector<Reply> elements;

    [[nodiscard]] bool IsNil() const noexcept { return type == Type::kNil; }
    [[nodiscard]] bool IsError() const noexcept { return type == Type::kError; }
};

/// A command as its arguments: {"ZADD", key, score, member}.
using Command = std::vector<std::string>;

/// One connection; blocking, so use it from one thread at a time (Pool does that for coroutines).
class Connection {
   public:
    explicit Connection(Options options);
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Runs one command. A broken connection throws ConnectionError (the next call reconnects);
    /// an error reply is returned as Reply::Type::kError.
    [[nodiscard]] Reply Run(const Command& command);
    /// Sends all commands in one round trip and returns their replies in order.
    [[nodiscard]] std::vector<Reply> Pipeline(const std::vector<Command>& commands);

   private:
    redisContext& Connected();
    [[noreturn]] void Fail(std::string_view what);

    Options options_;
    std::unique_ptr<redisContext, decltype(&redisFree)> context_{nullptr, &redisFree};
};

/// Throws std::runtime_error carrying the text of an error reply; returns the reply otherwise.
const Reply& Checked(const Reply& reply);

}  // namespace sn::redis

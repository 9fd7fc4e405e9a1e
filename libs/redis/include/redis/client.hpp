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
#include "fiber/socket_wait.hpp"

/// A small face for hiredis: owned contexts, deadlines on every call, reconnect on the next use.
namespace sn::redis {

/// Redis could not be reached, the connection broke, or a reply did not come in time.
class ConnectionError : public UnavailableError {
    using UnavailableError::UnavailableError;
};

struct Address {
    std::string host;
    std::uint16_t port = 6379;
    friend bool operator==(const Address&, const Address&) = default;
};

/// Where and how long to wait.
struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    /// When set, host and port are ignored: every (re)connect asks these Redis Sentinels, in turn,
    /// where the primary of `master_name` is, and checks that the node it reaches is a primary.
    std::vector<Address> sentinels{};
    std::string master_name{};
    int db = 0;
    std::chrono::milliseconds connect_timeout{1000};
    std::chrono::milliseconds command_timeout{1000};
};

/// Parses "redis://host:port[/db]", or "redis-sentinel://host:port[,host:port...]/master[/db]" for a
/// primary found through Sentinel; throws std::invalid_argument for anything else.
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

/// One connection. hiredis runs non-blocking underneath: every wait for the server goes through a
/// fiber::SocketWait (redis::Pool's suspends a coroutine; without one the thread blocks), with the
/// connect or command timeout as its deadline. Use it from one thread or coroutine at a time.
class Connection {
   public:
    /// Connects on first use. `wait` (not owned; nullptr: the thread blocks) must outlive it.
    explicit Connection(Options options, fiber::SocketWait* wait = nullptr);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Runs one command. A broken connection throws ConnectionError (the next call reconnects);
    /// an error reply is returned as Reply::Type::kError.
    [[nodiscard]] Reply Run(const Command& command);
    /// Sends all commands in one round trip and returns their replies in order (none: no I/O).
    [[nodiscard]] std::vector<Reply> Pipeline(const std::vector<Command>& commands);

    /// For a subscribed connection, where messages come unasked: sends a command without waiting
    /// for its reply, which Receive returns in turn.
    void Send(const Command& command);
    /// The next reply or message; nullopt when none came by `deadline` (the connection stays up).
    /// Throws ConnectionError when the connection is broken or was never opened.
    [[nodiscard]] std::optional<Reply> Receive(std::chrono::steady_clock::time_point deadline);

   private:
    using Deadline = std::chrono::steady_clock::time_point;
    redisContext& Connected();
    /// Where the primary is now, as the first sentinel that knows says; throws ConnectionError.
    [[nodiscard]] Address AskSentinels();
    /// Queues a command in hiredis' output buffer.
    void Append(redisContext& context, const Command& command);
    /// Writes out what hiredis has queued.
    void Flush(redisContext& context, Deadline deadline);
    /// The next reply, reading from the socket as long as none is complete; nullopt at the deadline.
    [[nodiscard]] std::optional<Reply> Read(redisContext& context, Deadline deadline);
    /// Waits for the socket; a passed deadline drops the connection and throws ConnectionError.
    void WaitFor(fiber::SocketWait::Until until, Deadline deadline, std::string_view what);
    void Disconnect() noexcept;
    [[noreturn]] void Fail(std::string_view what);

    Options options_;
    Address node_;  ///< the node connected to (or last tried), for messages
    fiber::SocketWait* wait_;
    std::unique_ptr<redisContext, decltype(&redisFree)> context_{nullptr, &redisFree};
};

/// Throws std::runtime_error carrying the text of an error reply; returns the reply otherwise.
const Reply& Checked(const Reply& reply);

}  // namespace sn::redis

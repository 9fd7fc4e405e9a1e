#pragma once

#include <chrono>

/// Client libraries driven non-blocking (libpq, hiredis) wait for their sockets through here, so
/// one connection class serves both a thread of its own and a stackful coroutine on an I/O thread.
namespace sn::fiber {

/// How a connection waits for its socket.
class SocketWait {
   public:
    enum class Until { kReadable, kWritable };
    virtual ~SocketWait() = default;
    /// Returns when the socket is ready (or failed: the client library's next call reports it),
    /// or false once the deadline has passed.
    virtual bool Wait(int fd, Until until, std::chrono::steady_clock::time_point deadline) = 0;
    /// The connection is about to close this socket.
    virtual void Forget(int fd) noexcept = 0;
};

/// Blocks the thread in poll(): for connections that own their thread (relays, consumers, tools).
[[nodiscard]] SocketWait& Blocking() noexcept;

}  // namespace sn::fiber

#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <vector>

#include "fiber/socket_wait.hpp"

namespace sn::fiber {

namespace detail {

/// Waits for a connection's socket by suspending the stackful coroutine its commands run in.
class SuspendingWait final : public SocketWait {
   public:
    explicit SuspendingWait(const boost::asio::any_io_executor& executor);
    ~SuspendingWait() override;
    SuspendingWait(const SuspendingWait&) = delete;
    SuspendingWait& operator=(const SuspendingWait&) = delete;

    /// The coroutine that the next waits suspend.
    void Use(const boost::asio::yield_context* yield) noexcept { yield_ = yield; }
    bool Wait(int fd, Until until, std::chrono::steady_clock::time_point deadline) override;
    void Forget(int fd) noexcept override;

   private:
    boost::asio::any_io_executor executor_;
    const boost::asio::yield_context* yield_ = nullptr;
    std::optional<boost::asio::posix::stream_descriptor> socket_;  // the client library owns the descriptor
    boost::asio::steady_timer timer_;
};

/// Stacks for the coroutines, kept for reuse: a fresh stack each time is 128 KiB of mmap, page
/// faults and munmap.
class StackPool {
   public:
    static constexpr std::size_t kStackSize = 128 * 1024;
    StackPool() = default;
    ~StackPool();
    StackPool(const StackPool&) = delete;
    StackPool& operator=(const StackPool&) = delete;

    boost::context::stack_context Allocate();
    void Deallocate(boost::context::stack_context& stack) noexcept;

   private:
    std::mutex mutex_;
    std::vector<void*> free_;
};

/// The stack allocator asio::spawn takes: a handle on a StackPool.
struct PooledStack {
    StackPool* pool;
    boost::context::stack_context allocate() { return pool->Allocate(); }
    void deallocate(boost::context::stack_context& stack) noexcept { pool->Deallocate(stack); }
};

}  // namespace detail

/// Connections for coroutines, driven on the caller's own threads (ADR 001). Run(f) borrows a
/// connection (waiting in line while all are busy) and calls f in a stackful coroutine on the
/// pool's executor: f's commands read like blocking code, but each wait for the server suspends
/// it, and the thread serves other requests meanwhile. No thread hop, no thread per connection.
/// f must not block on anything else: CPU-heavy work belongs elsewhere.
///
/// Connection is any class whose waits go through a SocketWait and which reconnects by itself
/// after a failure (pg::Connection, redis::Connection).
template <typename Connection>
class Pool {
   public:
    /// Makes a connection waiting through `wait`; called inside the first Run that needs it.
    using Open = std::function<std::unique_ptr<Connection>(SocketWait& wait)>;

    Pool(boost::asio::any_io_executor executor, std::size_t size, Open open)
        : executor_(std::move(executor)), open_(std::move(open)), free_(executor_, size) {
        for (std::size_t i = 0; i < size; ++i) {
            slots_.emplace_back(executor_);
            (void)free_.try_send(boost::system::error_code{}, &slots_.back());
        }
    }
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    /// Runs f(Connection&) with a borrowed connection. The caller waits, so f captures by reference.
    template <typename F>
    boost::asio::awaitable<std::invoke_result_t<F&, Connection&>> Run(F f) {
        // GCC 12 mishandles objects with destructors that live across a co_await inside
        // temporaries (double destruction); a lambda of references has none.
        static_assert(std::is_trivially_destructible_v<F>, "capture by reference in Pool::Run");
        // A free connection is taken at once; only a Run that finds none goes through the
        // scheduler to wait in line.
        Slot* slot = nullptr;
        if (!free_.try_receive([&slot](boost::system::error_code, Slot* free) { slot = free; })) {
            slot = co_await free_.async_receive(boost::asio::use_awaitable);
        }
        const Lease lease(*this, slot);
        co_return co_await boost::asio::spawn(
            executor_, std::allocator_arg, detail::PooledStack{&stacks_},
            [&](const boost::asio::yield_context& yield) { return f(Attach(*lease.slot, yield)); },
            boost::asio::use_awaitable);
    }

   private:
    /// One connection, opened on first use and reopened after a failure by the connection itself.
    struct Slot {
        explicit Slot(const boost::asio::any_io_executor& executor) : wait(executor) {}
        detail::SuspendingWait wait;  // declared first: outlives the connection
        std::unique_ptr<Connection> connection;
    };

    /// A slot borrowed for one Run, given back to the line in the destructor.
    struct Lease {
        Lease(Pool& owner, Slot* borrowed) noexcept : pool(owner), slot(borrowed) {}
        ~Lease() { (void)pool.free_.try_send(boost::system::error_code{}, slot); }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Pool& pool;
        Slot* slot;
    };

    /// The slot's connection, its waits suspending `yield` from now on.
    Connection& Attach(Slot& slot, const boost::asio::yield_context& yield) {
        slot.wait.Use(&yield);
        if (!slot.connection) {
            slot.connection = open_(slot.wait);
        }
        return *slot.connection;
    }

    boost::asio::any_io_executor executor_;
    Open open_;
    detail::StackPool stacks_;
    std::deque<Slot> slots_;
    // The free slots; a Run that finds none waits here in line.
    boost::asio::experimental::concurrent_channel<void(boost::system::error_code, Slot*)> free_;
};

}  // namespace sn::fiber

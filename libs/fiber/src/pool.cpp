#include "fiber/pool.hpp"

#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <cstdlib>
#include <new>

namespace sn::fiber::detail {

namespace asio = boost::asio;

SuspendingWait::SuspendingWait(const asio::any_io_executor& executor) : executor_(executor), timer_(executor) {}

SuspendingWait::~SuspendingWait() { Forget(-1); }

bool SuspendingWait::Wait(int fd, Until until, std::chrono::steady_clock::time_point deadline) {
    // The socket changes when the connection reconnects (libpq's may even change while it connects).
    if (!socket_ || socket_->native_handle() != fd) {
        Forget(-1);
        socket_.emplace(executor_, fd);
    }
    timer_.expires_at(deadline);
    const auto what =
        until == Until::kReadable ? asio::posix::descriptor_base::wait_read : asio::posix::descriptor_base::wait_write;
    const auto [order, ready, expired] =
        asio::experimental::make_parallel_group(socket_->async_wait(what, asio::deferred),
                                                timer_.async_wait(asio::deferred))
            .async_wait(asio::experimental::wait_for_one(), *yield_);
    return order[0] == 0;  // the socket first: ready, or failed for the library to report
}

void SuspendingWait::Forget(int) noexcept {
    if (socket_) {
        (void)socket_->release();  // deregister without closing: the descriptor is the library's
        socket_.reset();
    }
}

StackPool::~StackPool() {
    for (void* stack : free_) {
        std::free(stack);
    }
}

boost::context::stack_context StackPool::Allocate() {
    void* stack = nullptr;
    {
        const std::lock_guard lock(mutex_);
        if (!free_.empty()) {
            stack = free_.back();
            free_.pop_back();
        }
    }
    if (stack == nullptr && (stack = std::malloc(kStackSize)) == nullptr) {
        throw std::bad_alloc();
    }
    boost::context::stack_context context;
    context.size = kStackSize;
    context.sp = static_cast<char*>(stack) + kStackSize;  // stacks grow down
    return context;
}

void StackPool::Deallocate(boost::context::stack_context& context) noexcept {
    void* stack = static_cast<char*>(context.sp) - context.size;
    try {
        const std::lock_guard lock(mutex_);
        free_.push_back(stack);
    } catch (...) {
        std::free(stack);
    }
}

}  // namespace sn::fiber::detail

#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <vector>

#include "pg/pool.hpp"

namespace sn::pg {

/// Group commit: the calls that arrive while earlier ones are being written are written together,
/// by one call of `write` (one statement, one commit) for many callers. A call that finds a writer
/// free is written at once, so a lone caller waits no longer than it would alone; under load each
/// statement carries every call that queued behind the ones in flight. The database then does a
/// fraction of the per-statement and per-commit work for each (ADR 006; docs/performance.md, item 23).
///
/// A batch succeeds or fails as a whole: `write` must only fail for reasons that are no single
/// item's fault (validate items before Submit).
template <typename Item, typename Result>
class GroupCommit {
   public:
    /// Writes the items on a pooled connection, returning one result per item, in order.
    using Write = std::function<std::vector<Result>(Connection&, std::span<const Item>)>;

    struct Options {
        std::size_t writers = 1;     // statements in flight at once
        std::size_t max_batch = 64;  // items per statement
    };

    GroupCommit(Pool& pool, Options options, Write write) : pool_(pool), options_(options), write_(std::move(write)) {
        if (options_.writers == 0 || options_.max_batch == 0) {
            throw std::invalid_argument("GroupCommit needs at least one writer and one item per batch");
        }
    }
    GroupCommit(const GroupCommit&) = delete;
    GroupCommit& operator=(const GroupCommit&) = delete;

    /// Writes the item with whatever else is waiting and returns its result; rethrows the
    /// batch's error. Takes a named item (`Submit(std::move(item))`): GCC 12 destroys a temporary
    /// argument that lives across the co_await twice.
    boost::asio::awaitable<Result> Submit(Item&& item) {
        auto executor = co_await boost::asio::this_coro::executor;
        // Shared with the queue, so that a caller that goes away early leaves nothing dangling.
        auto waiter = std::make_shared<Waiter>(executor, std::move(item));
        bool start_writer = false;
        {
            const std::lock_guard lock(mutex_);
            queue_.push_back(waiter);
            if (writers_ < options_.writers) {
                ++writers_;
                start_writer = true;
            }
        }
        if (start_writer) {
            boost::asio::co_spawn(executor, WriteWhileQueued(), boost::asio::detached);
        }
        co_await waiter->done.async_receive(boost::asio::use_awaitable);
        if (waiter->error) {
            std::rethrow_exception(waiter->error);
        }
        co_return std::move(*waiter->result);
    }

   private:
    struct Waiter {
        Waiter(const boost::asio::any_io_executor& executor, Item i) : item(std::move(i)), done(executor, 1) {}
        Item item;
        std::optional<Result> result;
        std::exception_ptr error;
        boost::asio::experimental::concurrent_channel<void(boost::system::error_code)> done;
    };
    using Batch = std::vector<std::shared_ptr<Waiter>>;

    /// One writer: writes what is queued, a batch at a time, until nothing is.
    boost::asio::awaitable<void> WriteWhileQueued() {
        for (;;) {
            Batch batch = Take();
            if (batch.empty()) {
                co_return;
            }
            std::vector<Item> items;
            items.reserve(batch.size());
            for (auto& waiter : batch) {
                items.push_back(std::move(waiter->item));
            }
            std::vector<Result> results;
            std::exception_ptr error;
            try {
                results = co_await pool_.Run(
                    [this, &items](Connection& conn) { return write_(conn, std::span<const Item>(items)); });
                if (results.size() != batch.size()) {
                    throw std::logic_error("GroupCommit: the write returned a result count unlike its items'");
                }
            } catch (...) {
                error = std::current_exception();
            }
            for (std::size_t i = 0; i < batch.size(); ++i) {
                if (error) {
                    batch[i]->error = error;
                } else {
                    batch[i]->result = std::move(results[i]);
                }
                (void)batch[i]->done.try_send(boost::system::error_code{});
            }
        }
    }

    /// The next batch, oldest first; empty (and one writer fewer) when nothing waits.
    Batch Take() {
        const std::lock_guard lock(mutex_);
        Batch batch;
        if (queue_.empty()) {
            --writers_;
            return batch;
        }
        const auto n = std::min(queue_.size(), options_.max_batch);
        batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.begin() + n));
        queue_.erase(queue_.begin(), queue_.begin() + n);
        return batch;
    }

    Pool& pool_;
    const Options options_;
    const Write write_;
    std::mutex mutex_;
    std::deque<std::shared_ptr<Waiter>> queue_;
    std::size_t writers_ = 0;  // WriteWhileQueued loops running
};

}  // namespace sn::pg

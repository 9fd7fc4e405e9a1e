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
#include <string>
#include <utility>
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
            // Taken out, so that the writer, which may let go of the waiter last, holds none of it.
            std::rethrow_exception(std::exchange(waiter->error, nullptr));
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
                    batch[i]->error = OwnCopy(error);
                } else {
                    batch[i]->result = std::move(results[i]);
                }
                (void)batch[i]->done.try_send(boost::system::error_code{});
            }
        }
    }

    /// The batch's error, made anew for one caller. The callers of a batch resume on any I/O thread:
    /// one exception object shared by them is freed by whichever lets go of it last, ordered by a
    /// reference count inside libstdc++ that ThreadSanitizer cannot see, so it reported the free as
    /// racing with another caller's what() (docs/hardening.md). A copy of its own for each (with a
    /// message string of its own: libstdc++'s exception messages are shared when copied), which the
    /// caller takes out of its Waiter, is only ever touched on the caller's thread. Errors of other
    /// types (a bug, bad_alloc) are passed on as they are.
    static std::exception_ptr OwnCopy(const std::exception_ptr& error) {
        try {
            std::rethrow_exception(error);
        } catch (const ConnectionError& e) {
            return std::make_exception_ptr(ConnectionError(std::string(e.what())));
        } catch (const UnavailableError& e) {
            return std::make_exception_ptr(UnavailableError(std::string(e.what())));
        } catch (const QueryError& e) {
            return std::make_exception_ptr(QueryError(std::string(e.what()), e.sqlstate()));
        } catch (...) {
            return error;
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

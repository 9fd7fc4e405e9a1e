#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/metrics.hpp"
#include "feed/local_cache.hpp"
#include "pg/pool.hpp"
#include "redis/pool.hpp"
#include "storage/post_repository.hpp"

namespace backend::feed {

/// Reads feeds: from Redis when materialised, rebuilding a cold one from the tables, merging the
/// followed celebrities' posts at read time, and from the tables alone when Redis is away or the
/// page lies past the cached 1,000 posts. After Redis fails to answer, it is left alone for
/// kRedisPause: a Redis that is away costs each read nothing instead of a connect timeout, and the
/// log gets a line a pause instead of a line a read. With a LocalCache, what Redis answered is
/// kept in the process until Redis says it changed.
class FeedService {
   public:
    /// `local` (not owned; nullptr: none) must outlive it. `reads` (a standby's, or `db` itself) serves
    /// what is read from the tables and not kept: a page from the tables alone, the celebrities'
    /// posts merged at read time. A rebuild and the bodies stay on `db`: what they find is stored
    /// in Redis, where a standby's stale snapshot would outlive its lag (a post missing from a
    /// rebuilt feed until the next change, a body not yet replicated taken for a deleted post).
    FeedService(sn::pg::Pool& db, sn::pg::Pool& reads, sn::redis::Pool& redis, std::int64_t celebrity_followers,
                sn::metrics::Registry& metrics, LocalCache* local = nullptr);

    /// The user's feed page, newest first. Arguments are references: the caller waits.
    [[nodiscard]] boost::asio::awaitable<std::vector<Post>> Read(const std::string& user_id, const std::int64_t& offset,
                                                                 const std::int64_t& limit);
    /// Drops a user's cached feed now (the caller's own change: read-your-writes); best effort,
    /// the fan-out does it again when the event arrives.
    [[nodiscard]] boost::asio::awaitable<void> Forget(const std::string& user_id);
    /// Drops a cached post body now; best effort, as Forget.
    [[nodiscard]] boost::asio::awaitable<void> ForgetPost(const std::string& post_id);

    static constexpr std::chrono::seconds kRedisPause{1};

   private:
    /// True while Redis is being left alone after a failure.
    [[nodiscard]] bool RedisPaused() const noexcept;
    /// Redis did not answer: leave it alone for kRedisPause.
    void PauseRedis(const std::exception& failure) noexcept;
    /// Runs f(redis::Connection&) unless Redis is paused; a failure is logged, not thrown (the
    /// fan-out does the same work when its event arrives).
    template <typename F>
    boost::asio::awaitable<void> BestEffort(F f, std::string_view what);

    [[nodiscard]] boost::asio::awaitable<std::optional<std::vector<Post>>> ReadCached(const std::string& user_id,
                                                                                      std::int64_t offset,
                                                                                      std::int64_t limit);

    sn::pg::Pool& db_;
    sn::pg::Pool& reads_;
    sn::redis::Pool& redis_;
    LocalCache* local_;
    std::int64_t celebrity_followers_;
    sn::metrics::Counter& local_hits_;
    sn::metrics::Counter& hits_;
    sn::metrics::Counter& rebuilds_;
    sn::metrics::Counter& from_tables_;
    sn::metrics::Counter& redis_failures_;
    std::atomic<std::chrono::steady_clock::rep> redis_paused_until_{0};
};

}  // namespace backend::feed

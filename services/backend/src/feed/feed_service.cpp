#include "feed/feed_service.hpp"

#include <unordered_map>

#include "common/log.hpp"
#include "feed/feed_cache.hpp"
#include "storage/friend_repository.hpp"

namespace backend::feed {

namespace {
std::vector<Entry> ToEntries(const std::vector<Post>& posts) {
    std::vector<Entry> entries;
    entries.reserve(posts.size());
    for (const auto& post : posts) {
        entries.push_back(Entry{post.id, post.created_us});
    }
    return entries;
}
}  // namespace

FeedService::FeedService(sn::pg::Pool& db, sn::pg::Pool& reads, sn::redis::Pool& redis,
                         std::int64_t celebrity_followers, sn::metrics::Registry& metrics, LocalCache* local)
    : db_(db),
      reads_(reads),
      redis_(redis),
      local_(local),
      celebrity_followers_(celebrity_followers),
      local_hits_(metrics.GetCounter("feed_reads_total", "Feed reads.", {{"source", "local"}})),
      hits_(metrics.GetCounter("feed_reads_total", "Feed reads.", {{"source", "cache"}})),
      rebuilds_(metrics.GetCounter("feed_reads_total", "Feed reads.", {{"source", "rebuild"}})),
      from_tables_(metrics.GetCounter("feed_reads_total", "Feed reads.", {{"source", "tables"}})),
      redis_failures_(metrics.GetCounter("feed_cache_failures_total",
                                         "Calls to Redis that found it unreachable (then left alone for a second).")) {}

bool FeedService::RedisPaused() const noexcept {
    return std::chrono::steady_clock::now().time_since_epoch().count() <
           redis_paused_until_.load(std::memory_order_relaxed);
}

void FeedService::PauseRedis(const std::exception& failure) noexcept {
    redis_failures_.Add();
    redis_paused_until_.store((std::chrono::steady_clock::now() + kRedisPause).time_since_epoch().count(),
                              std::memory_order_relaxed);
    sn::log::Warn("feed cache unreachable: reading the tables, trying Redis again in a second",
                  {{"error", failure.what()}});
}

boost::asio::awaitable<std::vector<Post>> FeedService::Read(const std::string& user_id, const std::int64_t& offset,
                                                            const std::int64_t& limit) {
    if (offset + limit <= kFeedLength && !RedisPaused()) {
        try {
            auto page = co_await ReadCached(user_id, offset, limit);
            if (page) {
                co_return std::move(*page);
            }
        } catch (const sn::redis::ConnectionError& e) {
            PauseRedis(e);
        } catch (const std::exception& e) {
            sn::log::Warn("feed cache failed, reading the tables", {{"error", e.what()}});
        }
    }
    from_tables_.Add();
    co_return co_await reads_.Read([&](sn::pg::Connection& conn) { return posts::Feed(conn, user_id, offset, limit); });
}

boost::asio::awaitable<std::optional<std::vector<Post>>> FeedService::ReadCached(const std::string& user_id,
                                                                                 std::int64_t offset,
                                                                                 std::int64_t limit) {
    const std::int64_t count = offset + limit;
    std::string generation;
    std::optional<CachedFeed> cached;
    if (local_ != nullptr && (cached = local_->Find(user_id, offset, limit))) {
        local_hits_.Add();
    } else {
        const auto stamp = local_ != nullptr ? local_->Begin() : LocalCache::Stamp{};
        cached = co_await redis_.Run(
            [&](sn::redis::Connection& redis) { return feed::Read(redis, user_id, offset, limit, generation); });
        if (cached) {
            hits_.Add();
            if (local_ != nullptr) {
                local_->Keep(stamp, user_id, count, *cached);
            }
        }
    }
    std::unordered_map<std::string, Post> known;
    if (cached) {
        for (auto& post : cached->bodies) {
            known.emplace(post.id, std::move(post));
        }
    } else {
        rebuilds_.Add();
        std::vector<std::string> celebrities;
        const auto newest = co_await db_.Run([&](sn::pg::Connection& conn) {
            celebrities = friends::FollowedCelebrities(conn, user_id, celebrity_followers_);
            return posts::FeedExcept(conn, user_id, celebrities, kFeedLength);
        });
        const bool stored = co_await redis_.Run([&](sn::redis::Connection& redis) {
            PutBodies(redis, newest);
            return Store(redis, user_id, generation, newest, celebrities);
        });
        if (!stored) {
            co_return std::nullopt;  // invalidated meanwhile: this snapshot may be stale
        }
        cached = CachedFeed{ToEntries(newest), std::move(celebrities), {}};
        for (const auto& post : newest) {
            known.emplace(post.id, post);
        }
    }
    std::vector<Entry> merged_in;
    if (!cached->celebrities.empty()) {
        const auto& celebrities = cached->celebrities;
        const auto recent =
            co_await reads_.Read([&](sn::pg::Connection& conn) { return posts::ByAuthors(conn, celebrities, count); });
        merged_in = ToEntries(recent);
        for (const auto& post : recent) {
            known.emplace(post.id, post);
        }
    }
    const auto page = MergeNewestFirst(std::move(cached->entries), merged_in, static_cast<std::size_t>(offset),
                                       static_cast<std::size_t>(limit));

    std::vector<std::string> wanted;
    for (const auto& entry : page) {
        if (!known.contains(entry.post_id)) {
            wanted.push_back(entry.post_id);
        }
    }
    if (!wanted.empty()) {
        const auto bodies = co_await redis_.Run([&](sn::redis::Connection& redis) { return GetBodies(redis, wanted); });
        std::vector<std::string> missing;
        for (std::size_t i = 0; i < wanted.size(); ++i) {
            if (bodies[i]) {
                known.emplace(wanted[i], *bodies[i]);
            } else {
                missing.push_back(wanted[i]);
            }
        }
        if (!missing.empty()) {
            const auto found =
                co_await db_.Run([&](sn::pg::Connection& conn) { return posts::FindMany(conn, missing); });
            for (const auto& post : found) {
                known.emplace(post.id, post);
            }
            std::vector<std::string> gone;
            for (const auto& id : missing) {
                if (!known.contains(id)) {
                    gone.push_back(id);
                }
            }
            const std::vector<std::string> self{user_id};
            co_await redis_.Run([&](sn::redis::Connection& redis) {
                PutBodies(redis, found);
                for (const auto& id : gone) {
                    Remove(redis, id, self);
                }
            });
            if (!gone.empty()) {
                co_return std::nullopt;  // deleted posts were in the page: the tables answer this time
            }
        }
    }
    std::vector<Post> result;
    result.reserve(page.size());
    for (const auto& entry : page) {
        result.push_back(known.at(entry.post_id));
    }
    co_return result;
}

template <typename F>
boost::asio::awaitable<void> FeedService::BestEffort(F f, std::string_view what) {
    if (RedisPaused()) {
        co_return;  // the fan-out does it once Redis is back
    }
    try {
        co_await redis_.Run(f);
    } catch (const sn::redis::ConnectionError& e) {
        PauseRedis(e);
    } catch (const std::exception& e) {
        sn::log::Warn("feed cache: deferred to the fan-out", {{"what", what}, {"error", e.what()}});
    }
}

boost::asio::awaitable<void> FeedService::Forget(const std::string& user_id) {
    const std::vector<std::string> users{user_id};
    co_await BestEffort([&](sn::redis::Connection& redis) { Invalidate(redis, users); }, "invalidation");
    if (local_ != nullptr) {
        local_->ForgetFeed(user_id);
    }
}

boost::asio::awaitable<void> FeedService::ForgetPost(const std::string& post_id) {
    co_await BestEffort([&](sn::redis::Connection& redis) { DropBody(redis, post_id); }, "body invalidation");
    if (local_ != nullptr) {
        local_->ForgetPost(post_id);
    }
}

}  // namespace backend::feed

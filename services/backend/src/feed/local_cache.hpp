#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/metrics.hpp"
#include "feed/feed_cache.hpp"
#include "redis/tracking.hpp"

namespace backend::feed {

/// What reads of the feed cache found in Redis, kept in the process until Redis says that a key
/// under it changed (redis::Tracking over the prefixes feed: and post:; docs/adr/007): a warm read
/// then costs no round trip. Every backend copy keeps its own; Redis tells each of them.
///
/// A read from Redis races with the writes it does not see: Redis may tell of a change that came
/// after the read executed before this process keeps the read's answer. So a read takes a Stamp
/// first, and Keep drops what it was given for any key told changed since. Stamps are kept per
/// slot of a hash of the key, not per key: a write to another key of the same slot costs a
/// spurious miss, never a stale hit. While Tracking is down (before Up, after Lost) nothing is kept.
class LocalCache final : public sn::redis::Tracking::Listener {
   public:
    using Stamp = std::uint64_t;

    /// Keeps at most about `max_bytes`, half for feeds and half for bodies; the least recently
    /// read go first. Metrics: feed_local_cache_up (1 while Redis tells changes),
    /// feed_local_cache_invalidations_total (keys Redis or this process said changed).
    LocalCache(std::size_t max_bytes, sn::metrics::Registry& metrics);

    /// The answer feed::Read would give (the first offset + limit entries, the celebrities, the
    /// bodies of [offset, offset + limit)), when the feed and every body of the page are kept.
    [[nodiscard]] std::optional<CachedFeed> Find(const std::string& user_id, std::int64_t offset, std::int64_t limit);
    /// Taken right before reading Redis, given to Keep with what the read found.
    [[nodiscard]] Stamp Begin();
    /// Keeps what feed::Read answered when asked for `count` entries, unless told of a change since
    /// `stamp` (feed and bodies decide apart).
    void Keep(Stamp stamp, const std::string& user_id, std::int64_t count, const CachedFeed& feed);

    /// The key prefixes whose changes this cache must be told of (redis::Tracking's prefixes).
    [[nodiscard]] static std::vector<std::string> TrackedPrefixes();

    /// Drops a feed or a body now: this process's own change, which Redis will tell too, but the
    /// caller's next read must not wait for that.
    void ForgetFeed(const std::string& user_id);
    void ForgetPost(const std::string& post_id);

    void Up() override;
    void Lost() override;
    void Changed(const std::vector<std::string>& keys) override;
    void Flushed() override;

   private:
    /// Least recently used first out, by an estimate of bytes.
    template <typename Value>
    class Lru {
       public:
        explicit Lru(std::size_t max_bytes) : max_bytes_(max_bytes) {}
        [[nodiscard]] const Value* Find(const std::string& key);
        void Put(const std::string& key, Value value, std::size_t bytes);
        void Erase(const std::string& key);
        void Clear();

       private:
        struct Slot {
            Value value;
            std::size_t bytes;
            std::list<std::string>::iterator age;
        };
        std::size_t max_bytes_;
        std::size_t bytes_ = 0;
        std::list<std::string> by_age_;  // most recently used first
        std::unordered_map<std::string, Slot> slots_;
    };

    struct Feed {
        std::vector<Entry> entries;
        std::vector<std::string> celebrities;
        bool whole = false;  // entries are the whole feed (it has fewer than were asked for)
    };

    static constexpr std::size_t kStampSlots = 4096;
    [[nodiscard]] static std::size_t SlotOf(std::string_view key) noexcept;
    /// Requires mutex_: keeps nothing read under an earlier stamp for this key.
    void Touched(std::string_view key) noexcept;
    [[nodiscard]] bool Fresh(Stamp stamp, std::string_view key) const noexcept;
    void ForgetAll() noexcept;

    sn::metrics::Gauge& up_gauge_;
    sn::metrics::Counter& invalidations_;
    std::mutex mutex_;
    Lru<Feed> feeds_;
    Lru<Post> posts_;
    bool up_ = false;
    Stamp now_ = 0;             // the last stamp given to a change
    Stamp all_changed_at_ = 0;  // Lost, Up, Flushed
    std::array<Stamp, kStampSlots> changed_at_{};
};

}  // namespace backend::feed

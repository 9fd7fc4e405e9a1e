#include "feed/local_cache.hpp"

#include <algorithm>
#include <functional>

namespace backend::feed {
namespace {

/// What a kept value costs, roughly: its strings' heap and the bookkeeping around it.
constexpr std::size_t kOverhead = 96;

std::size_t BytesOf(const std::string& text) { return sizeof(std::string) + text.capacity(); }

std::size_t BytesOf(const Post& post) {
    return sizeof(Post) + post.id.capacity() + post.author_id.capacity() + post.text.capacity();
}

}  // namespace

template <typename Value>
const Value* LocalCache::Lru<Value>::Find(const std::string& key) {
    const auto it = slots_.find(key);
    if (it == slots_.end()) {
        return nullptr;
    }
    by_age_.splice(by_age_.begin(), by_age_, it->second.age);
    return &it->second.value;
}

template <typename Value>
void LocalCache::Lru<Value>::Put(const std::string& key, Value value, std::size_t bytes) {
    Erase(key);
    bytes += kOverhead + 2 * BytesOf(key);
    if (bytes > max_bytes_) {
        return;
    }
    while (bytes_ + bytes > max_bytes_) {
        Erase(by_age_.back());
    }
    by_age_.push_front(key);
    slots_.emplace(key, Slot{std::move(value), bytes, by_age_.begin()});
    bytes_ += bytes;
}

template <typename Value>
void LocalCache::Lru<Value>::Erase(const std::string& key) {
    const auto it = slots_.find(key);
    if (it == slots_.end()) {
        return;
    }
    bytes_ -= it->second.bytes;
    const auto age = it->second.age;
    slots_.erase(it);
    by_age_.erase(age);  // last: `key` may be this very element
}

template <typename Value>
void LocalCache::Lru<Value>::Clear() {
    slots_.clear();
    by_age_.clear();
    bytes_ = 0;
}

LocalCache::LocalCache(std::size_t max_bytes, sn::metrics::Registry& metrics)
    : up_gauge_(metrics.GetGauge("feed_local_cache_up",
                                 "1 while Redis tells this backend which feed keys change (else nothing is kept).")),
      invalidations_(metrics.GetCounter("feed_local_cache_invalidations_total",
                                        "Feed and post keys told changed, dropped from the backend's memory.")),
      feeds_(max_bytes / 2),
      posts_(max_bytes / 2) {}

std::optional<CachedFeed> LocalCache::Find(const std::string& user_id, std::int64_t offset, std::int64_t limit) {
    const auto count = static_cast<std::size_t>(offset + limit);
    const std::lock_guard lock(mutex_);
    const auto* feed = feeds_.Find(user_id);
    if (feed == nullptr || (feed->entries.size() < count && !feed->whole)) {
        return std::nullopt;
    }
    CachedFeed found;
    const auto end = std::min(count, feed->entries.size());
    for (auto i = static_cast<std::size_t>(offset); i < end; ++i) {
        const auto* post = posts_.Find(feed->entries[i].post_id);
        if (post == nullptr) {
            return std::nullopt;
        }
        found.bodies.push_back(*post);
    }
    found.entries.assign(feed->entries.begin(), feed->entries.begin() + static_cast<std::ptrdiff_t>(end));
    found.celebrities = feed->celebrities;
    return found;
}

LocalCache::Stamp LocalCache::Begin() {
    const std::lock_guard lock(mutex_);
    return now_;
}

void LocalCache::Keep(Stamp stamp, const std::string& user_id, std::int64_t count, const CachedFeed& feed) {
    const std::lock_guard lock(mutex_);
    if (!up_ || all_changed_at_ > stamp) {
        return;
    }
    if (Fresh(stamp, user_id)) {
        std::size_t bytes = sizeof(Feed);
        for (const auto& entry : feed.entries) {
            bytes += sizeof(Entry) + entry.post_id.capacity();
        }
        for (const auto& celebrity : feed.celebrities) {
            bytes += BytesOf(celebrity);
        }
        const bool whole = feed.entries.size() < static_cast<std::size_t>(count);
        feeds_.Put(user_id, Feed{feed.entries, feed.celebrities, whole}, bytes);
    }
    for (const auto& post : feed.bodies) {
        if (Fresh(stamp, post.id)) {
            posts_.Put(post.id, post, BytesOf(post));
        }
    }
}

std::vector<std::string> LocalCache::TrackedPrefixes() { return {std::string(kFeedPrefix), std::string(kPostPrefix)}; }

void LocalCache::ForgetFeed(const std::string& user_id) {
    const std::lock_guard lock(mutex_);
    Touched(user_id);
    feeds_.Erase(user_id);
}

void LocalCache::ForgetPost(const std::string& post_id) {
    const std::lock_guard lock(mutex_);
    Touched(post_id);
    posts_.Erase(post_id);
}

void LocalCache::Up() {
    const std::lock_guard lock(mutex_);
    ForgetAll();  // a read that began before now may have missed a change told to nobody
    up_ = true;
    up_gauge_.Set(1);
}

void LocalCache::Lost() {
    const std::lock_guard lock(mutex_);
    ForgetAll();
    up_ = false;
    up_gauge_.Set(0);
}

void LocalCache::Flushed() {
    const std::lock_guard lock(mutex_);
    ForgetAll();
}

void LocalCache::Changed(const std::vector<std::string>& keys) {
    for (const auto& key : keys) {
        const std::string_view view(key);
        if (view.starts_with(kFeedPrefix)) {
            const auto rest = view.substr(kFeedPrefix.size());
            ForgetFeed(std::string(rest.substr(0, rest.find(':'))));  // feed:{user}[:celebrities|:generation]
        } else if (view.starts_with(kPostPrefix)) {
            ForgetPost(std::string(view.substr(kPostPrefix.size())));
        }
    }
}

std::size_t LocalCache::SlotOf(std::string_view key) noexcept {
    return std::hash<std::string_view>{}(key) % kStampSlots;
}

void LocalCache::Touched(std::string_view key) noexcept {
    changed_at_[SlotOf(key)] = ++now_;
    invalidations_.Add();
}

bool LocalCache::Fresh(Stamp stamp, std::string_view key) const noexcept { return changed_at_[SlotOf(key)] <= stamp; }

void LocalCache::ForgetAll() noexcept {
    feeds_.Clear();
    posts_.Clear();
    all_changed_at_ = ++now_;
}

}  // namespace backend::feed

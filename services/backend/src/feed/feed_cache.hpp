#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redis/client.hpp"
#include "storage/post_repository.hpp"

/// The feed cache in Redis (see docs/feed.md for the keys). Functions block on the given
/// connection: call them from redis::Pool::Run or the fan-out's thread.
namespace backend::feed {

/// Posts kept per user.
inline constexpr std::int64_t kFeedLength = 1000;

/// Every key of a user's feed starts with kFeedPrefix + user id (feed:{user}, feed:{user}:...),
/// every cached body with kPostPrefix + post id (post:{id}).
inline constexpr std::string_view kFeedPrefix = "feed:";
inline constexpr std::string_view kPostPrefix = "post:";

/// One feed entry: a post id and its sort key.
struct Entry {
    std::string post_id;
    std::int64_t created_us = 0;
    friend bool operator==(const Entry&, const Entry&) = default;
};

/// A materialised feed's first entries, the celebrities the user follows (merged at read time),
/// and the generation it was read under.
struct CachedFeed {
    std::vector<Entry> entries;
    std::vector<std::string> celebrities;
    std::vector<Post> bodies;  // of the entries [offset, offset + limit) that Redis holds
};

/// Pure: the entries of both lists, newest first (ties by id, descending, as SQL orders them),
/// each post once, then [offset, offset + limit).
[[nodiscard]] std::vector<Entry> MergeNewestFirst(std::vector<Entry> cached, const std::vector<Entry>& more,
                                                  std::size_t offset, std::size_t limit);

/// Reads the first offset + limit entries, and the bodies of [offset, offset + limit), in one round
/// trip. nullopt when the feed is not materialised (cold, flushed, evicted or invalidated);
/// `generation` then says what a rebuild must be stamped with.
[[nodiscard]] std::optional<CachedFeed> Read(sn::redis::Connection& redis, const std::string& user_id,
                                             std::int64_t offset, std::int64_t limit, std::string& generation);
/// Stores a feed rebuilt from the tables unless it was invalidated since `generation` was read;
/// false then (the caller reads from the tables this time).
[[nodiscard]] bool Store(sn::redis::Connection& redis, const std::string& user_id, const std::string& generation,
                         const std::vector<Post>& newest, const std::vector<std::string>& celebrities);
/// Drops the user's feed: it is rebuilt on the next read.
void Invalidate(sn::redis::Connection& redis, const std::vector<std::string>& user_ids);
/// Adds a post to the followers' feeds, keeping each at kFeedLength.
void FanOut(sn::redis::Connection& redis, const Post& post, const std::vector<std::string>& followers);
/// Removes a post from the followers' feeds.
void Remove(sn::redis::Connection& redis, const std::string& post_id, const std::vector<std::string>& user_ids);

/// Cached post bodies: nullopt for ids not cached.
[[nodiscard]] std::vector<std::optional<Post>> GetBodies(sn::redis::Connection& redis,
                                                         const std::vector<std::string>& post_ids);
void PutBodies(sn::redis::Connection& redis, const std::vector<Post>& posts);
void DropBody(sn::redis::Connection& redis, const std::string& post_id);

}  // namespace backend::feed

#include "feed/feed_cache.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <stdexcept>
#include <unordered_set>

#include "redis/script.hpp"

namespace backend::feed {
namespace {

// feed:{user} is a sorted set of post ids scored by created_us, plus the marker member "!" at
// +inf that says "materialised". The marker lives in the same key as the entries, so an eviction
// or a flush takes both and the feed is never half there.
constexpr std::string_view kMarker = "!";
constexpr std::int64_t kBodyTtlSeconds = 86'400;

std::string FeedKey(std::string_view user) { return std::string(kFeedPrefix).append(user); }
std::string CelebritiesKey(std::string_view user) { return FeedKey(user) + ":celebrities"; }
std::string GenerationKey(std::string_view user) { return FeedKey(user) + ":generation"; }
std::string BodyKey(std::string_view post) { return std::string(kPostPrefix).append(post); }

// KEYS: feed, celebrities, generation. ARGV: count, offset, limit, the body keys' prefix.
// The first `count` entries after the marker, the celebrities, the generation, and the bodies of
// the entries [offset, offset + limit): a read in one round trip. (The body keys are not among
// KEYS; that is fine outside Redis Cluster, which this cache does not use.)
const sn::redis::Script kReadScript(R"lua(
local range = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]), 'WITHSCORES')
local bodies = {}
if range[1] == '!' then
  local keys = {}
  for i = tonumber(ARGV[2]), tonumber(ARGV[2]) + tonumber(ARGV[3]) - 1 do
    local id = range[3 + 2 * i]
    if not id then break end
    keys[#keys + 1] = ARGV[4] .. id
  end
  if #keys > 0 then bodies = redis.call('MGET', unpack(keys)) end
end
return {range, redis.call('GET', KEYS[2]), redis.call('GET', KEYS[3]), bodies}
)lua");

// KEYS: feed, celebrities, generation. ARGV: generation, celebrities, length, score, id, ...
// Adds to what is there (a fan-out may have raced ahead of the rebuild's snapshot).
const sn::redis::Script kStoreScript(R"lua(
if (redis.call('GET', KEYS[3]) or '0') ~= ARGV[1] then return 0 end
for i = 4, #ARGV, 2 do redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('ZADD', KEYS[1], '+inf', '!')
local keep = tonumber(ARGV[3]) + 1
local n = redis.call('ZCARD', KEYS[1])
if n > keep then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - keep - 1) end
redis.call('SET', KEYS[2], ARGV[2])
return 1
)lua");

// KEYS: feed. ARGV: score, id, length.
const sn::redis::Script kFanOutScript(R"lua(
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
local keep = tonumber(ARGV[3])
if redis.call('ZSCORE', KEYS[1], '!') then keep = keep + 1 end
local n = redis.call('ZCARD', KEYS[1])
if n > keep then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - keep - 1) end
return 1
)lua");

std::int64_t ToInt(std::string_view text) {
    std::int64_t value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc()) {
        // Redis may print a large score in exponent form.
        return static_cast<std::int64_t>(std::stod(std::string(text)));
    }
    return value;
}

std::vector<std::string> SplitIds(std::string_view joined) {
    std::vector<std::string> ids;
    std::size_t start = 0;
    while (start < joined.size()) {
        auto end = joined.find(',', start);
        if (end == std::string_view::npos) {
            end = joined.size();
        }
        if (end > start) {
            ids.emplace_back(joined.substr(start, end - start));
        }
        start = end + 1;
    }
    return ids;
}

/// A body as PutBodies stored it; nullopt when missing or not in that form.
std::optional<Post> ParseBody(const std::string& post_id, const sn::redis::Reply& stored) {
    if (stored.type != sn::redis::Reply::Type::kString) {
        return std::nullopt;
    }
    boost::system::error_code ec;
    const auto value = boost::json::parse(stored.str, ec);
    if (ec || !value.is_object()) {
        return std::nullopt;
    }
    const auto& obj = value.get_object();
    const auto* text = obj.if_contains("text");
    const auto* author = obj.if_contains("author_user_id");
    const auto* created = obj.if_contains("created_us");
    if (text == nullptr || author == nullptr || created == nullptr || !text->is_string() || !author->is_string() ||
        !created->is_int64()) {
        return std::nullopt;
    }
    return Post{post_id, std::string(author->get_string()), std::string(text->get_string()), created->get_int64()};
}

void RunChecked(sn::redis::Connection& redis, const std::vector<sn::redis::Command>& commands) {
    for (const auto& reply : redis.Pipeline(commands)) {
        (void)sn::redis::Checked(reply);
    }
}

}  // namespace

std::vector<Entry> MergeNewestFirst(std::vector<Entry> cached, const std::vector<Entry>& more, std::size_t offset,
                                    std::size_t limit) {
    cached.insert(cached.end(), more.begin(), more.end());
    std::sort(cached.begin(), cached.end(), [](const Entry& a, const Entry& b) {
        return a.created_us != b.created_us ? a.created_us > b.created_us : a.post_id > b.post_id;
    });
    cached.erase(std::unique(cached.begin(), cached.end(),
                             [](const Entry& a, const Entry& b) { return a.post_id == b.post_id; }),
                 cached.end());
    if (offset >= cached.size()) {
        return {};
    }
    const auto end = std::min(cached.size(), offset + limit);
    return {cached.begin() + static_cast<std::ptrdiff_t>(offset), cached.begin() + static_cast<std::ptrdiff_t>(end)};
}

std::optional<CachedFeed> Read(sn::redis::Connection& redis, const std::string& user_id, std::int64_t offset,
                               std::int64_t limit, std::string& generation) {
    const auto reply = kReadScript.Run(
        redis, {{FeedKey(user_id), CelebritiesKey(user_id), GenerationKey(user_id)},
                {std::to_string(offset + limit), std::to_string(offset), std::to_string(limit), BodyKey("")}});
    const auto& parts = sn::redis::Checked(reply).elements;  // range, celebrities, generation, bodies
    if (parts.size() != 4) {
        throw std::runtime_error("redis: the feed read script answered with " + std::to_string(parts.size()) +
                                 " parts");
    }
    const auto& range = parts[0].elements;
    generation = parts[2].IsNil() ? "0" : parts[2].str;
    if (range.size() < 2 || range[0].str != kMarker || parts[1].IsNil()) {
        return std::nullopt;
    }
    CachedFeed feed;
    feed.celebrities = SplitIds(parts[1].str);
    for (std::size_t i = 2; i + 1 < range.size(); i += 2) {
        feed.entries.push_back(Entry{range[i].str, ToInt(range[i + 1].str)});
    }
    const auto& bodies = parts[3].elements;
    for (std::size_t i = 0; i < bodies.size() && static_cast<std::size_t>(offset) + i < feed.entries.size(); ++i) {
        if (auto post = ParseBody(feed.entries[static_cast<std::size_t>(offset) + i].post_id, bodies[i])) {
            feed.bodies.push_back(std::move(*post));
        }
    }
    return feed;
}

bool Store(sn::redis::Connection& redis, const std::string& user_id, const std::string& generation,
           const std::vector<Post>& newest, const std::vector<std::string>& celebrities) {
    std::string joined;
    for (const auto& id : celebrities) {
        joined += joined.empty() ? id : "," + id;
    }
    sn::redis::Script::Call call{{FeedKey(user_id), CelebritiesKey(user_id), GenerationKey(user_id)},
                                 {generation, joined, std::to_string(kFeedLength)}};
    for (const auto& post : newest) {
        call.args.push_back(std::to_string(post.created_us));
        call.args.push_back(post.id);
    }
    return sn::redis::Checked(kStoreScript.Run(redis, call)).integer == 1;
}

void Invalidate(sn::redis::Connection& redis, const std::vector<std::string>& user_ids) {
    std::vector<sn::redis::Command> commands;
    for (const auto& user : user_ids) {
        // The generation moves first, so a rebuild that read the tables before now cannot store.
        commands.push_back({"INCR", GenerationKey(user)});
        commands.push_back({"DEL", FeedKey(user), CelebritiesKey(user)});
    }
    RunChecked(redis, commands);
}

void FanOut(sn::redis::Connection& redis, const Post& post, const std::vector<std::string>& followers) {
    std::vector<sn::redis::Script::Call> calls;
    calls.reserve(followers.size());
    const auto score = std::to_string(post.created_us);
    const auto length = std::to_string(kFeedLength);
    for (const auto& follower : followers) {
        calls.push_back({{FeedKey(follower)}, {score, post.id, length}});
    }
    for (const auto& reply : kFanOutScript.RunMany(redis, calls)) {
        (void)sn::redis::Checked(reply);
    }
}

void Remove(sn::redis::Connection& redis, const std::string& post_id, const std::vector<std::string>& user_ids) {
    std::vector<sn::redis::Command> commands;
    commands.reserve(user_ids.size());
    for (const auto& user : user_ids) {
        commands.push_back({"ZREM", FeedKey(user), post_id});
    }
    RunChecked(redis, commands);
}

std::vector<std::optional<Post>> GetBodies(sn::redis::Connection& redis, const std::vector<std::string>& post_ids) {
    std::vector<std::optional<Post>> bodies(post_ids.size());
    if (post_ids.empty()) {
        return bodies;
    }
    sn::redis::Command command{"MGET"};
    for (const auto& id : post_ids) {
        command.push_back(BodyKey(id));
    }
    const auto reply = sn::redis::Checked(redis.Run(command));
    for (std::size_t i = 0; i < reply.elements.size() && i < bodies.size(); ++i) {
        bodies[i] = ParseBody(post_ids[i], reply.elements[i]);
    }
    return bodies;
}

void PutBodies(sn::redis::Connection& redis, const std::vector<Post>& posts) {
    std::vector<sn::redis::Command> commands;
    commands.reserve(posts.size());
    for (const auto& post : posts) {
        commands.push_back(
            {"SET", BodyKey(post.id),
             boost::json::serialize(boost::json::object{
                 {"text", post.text}, {"author_user_id", post.author_id}, {"created_us", post.created_us}}),
             "EX", std::to_string(kBodyTtlSeconds)});
    }
    RunChecked(redis, commands);
}

void DropBody(sn::redis::Connection& redis, const std::string& post_id) {
    (void)sn::redis::Checked(redis.Run({"DEL", BodyKey(post_id)}));
}

}  // namespace backend::feed

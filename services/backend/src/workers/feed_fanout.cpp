#include "workers/feed_fanout.hpp"

#include <thread>

#include "common/ids.hpp"
#include "common/log.hpp"
#include "feed/feed_cache.hpp"
#include "storage/friend_repository.hpp"
#include "storage/post_repository.hpp"

namespace backend {
namespace {

constexpr std::size_t kLiveBatch = 1000;
constexpr auto kLiveConfirmTimeout = std::chrono::seconds(5);
constexpr auto kRetryPause = std::chrono::seconds(1);

}  // namespace

FeedFanout::FeedFanout(std::string dsn, sn::redis::Options redis, sn::amqp::ConnectionOptions broker,
                       std::int64_t celebrity_followers, sn::metrics::Registry& metrics)
    : dsn_(std::move(dsn)),
      celebrity_followers_(celebrity_followers),
      applied_(metrics.GetCounter("feed_events_applied_total", "Feed events applied to the cache.")),
      dead_lettered_(metrics.GetCounter("feed_events_dead_lettered_total", "Malformed feed events.")),
      live_published_(metrics.GetCounter("feed_live_published_total", "Live-feed messages published.")),
      redis_(std::move(redis)),
      live_(broker, feed::Topology()) {
    sn::amqp::ConsumerOptions options;
    options.queue = std::string(feed::kFeedQueue);
    options.prefetch = 200;
    options.max_batch = 100;
    options.topology = feed::Topology();
    consumer_ = std::make_unique<sn::amqp::Consumer>(
        broker, options, [this](std::span<const sn::amqp::Delivery> batch) { return ApplyBatch(batch); });
}

FeedFanout::~FeedFanout() { Stop(); }

void FeedFanout::Stop() noexcept {
    if (consumer_) {
        consumer_->Stop();
    }
}

bool FeedFanout::Consuming() const noexcept { return consumer_ && consumer_->Consuming(); }

std::vector<sn::amqp::Outcome> FeedFanout::ApplyBatch(std::span<const sn::amqp::Delivery> batch) {
    std::vector<sn::amqp::Outcome> outcomes;
    outcomes.reserve(batch.size());
    try {
        if (!conn_) {
            conn_ = std::make_unique<sn::pg::Connection>(dsn_, std::chrono::milliseconds(10'000));
        }
        for (const auto& delivery : batch) {
            const auto event = feed::Parse(delivery.body);
            if (!event) {
                sn::log::Warn("malformed feed event dead-lettered", {{"message_id", delivery.message_id}});
                dead_lettered_.Add();
                outcomes.push_back(sn::amqp::Outcome::kReject);
                continue;
            }
            Apply(*event, delivery);
            applied_.Add();
            outcomes.push_back(sn::amqp::Outcome::kAck);
        }
        PublishLive();
    } catch (const std::exception& e) {
        live_pending_.clear();
        // Redis or the database is away: hold back a moment, then the batch comes again.
        sn::log::Warn("feed fan-out failed, batch requeued", {{"error", e.what()}});
        std::this_thread::sleep_for(kRetryPause);
        throw;
    }
    return outcomes;
}

void FeedFanout::Apply(const feed::Event& event, const sn::amqp::Delivery& delivery) {
    auto& conn = *conn_;
    switch (event.kind) {
        case feed::Kind::kPostCreated:
            PostCreated(event, delivery);
            return;
        case feed::Kind::kPostUpdated: {
            const auto post = posts::Find(conn, event.post_id);
            if (post) {
                feed::PutBodies(redis_, {*post});
            } else {
                feed::DropBody(redis_, event.post_id);
            }
            return;
        }
        case feed::Kind::kPostDeleted:
            feed::DropBody(redis_, event.post_id);
            feed::Remove(redis_, event.post_id, friends::Followers(conn, event.author_id));
            return;
        case feed::Kind::kFriendAdded:
        case feed::Kind::kFriendRemoved: {
            std::vector<std::string> stale{event.user_id};
            // An author who just crossed the celebrity line changes how every follower's feed is
            // made (fan-out or read-time merge): those feeds are rebuilt on their next read.
            const auto count = friends::FollowerCount(conn, event.author_id);
            const auto crossing =
                event.kind == feed::Kind::kFriendAdded ? celebrity_followers_ + 1 : celebrity_followers_;
            if (count == crossing) {
                const auto followers = friends::Followers(conn, event.author_id);
                stale.insert(stale.end(), followers.begin(), followers.end());
            }
            feed::Invalidate(redis_, stale);
            return;
        }
    }
}

void FeedFanout::PostCreated(const feed::Event& event, const sn::amqp::Delivery& delivery) {
    auto& conn = *conn_;
    const auto post = posts::Find(conn, event.post_id);
    if (!post) {
        return;  // deleted before we got here
    }
    const auto followers = friends::Followers(conn, post->author_id);
    feed::PutBodies(redis_, {*post});
    if (static_cast<std::int64_t>(followers.size()) <= celebrity_followers_) {
        feed::FanOut(redis_, *post, followers);
    }
    if (!delivery.redelivered) {
        QueueLive(*post, followers, delivery.request_id);
    }
}

void FeedFanout::QueueLive(const Post& post, const std::vector<std::string>& followers, const std::string& request_id) {
    const auto body = feed::LiveMessage(post.id, post.text, post.author_id);
    for (const auto& follower : followers) {
        live_pending_.push_back(sn::amqp::OutgoingMessage{.exchange = std::string(feed::kPostPosted),
                                                          .routing_key = follower,
                                                          .message_id = sn::ids::NewUuid(),
                                                          .correlation_id = post.id,
                                                          .request_id = request_id,
                                                          .body = body,
                                                          .mandatory = false});
    }
}

void FeedFanout::PublishLive() noexcept {
    // Best effort: the live feed is a hint on top of the feed, so a failure is logged, not retried.
    try {
        for (std::size_t start = 0; start < live_pending_.size(); start += kLiveBatch) {
            const auto end = std::min(live_pending_.size(), start + kLiveBatch);
            const std::span<const sn::amqp::OutgoingMessage> chunk(live_pending_.data() + start, end - start);
            // false = no backend has that follower connected: nothing to deliver.
            (void)live_.PublishBatch(chunk, kLiveConfirmTimeout);
            live_published_.Add(chunk.size());
        }
    } catch (const std::exception& e) {
        sn::log::Warn("live feed publish failed", {{"messages", live_pending_.size()}, {"error", e.what()}});
    }
    live_pending_.clear();
}

}  // namespace backend

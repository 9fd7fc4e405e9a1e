#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "amqp/consumer.hpp"
#include "amqp/publisher.hpp"
#include "common/metrics.hpp"
#include "feed/events.hpp"
#include "pg/connection.hpp"
#include "redis/client.hpp"
#include "storage/post_repository.hpp"

namespace backend {

/// Keeps the feed cache current: consumes backend.feedEvents on its own thread and, per event,
/// reads the current state from the tables and applies it to Redis (fan-out on write for
/// ordinary authors, nothing for celebrities), then hands new posts to the live feed through
/// the postPosted exchange. Every step is idempotent, so a redelivery is harmless.
class FeedFanout {
   public:
    FeedFanout(std::string dsn, sn::redis::Options redis, sn::amqp::ConnectionOptions broker,
               std::int64_t celebrity_followers, sn::metrics::Registry& metrics);
    ~FeedFanout();
    FeedFanout(const FeedFanout&) = delete;
    FeedFanout& operator=(const FeedFanout&) = delete;

    void Stop() noexcept;
    [[nodiscard]] bool Consuming() const noexcept;

   private:
    std::vector<sn::amqp::Outcome> ApplyBatch(std::span<const sn::amqp::Delivery> batch);
    void Apply(const feed::Event& event, const sn::amqp::Delivery& delivery);
    void PostCreated(const feed::Event& event, const sn::amqp::Delivery& delivery);
    void QueueLive(const Post& post, const std::vector<std::string>& followers, const std::string& request_id);
    /// Publishes the batch's live messages in one go (one confirm wait per batch, not per post).
    void PublishLive() noexcept;

    std::string dsn_;
    std::int64_t celebrity_followers_;
    sn::metrics::Counter& applied_;
    sn::metrics::Counter& dead_lettered_;
    sn::metrics::Counter& live_published_;
    // Only touched on the consumer's thread.
    std::unique_ptr<sn::pg::Connection> conn_;
    sn::redis::Connection redis_;
    sn::amqp::Publisher live_;
    std::vector<sn::amqp::OutgoingMessage> live_pending_;
    std::unique_ptr<sn::amqp::Consumer> consumer_;  // last: its thread starts once the rest exists
};

}  // namespace backend

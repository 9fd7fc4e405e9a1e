// amqp_bench: what the broker sustains through our own client (libs/amqp), as the baseline the
// saga's figures are quoted against. Phases, each up to --seconds, on a scratch durable quorum
// queue that is deleted at the end:
//
//   publish  Publisher::PublishBatch of --batch persistent --size byte messages to the default
//            exchange, each batch waiting for its confirms (as the outbox relay publishes)
//   consume  a Consumer (manual ack, --prefetch, batches of --consumer-batch) drains what
//            `publish` stored; rate = messages / time to drain (or to --seconds)
//   both     publisher and consumer at once on an emptied queue; rate = messages consumed per
//            second, latency = consumer handler time minus the publish time stamped in the body
//   paced    --paced-rate messages/s for half of --seconds (0 skips it): publish-to-consume
//            latency off saturation
//
// A run takes at most about 3.75 x --seconds (typically 3x): consume stops at --seconds even if
// not drained, and the waits for the consumer to catch up after `both` and `paced` are bounded.
//
//   amqp_bench [--seconds S] [--url amqp://user:pass@host:port/vhost] [--host H] [--port P]
//              [--user U] [--password W] [--vhost V] [--queue NAME] [--size 200] [--batch 500]
//              [--prefetch 500] [--consumer-batch 200] [--paced-rate 1000]
//
// The broker comes from AMQP_URL as for the services (default the stack's), then the flags. The
// queue is bench.raw.<pid> unless --queue names one: two runs on one broker must not delete each
// other's queue (each run deletes and declares its queue between phases).
// Progress goes to stderr; the last line on stdout is one JSON object.
#include <unistd.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "amqp/admin.hpp"
#include "amqp/connection_options.hpp"
#include "amqp/consumer.hpp"
#include "amqp/publisher.hpp"
#include "common/log.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view kDefaultUrl = "amqp://guest:guest@127.0.0.1:55672/";
constexpr milliseconds kConfirmTimeout{30'000};
constexpr milliseconds kPoll{1};
constexpr std::size_t kStampDigits = 19;  // steady-clock nanoseconds, zero-padded, then a space

// Set from the signal handler: phases end early and the scratch queue is still deleted.
std::atomic<bool> g_interrupted{false};

extern "C" void OnSignal(int) { g_interrupted = true; }

struct Options {
    sn::amqp::ConnectionOptions broker;
    std::string queue = "bench.raw." + std::to_string(::getpid());
    std::chrono::seconds seconds{10};
    std::size_t size = 200;
    std::size_t batch = 500;
    std::uint16_t prefetch = 500;
    std::size_t consumer_batch = 200;
    int paced_rate = 1000;
};

[[noreturn]] void Usage(const std::string& why) {
    std::cerr << "amqp_bench: " << why
              << "\nusage: amqp_bench [--seconds S] [--url URL] [--host H] [--port P] [--user U] [--password W]"
                 " [--vhost V] [--queue NAME] [--size BYTES] [--batch N] [--prefetch N] [--consumer-batch N]"
                 " [--paced-rate MSG_PER_S]\n";
    std::exit(2);
}

long Number(const std::string& flag, const std::string& text, long min, long max) {
    long value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
        Usage(flag + " wants a whole number in " + std::to_string(min) + ".." + std::to_string(max));
    }
    return value;
}

Options ParseArgs(int argc, char** argv) {
    std::map<std::string, std::string> flags;
    for (int i = 1; i < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag.rfind("--", 0) != 0 || i + 1 >= argc) {
            Usage("expected --flag value pairs, got '" + flag + "'");
        }
        flags[flag] = argv[i + 1];
    }
    const auto take = [&flags](const std::string& flag) -> std::optional<std::string> {
        const auto it = flags.find(flag);
        if (it == flags.end()) {
            return std::nullopt;
        }
        auto value = it->second;
        flags.erase(it);
        return value;
    };

    Options options;
    const char* env_url = std::getenv("AMQP_URL");
    const auto url = take("--url").value_or(env_url != nullptr ? env_url : std::string(kDefaultUrl));
    try {
        options.broker = sn::amqp::ParseUrl(url);
    } catch (const std::invalid_argument& error) {
        Usage(std::string("bad AMQP URL: ") + error.what());
    }
    if (auto v = take("--host")) {
        options.broker.addresses = {{*v, options.broker.addresses.front().port}};
    }
    if (auto v = take("--port")) {
        options.broker.addresses = {
            {options.broker.addresses.front().host, static_cast<std::uint16_t>(Number("--port", *v, 1, 65'535))}};
    }
    if (auto v = take("--user")) {
        options.broker.user = *v;
    }
    if (auto v = take("--password")) {
        options.broker.password = *v;
    }
    if (auto v = take("--vhost")) {
        options.broker.vhost = *v;
    }
    if (auto v = take("--queue")) {
        options.queue = *v;
    }
    if (auto v = take("--seconds")) {
        options.seconds = std::chrono::seconds(Number("--seconds", *v, 1, 3600));
    }
    if (auto v = take("--size")) {
        options.size = static_cast<std::size_t>(Number("--size", *v, kStampDigits + 1, 1 << 20));
    }
    if (auto v = take("--batch")) {
        options.batch = static_cast<std::size_t>(Number("--batch", *v, 1, 100'000));
    }
    if (auto v = take("--prefetch")) {
        options.prefetch = static_cast<std::uint16_t>(Number("--prefetch", *v, 1, 65'535));
    }
    if (auto v = take("--consumer-batch")) {
        options.consumer_batch = static_cast<std::size_t>(Number("--consumer-batch", *v, 1, 100'000));
    }
    if (auto v = take("--paced-rate")) {
        options.paced_rate = static_cast<int>(Number("--paced-rate", *v, 0, 1'000'000));
    }
    if (!flags.empty()) {
        Usage("unknown flag " + flags.begin()->first);
    }
    return options;
}

void Progress(const std::string& line) { std::cerr << "amqp_bench: " << line << std::endl; }

[[nodiscard]] double Seconds(Clock::duration duration) { return std::chrono::duration<double>(duration).count(); }

[[nodiscard]] double Round(double value, double unit) { return std::round(value / unit) * unit; }

[[nodiscard]] std::int64_t NowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

/// Writes the publish time over the start of a body of at least kStampDigits + 1 bytes.
void Stamp(std::string& body, std::int64_t ns) {
    std::array<char, 32> digits{};
    std::snprintf(digits.data(), digits.size(), "%019lld ", static_cast<long long>(ns));
    std::copy_n(digits.data(), kStampDigits + 1, body.begin());
}

[[nodiscard]] std::optional<std::int64_t> ReadStamp(std::string_view body) {
    std::int64_t ns = 0;
    if (body.size() < kStampDigits || std::from_chars(body.data(), body.data() + kStampDigits, ns).ec != std::errc{}) {
        return std::nullopt;
    }
    return ns;
}

[[nodiscard]] std::optional<double> Percentile(std::vector<double> values, double p) {
    if (values.empty()) {
        return std::nullopt;
    }
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size()))) - 1;
    const auto nth = values.begin() + static_cast<std::ptrdiff_t>(std::min(rank, values.size() - 1));
    std::nth_element(values.begin(), nth, values.end());
    return *nth;
}

[[nodiscard]] boost::json::value Json(std::optional<double> value, double unit) {
    return value ? boost::json::value(Round(*value, unit)) : boost::json::value(nullptr);
}

/// One line of JSON with fixed-point numbers: Boost.JSON writes doubles as 6.7086E4, which parses
/// but reads badly in logs and reports.
[[nodiscard]] std::string Line(const boost::json::object& object) {
    std::string line = "{";
    for (const auto& [key, value] : object) {
        if (line.size() > 1) {
            line += ",";
        }
        line += boost::json::serialize(boost::json::value(key)) + ":";
        if (value.is_double()) {
            std::array<char, 64> text{};
            std::snprintf(text.data(), text.size(), "%.3f", value.as_double());
            std::string number = text.data();
            number.erase(number.find_last_not_of('0') + 1);  // "%.3f" always has a '.', so this stops there
            if (number.back() == '.') {
                number.pop_back();
            }
            line += number;
        } else {
            line += boost::json::serialize(value);
        }
    }
    return line + "}";
}

/// Acks everything and, while recording, keeps publish-to-handler latencies (ms) of what it saw.
class LatencyProbe {
   public:
    std::vector<sn::amqp::Outcome> operator()(std::span<const sn::amqp::Delivery> batch) {
        const std::int64_t now = NowNs();
        if (recording_.load()) {
            const std::lock_guard lock(mutex_);
            for (const auto& delivery : batch) {
                if (const auto sent = ReadStamp(delivery.body)) {
                    latencies_ms_.push_back(static_cast<double>(now - *sent) / 1e6);
                }
            }
        }
        return std::vector<sn::amqp::Outcome>(batch.size(), sn::amqp::Outcome::kAck);
    }

    void Record(bool on) { recording_ = on; }

    [[nodiscard]] std::vector<double> Take() {
        const std::lock_guard lock(mutex_);
        return std::exchange(latencies_ms_, {});
    }

   private:
    std::atomic<bool> recording_{false};
    std::mutex mutex_;
    std::vector<double> latencies_ms_;
};

class Bench {
   public:
    explicit Bench(Options options) : options_(std::move(options)) {
        topology_.queues = {sn::amqp::QueueSpec{.name = options_.queue, .durable = true, .quorum = true}};
        batch_.assign(options_.batch,
                      sn::amqp::OutgoingMessage{
                          .exchange = "", .routing_key = options_.queue, .body = std::string(options_.size, 'x')});
    }

    /// Drops whatever an earlier run left and declares the queue empty.
    void FreshQueue() const {
        sn::amqp::DeleteTopology(options_.broker, topology_);
        sn::amqp::DeclareTopology(options_.broker, topology_);
    }

    void DeleteQueue() const { sn::amqp::DeleteTopology(options_.broker, topology_); }

    /// Publishes full batches until `until`; returns the messages confirmed.
    std::uint64_t PublishUntil(sn::amqp::Publisher& publisher, Clock::time_point until) {
        std::uint64_t confirmed = 0;
        while (Clock::now() < until && !g_interrupted) {
            confirmed += PublishNow(publisher, batch_.size());
        }
        return confirmed;
    }

    /// Publishes `count` (at most --batch) messages stamped now and waits for their confirms.
    std::uint64_t PublishNow(sn::amqp::Publisher& publisher, std::size_t count) {
        const std::int64_t now = NowNs();
        const std::span<sn::amqp::OutgoingMessage> messages(batch_.data(), std::min(count, batch_.size()));
        for (auto& message : messages) {
            Stamp(message.body, now);
        }
        const auto results = publisher.PublishBatch(messages, kConfirmTimeout);
        return static_cast<std::uint64_t>(std::count(results.begin(), results.end(), true));
    }

    [[nodiscard]] std::unique_ptr<sn::amqp::Publisher> MakePublisher() const {
        auto broker = options_.broker;
        broker.name = "amqp_bench publisher";
        auto publisher = std::make_unique<sn::amqp::Publisher>(broker, topology_);
        publisher->Declare({});  // connect now, outside the timed part
        return publisher;
    }

    [[nodiscard]] std::unique_ptr<sn::amqp::Consumer> MakeConsumer(LatencyProbe& probe) const {
        auto broker = options_.broker;
        broker.name = "amqp_bench consumer";
        sn::amqp::ConsumerOptions consumer{.queue = options_.queue,
                                           .prefetch = options_.prefetch,
                                           .max_batch = options_.consumer_batch,
                                           .topology = topology_};
        return std::make_unique<sn::amqp::Consumer>(
            broker, consumer, [&probe](std::span<const sn::amqp::Delivery> batch) { return probe(batch); });
    }

    /// Waits until the consumer has acked `target` in all, or `until`; returns when it stopped waiting.
    static Clock::time_point WaitAcked(const sn::amqp::Consumer& consumer, std::uint64_t target,
                                       Clock::time_point until) {
        while (consumer.Counters().acked.load() < target && Clock::now() < until && !g_interrupted) {
            std::this_thread::sleep_for(kPoll);
        }
        return Clock::now();
    }

    static void WaitConsuming(const sn::amqp::Consumer& consumer) {
        const auto until = Clock::now() + std::chrono::seconds(10);
        while (!consumer.Consuming()) {
            if (Clock::now() >= until || g_interrupted) {
                throw sn::amqp::AmqpError("consumer did not start within 10 s");
            }
            std::this_thread::sleep_for(kPoll);
        }
    }

    boost::json::object Run() {
        boost::json::object out{{"baseline", "amqp"},
                                {"queue_type", "quorum"},
                                {"message_bytes", options_.size},
                                {"publish_batch", options_.batch},
                                {"prefetch", options_.prefetch},
                                {"consumer_batch", options_.consumer_batch},
                                {"seconds", options_.seconds.count()}};
        const std::chrono::milliseconds span = options_.seconds;
        FreshQueue();

        // (a) publish only: the queue fills.
        auto publisher = MakePublisher();
        auto t0 = Clock::now();
        const std::uint64_t stored = PublishUntil(*publisher, t0 + span);
        const double publish_s = Seconds(Clock::now() - t0);
        out["publish_per_s"] = Round(static_cast<double>(stored) / publish_s, 0.1);
        Progress("publish: " + std::to_string(stored) + " confirmed in " + std::to_string(publish_s) + " s");

        // (b) consume only: drain what (a) stored.
        LatencyProbe probe;
        {
            t0 = Clock::now();
            const auto consumer = MakeConsumer(probe);
            const auto stopped = WaitAcked(*consumer, stored, t0 + span);
            const std::uint64_t acked = consumer->Counters().acked.load();
            const double consume_s = Seconds(stopped - t0);
            consumer->Stop();
            out["consume_per_s"] = Round(static_cast<double>(acked) / consume_s, 0.1);
            Progress("consume: " + std::to_string(acked) + " of " + std::to_string(stored) + " acked in " +
                     std::to_string(consume_s) + " s");
        }

        // (c) both at once, from an empty queue. The queue is deleted and declared again, so the
        // publisher that used it goes first: RabbitMQ 3.10 closed such a channel with 541
        // INTERNAL_ERROR (register_enqueuer -> {shutdown, delete}) when it published after the
        // queue came back under the same name.
        publisher.reset();
        FreshQueue();
        publisher = MakePublisher();
        const auto consumer = MakeConsumer(probe);
        WaitConsuming(*consumer);
        probe.Record(true);
        t0 = Clock::now();
        const std::uint64_t sent = PublishUntil(*publisher, t0 + span);
        const auto t1 = Clock::now();
        const std::uint64_t through = consumer->Counters().acked.load();
        const double both_s = Seconds(t1 - t0);
        // Let the consumer catch up so every published message has its latency.
        const auto drained = WaitAcked(*consumer, sent, t1 + span / 8);
        probe.Record(false);
        auto latencies = probe.Take();
        out["both_per_s"] = Round(static_cast<double>(through) / both_s, 0.1);
        out["both_publish_per_s"] = Round(static_cast<double>(sent) / both_s, 0.1);
        out["both_drain_s"] = Round(Seconds(drained - t1), 0.001);
        out["latency_p50_ms"] = Json(Percentile(latencies, 0.50), 0.001);
        out["latency_p99_ms"] = Json(Percentile(latencies, 0.99), 0.001);
        out["latency_samples"] = latencies.size();
        Progress("both: " + std::to_string(sent) + " published, " + std::to_string(through) + " consumed in " +
                 std::to_string(both_s) + " s; " + std::to_string(latencies.size()) + " latencies");

        // (d) paced: latency well below saturation.
        out["paced_rate"] = options_.paced_rate;
        if (options_.paced_rate > 0 && !g_interrupted) {
            const std::uint64_t acked_before = consumer->Counters().acked.load();
            probe.Record(true);
            t0 = Clock::now();
            const auto until = t0 + span / 2;
            std::uint64_t paced_sent = 0;
            for (auto now = t0; now < until && !g_interrupted; now = Clock::now()) {
                const auto due = static_cast<std::uint64_t>(Seconds(now - t0) * options_.paced_rate) + 1;
                if (due > paced_sent) {
                    paced_sent += PublishNow(*publisher, static_cast<std::size_t>(due - paced_sent));
                } else {
                    const auto next = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                                               static_cast<double>(paced_sent) / options_.paced_rate));
                    std::this_thread::sleep_until(next);
                }
            }
            (void)WaitAcked(*consumer, acked_before + paced_sent, Clock::now() + span / 8);
            probe.Record(false);
            latencies = probe.Take();
            out["paced_latency_p50_ms"] = Json(Percentile(latencies, 0.50), 0.001);
            out["paced_latency_p99_ms"] = Json(Percentile(latencies, 0.99), 0.001);
            out["paced_samples"] = latencies.size();
            Progress("paced: " + std::to_string(paced_sent) + " published at " + std::to_string(options_.paced_rate) +
                     "/s, " + std::to_string(latencies.size()) + " latencies");
        }
        consumer->Stop();
        if (g_interrupted) {
            out["interrupted"] = true;
        }
        return out;
    }

   private:
    Options options_;
    sn::amqp::Topology topology_;
    std::vector<sn::amqp::OutgoingMessage> batch_;
};

}  // namespace

int main(int argc, char** argv) {
    const Options options = ParseArgs(argc, argv);
    sn::log::SetService("amqp_bench");
    std::signal(SIGINT, OnSignal);
    std::signal(SIGTERM, OnSignal);
    Progress("broker " + sn::amqp::Endpoint(options.broker) + ", queue " + options.queue + ", " +
             std::to_string(options.seconds.count()) + " s per phase");
    Bench bench(options);
    boost::json::object result;
    int status = 0;
    try {
        result = bench.Run();
    } catch (const std::exception& error) {
        result = {{"baseline", "amqp"}, {"error", error.what()}};
        status = 1;
    }
    try {
        bench.DeleteQueue();
    } catch (const std::exception& error) {
        Progress(std::string("could not delete the scratch queue: ") + error.what());
        status = 1;
    }
    std::cout << Line(result) << std::endl;
    return status;
}

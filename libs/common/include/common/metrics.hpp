#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

/// Prometheus metrics: counters, gauges and histograms with labels, rendered in the text format.
namespace sn::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

/// A monotonically increasing count.
class Counter {
   public:
    void Add(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t Value() const noexcept { return value_.load(std::memory_order_relaxed); }

   private:
    std::atomic<std::uint64_t> value_{0};
};

/// A value that goes up and down.
class Gauge {
   public:
    void Set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
    [[nodiscard]] double Value() const noexcept { return value_.load(std::memory_order_relaxed); }

   private:
    std::atomic<double> value_{0};
};

/// Observations in fixed buckets (seconds).
class Histogram {
   public:
    explicit Histogram(std::vector<double> bounds);
    void Observe(double value) noexcept;
    [[nodiscard]] const std::vector<double>& Bounds() const noexcept { return bounds_; }
    [[nodiscard]] std::uint64_t BucketCount(std::size_t i) const noexcept { return buckets_[i].load(); }
    [[nodiscard]] std::uint64_t Count() const noexcept { return count_.load(); }
    [[nodiscard]] double Sum() const noexcept { return sum_.load(); }

   private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
    std::atomic<std::uint64_t> count_{0};
    std::atomic<double> sum_{0};
};

/// Latency buckets from 0.5 ms to 10 s.
[[nodiscard]] std::vector<double> LatencyBuckets();

/// Owns every metric of a process; handing out references that stay valid for its lifetime.
class Registry {
   public:
    Counter& GetCounter(std::string_view name, std::string_view help, const Labels& labels = {});
    Gauge& GetGauge(std::string_view name, std::string_view help, const Labels& labels = {});
    Histogram& GetHistogram(std::string_view name, std::string_view help, const Labels& labels = {},
                            std::vector<double> bounds = LatencyBuckets());
    /// A gauge computed at scrape time.
    void AddCallbackGauge(std::string_view name, std::string_view help, std::function<double()> read);

    /// The Prometheus text exposition of everything registered.
    [[nodiscard]] std::string Render() const;

   private:
    struct Family {
        std::string help;
        std::string type;
        std::map<std::string, std::unique_ptr<Counter>> counters;
        std::map<std::string, std::unique_ptr<Gauge>> gauges;
        std::map<std::string, std::unique_ptr<Histogram>> histograms;
        std::function<double()> callback;
    };
    Family& GetFamily(std::string_view name, std::string_view help, std::string_view type);

    mutable std::mutex mutex_;
    std::map<std::string, Family, std::less<>> families_;
};

/// `{a="x",b="y"}` with values escaped; empty for no labels.
[[nodiscard]] std::string FormatLabels(const Labels& labels);

}  // namespace sn::metrics

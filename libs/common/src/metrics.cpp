#include "common/metrics.hpp"

#include <charconv>

namespace sn::metrics {
namespace {

// Shortest text that reads back as the same double ("0.1", not "0.10000000000000001").
std::string FormatNumber(double v) {
    char buf[32];
    const auto result = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, result.ptr);
}

// Adds `le` to an already formatted label set such as `{route="x"}`.
std::string WithLe(const std::string& labels, const std::string& le) {
    if (labels.empty()) {
        return "{le=\"" + le + "\"}";
    }
    return labels.substr(0, labels.size() - 1) + ",le=\"" + le + "\"}";
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<std::uint64_t>[bounds_.size()]) {
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
        buckets_[i] = 0;
    }
}

void Histogram::Observe(double value) noexcept {
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
        if (value <= bounds_[i]) {
            buckets_[i].fetch_add(1, std::memory_order_relaxed);
            break;
        }
    }
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
}

std::vector<double> LatencyBuckets() {
    return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::string FormatLabels(const Labels& labels) {
    if (labels.empty()) {
        return {};
    }
    std::string out = "{";
    for (const auto& [key, value] : labels) {
        if (out.size() > 1) {
            out += ',';
        }
        out += key + "=\"";
        for (const char c : value) {
            if (c == '"' || c == '\\') {
                out += '\\';
                out += c;
            } else if (c == '\n') {
                out += "\\n";
            } else {
                out += c;
            }
        }
        out += '"';
    }
    return out + "}";
}

Registry::Family& Registry::GetFamily(std::string_view name, std::string_view help, std::string_view type) {
    auto it = families_.find(name);
    if (it == families_.end()) {
        it = families_.emplace(std::string(name), Family{std::string(help), std::string(type), {}, {}, {}, {}}).first;
    }
    return it->second;
}

Counter& Registry::GetCounter(std::string_view name, std::string_view help, const Labels& labels) {
    const std::lock_guard lock(mutex_);
    auto& slot = GetFamily(name, help, "counter").counters[FormatLabels(labels)];
    if (!slot) {
        slot = std::make_unique<Counter>();
    }
    return *slot;
}

Gauge& Registry::GetGauge(std::string_view name, std::string_view help, const Labels& labels) {
    const std::lock_guard lock(mutex_);
    auto& slot = GetFamily(name, help, "gauge").gauges[FormatLabels(labels)];
    if (!slot) {
        slot = std::make_unique<Gauge>();
    }
    return *slot;
}

Histogram& Registry::GetHistogram(std::string_view name, std::string_view help, const Labels& labels,
                                  std::vector<double> bounds) {
    const std::lock_guard lock(mutex_);
    auto& slot = GetFamily(name, help, "histogram").histograms[FormatLabels(labels)];
    if (!slot) {
        slot = std::make_unique<Histogram>(std::move(bounds));
    }
    return *slot;
}

void Registry::AddCallbackGauge(std::string_view name, std::string_view help, std::function<double()> read) {
    const std::lock_guard lock(mutex_);
    GetFamily(name, help, "gauge").callback = std::move(read);
}

std::string Registry::Render() const {
    const std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& [name, family] : families_) {
        out += "# HELP " + name + " " + family.help + "\n# TYPE " + name + " " + family.type + "\n";
        for (const auto& [labels, counter] : family.counters) {
            out += name + labels + " " + std::to_string(counter->Value()) + "\n";
        }
        for (const auto& [labels, gauge] : family.gauges) {
            out += name + labels + " " + FormatNumber(gauge->Value()) + "\n";
        }
        if (family.callback) {
            out += name + " " + FormatNumber(family.callback()) + "\n";
        }
        for (const auto& [labels, histogram] : family.histograms) {
            std::uint64_t cumulative = 0;
            for (std::size_t i = 0; i < histogram->Bounds().size(); ++i) {
                cumulative += histogram->BucketCount(i);
                out += name + "_bucket" + WithLe(labels, FormatNumber(histogram->Bounds()[i])) + " " +
                       std::to_string(cumulative) + "\n";
            }
            out += name + "_bucket" + WithLe(labels, "+Inf") + " " + std::to_string(histogram->Count()) + "\n";
            out += name + "_sum" + labels + " " + FormatNumber(histogram->Sum()) + "\n";
            out += name + "_count" + labels + " " + std::to_string(histogram->Count()) + "\n";
        }
    }
    return out;
}

}  // namespace sn::metrics

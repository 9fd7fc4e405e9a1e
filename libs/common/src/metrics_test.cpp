#include "common/metrics.hpp"

#include <gtest/gtest.h>

namespace sn::metrics {
namespace {

TEST(Registry, RendersCountersWithEscapedLabels) {
    Registry registry;
    registry.GetCounter("events_total", "Events.", {{"kind", "a\"b"}}).Add(3);
    registry.GetCounter("events_total", "Events.", {{"kind", "a\"b"}}).Add();
    const auto text = registry.Render();
    EXPECT_NE(text.find("# TYPE events_total counter"), std::string::npos);
    EXPECT_NE(text.find("events_total{kind=\"a\\\"b\"} 4"), std::string::npos) << text;
}

TEST(Registry, RendersCumulativeHistogramBuckets) {
    Registry registry;
    auto& h = registry.GetHistogram("latency_seconds", "Latency.", {{"route", "/x"}}, {0.1, 1});
    h.Observe(0.05);
    h.Observe(0.5);
    h.Observe(5);
    const auto text = registry.Render();
    EXPECT_NE(text.find("latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 1"), std::string::npos) << text;
    EXPECT_NE(text.find("latency_seconds_bucket{route=\"/x\",le=\"1\"} 2"), std::string::npos) << text;
    EXPECT_NE(text.find("latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3"), std::string::npos) << text;
    EXPECT_NE(text.find("latency_seconds_count{route=\"/x\"} 3"), std::string::npos) << text;
}

TEST(Registry, CallbackGaugeIsReadAtScrape) {
    Registry registry;
    double backlog = 1;
    registry.AddCallbackGauge("outbox_backlog", "Rows.", [&] { return backlog; });
    backlog = 42;
    EXPECT_NE(registry.Render().find("outbox_backlog 42"), std::string::npos);
}

}  // namespace
}  // namespace sn::metrics

#include "common/time.hpp"

#include <gtest/gtest.h>

#include <ctime>
#include <random>

namespace sn::time {
namespace {

TEST(IsoMicros, KnownInstants) {
    EXPECT_EQ(IsoMicros(0), "1970-01-01T00:00:00.000000Z");
    EXPECT_EQ(IsoMicros(-1), "1969-12-31T23:59:59.999999Z");
    EXPECT_EQ(IsoMicros(951'782'400'000'001), "2000-02-29T00:00:00.000001Z");  // a leap day of a 400-year leap
    EXPECT_EQ(IsoMicros(1'795'847'569'471'123), "2026-11-28T06:32:49.471123Z");
    EXPECT_EQ(IsoMicros(4'107'542'399'999'999), "2100-02-28T23:59:59.999999Z");  // 2100 is not a leap year
    EXPECT_EQ(IsoMicros(4'107'542'400'000'000), "2100-03-01T00:00:00.000000Z");
}

TEST(IsoMicros, AgreesWithGmtimeOverFourCenturies) {
    std::mt19937_64 random(20261129);
    std::uniform_int_distribution<std::int64_t> instants(-2'208'988'800'000'000, 10'413'792'000'000'000);  // 1900-2300
    for (int i = 0; i < 100'000; ++i) {
        const auto micros = instants(random);
        const std::time_t seconds =
            static_cast<std::time_t>(micros >= 0 ? micros / 1'000'000 : (micros - 999'999) / 1'000'000);
        std::tm tm{};
        gmtime_r(&seconds, &tm);
        char expected[64];
        std::snprintf(expected, sizeof(expected), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                      static_cast<long long>(micros - static_cast<std::int64_t>(seconds) * 1'000'000));
        ASSERT_EQ(IsoMicros(micros), expected) << micros;
    }
}

}  // namespace
}  // namespace sn::time

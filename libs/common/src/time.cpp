#include "common/time.hpp"

namespace sn::time {
namespace {

/// Floor division: -1 µs is the last microsecond of 1969-12-31.
constexpr std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/// Writes `value` as exactly `width` decimal digits (zero-padded) at `at`.
void Digits(char* at, std::int64_t value, int width) {
    for (int i = width - 1; i >= 0; --i) {
        at[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
}

}  // namespace

void AppendIsoMicros(std::string& out, std::int64_t micros) {
    constexpr std::int64_t kPerSecond = 1'000'000;
    constexpr std::int64_t kPerDay = 86'400;
    const std::int64_t seconds = FloorDiv(micros, kPerSecond);
    const std::int64_t fraction = micros - seconds * kPerSecond;
    const std::int64_t days = FloorDiv(seconds, kPerDay);
    const std::int64_t of_day = seconds - days * kPerDay;
    // Days since 1970-01-01 to a civil date (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
    const std::int64_t z = days + 719'468;
    const std::int64_t era = FloorDiv(z, 146'097);
    const std::int64_t doe = z - era * 146'097;
    const std::int64_t yoe = (doe - doe / 1'460 + doe / 36'524 - doe / 146'096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
    const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);

    char text[] = "0000-00-00T00:00:00.000000Z";
    Digits(text, year, 4);  // years 0-9999: PostgreSQL's own range of interest here
    Digits(text + 5, month, 2);
    Digits(text + 8, day, 2);
    Digits(text + 11, of_day / 3'600, 2);
    Digits(text + 14, of_day / 60 % 60, 2);
    Digits(text + 17, of_day % 60, 2);
    Digits(text + 20, fraction, 6);
    out.append(text, sizeof(text) - 1);
}

}  // namespace sn::time

#include "common/log.hpp"

#include <atomic>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

namespace sn::log {
namespace {

std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};
std::mutex g_mutex;
std::string g_service = "unknown";

std::string_view LevelName(Level level) {
    switch (level) {
        case Level::kDebug:
            return "debug";
        case Level::kInfo:
            return "info";
        case Level::kWarn:
            return "warn";
        case Level::kError:
            return "error";
    }
    return "info";
}

std::string Timestamp() {
    const auto now = std::chrono::system_clock::now();
    const auto secs = std::chrono::system_clock::to_time_t(now);
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
    return buf;
}

}  // namespace

void SetLevel(std::string_view name) {
    for (const auto level : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
        if (LevelName(level) == name) {
            g_min_level = static_cast<int>(level);
        }
    }
}

void SetService(std::string_view name) {
    const std::lock_guard lock(g_mutex);
    g_service = name;
}

bool Enabled(Level level) noexcept { return static_cast<int>(level) >= g_min_level.load(std::memory_order_relaxed); }

void Write(Level level, std::string_view message, boost::json::object fields) {
    if (!Enabled(level)) {
        return;
    }
    boost::json::object line;
    line.reserve(fields.size() + 4);
    line["ts"] = Timestamp();
    line["level"] = LevelName(level);
    line["msg"] = message;
    for (auto& [key, value] : fields) {
        line[key] = std::move(value);
    }
    const std::lock_guard lock(g_mutex);
    line["service"] = g_service;
    std::string text = boost::json::serialize(line);
    text.push_back('\n');
    std::fwrite(text.data(), 1, text.size(), stderr);
}

}  // namespace sn::log

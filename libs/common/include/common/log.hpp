#pragma once

#include <boost/json/object.hpp>
#include <string_view>

/// Structured logs: one JSON object a line on stderr, safe from any thread.
namespace sn::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

/// Sets the lowest level written ("debug", "info", "warn", "error"); unknown names keep "info".
void SetLevel(std::string_view name);
/// Sets the "service" field every line carries.
void SetService(std::string_view name);

[[nodiscard]] bool Enabled(Level level) noexcept;
void Write(Level level, std::string_view message, boost::json::object fields = {});

inline void Debug(std::string_view message, boost::json::object fields = {}) {
    if (Enabled(Level::kDebug)) {
        Write(Level::kDebug, message, std::move(fields));
    }
}
inline void Info(std::string_view message, boost::json::object fields = {}) {
    Write(Level::kInfo, message, std::move(fields));
}
inline void Warn(std::string_view message, boost::json::object fields = {}) {
    Write(Level::kWarn, message, std::move(fields));
}
inline void Error(std::string_view message, boost::json::object fields = {}) {
    Write(Level::kError, message, std::move(fields));
}

}  // namespace sn::log

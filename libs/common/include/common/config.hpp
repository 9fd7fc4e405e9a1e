#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sn::config {

/// A setting that is present but unusable; the service prints it and exits.
class ConfigError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Reads settings from environment variables and remembers each one it read, so a service
/// can print its whole effective configuration (secrets masked) at start.
class EnvReader {
   public:
    [[nodiscard]] std::string String(std::string_view name, std::string_view fallback);
    [[nodiscard]] std::string Secret(std::string_view name, std::string_view fallback);
    [[nodiscard]] std::int64_t Int(std::string_view name, std::int64_t fallback, std::int64_t min, std::int64_t max);
    [[nodiscard]] bool Bool(std::string_view name, bool fallback);
    [[nodiscard]] std::chrono::milliseconds Millis(std::string_view name, std::chrono::milliseconds fallback);

    /// Every setting read so far, name -> value, with secrets and URL passwords masked.
    [[nodiscard]] const boost::json::object& Effective() const noexcept { return effective_; }

   private:
    std::string Raw(std::string_view name, std::string_view fallback);

    boost::json::object effective_;
};

/// "amqp://user:secret@host/" -> "amqp://user:***@host/", each URL of a comma-separated list; other text unchanged.
[[nodiscard]] std::string MaskUrlPassword(std::string_view urls);

}  // namespace sn::config

#include "common/config.hpp"

#include <charconv>
#include <cstdlib>

namespace sn::config {

std::string EnvReader::Raw(std::string_view name, std::string_view fallback) {
    const std::string key(name);
    const char* value = std::getenv(key.c_str());
    return value != nullptr ? std::string(value) : std::string(fallback);
}

std::string EnvReader::String(std::string_view name, std::string_view fallback) {
    std::string value = Raw(name, fallback);
    effective_[name] = MaskUrlPassword(value);
    return value;
}

std::string EnvReader::Secret(std::string_view name, std::string_view fallback) {
    std::string value = Raw(name, fallback);
    effective_[name] = value.empty() ? "" : "***";
    return value;
}

std::int64_t EnvReader::Int(std::string_view name, std::int64_t fallback, std::int64_t min, std::int64_t max) {
    const std::string text = Raw(name, std::to_string(fallback));
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
        throw ConfigError(std::string(name) + "=" + text + " is not an integer in [" + std::to_string(min) + ", " +
                          std::to_string(max) + "]");
    }
    effective_[name] = value;
    return value;
}

bool EnvReader::Bool(std::string_view name, bool fallback) {
    const std::string text = Raw(name, fallback ? "true" : "false");
    bool value = false;
    if (text == "1" || text == "true" || text == "yes" || text == "on") {
        value = true;
    } else if (text == "0" || text == "false" || text == "no" || text == "off") {
        value = false;
    } else {
        throw ConfigError(std::string(name) + "=" + text + " is not a boolean (true/false)");
    }
    effective_[name] = value;
    return value;
}

std::chrono::milliseconds EnvReader::Millis(std::string_view name, std::chrono::milliseconds fallback) {
    return std::chrono::milliseconds(Int(name, fallback.count(), 0, 86'400'000));
}

namespace {

std::string MaskOneUrlPassword(std::string_view url) {
    const auto scheme = url.find("://");
    if (scheme == std::string_view::npos) {
        return std::string(url);
    }
    const auto at = url.find('@', scheme + 3);
    const auto colon = url.find(':', scheme + 3);
    if (at == std::string_view::npos || colon == std::string_view::npos || colon > at) {
        return std::string(url);
    }
    return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

}  // namespace

// A list (AMQP_URL: one URL a broker node, comma-separated) is masked URL by URL.
std::string MaskUrlPassword(std::string_view urls) {
    std::string masked;
    std::size_t start = 0;
    for (;;) {
        const auto comma = urls.find(',', start);
        masked += MaskOneUrlPassword(urls.substr(start, comma == std::string_view::npos ? comma : comma - start));
        if (comma == std::string_view::npos) {
            return masked;
        }
        masked += ',';
        start = comma + 1;
    }
}

}  // namespace sn::config

#include "amqp/connection_options.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <limits>
#include <stdexcept>

namespace sn::amqp {
namespace {

// The URL may hold a password: the message names the problem, never the text.
[[noreturn]] void Invalid(std::string_view why) {
    throw std::invalid_argument("invalid AMQP URL: " + std::string(why));
}

[[nodiscard]] std::int64_t ParseNumber(std::string_view text, std::int64_t min, std::int64_t max,
                                       std::string_view what) {
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
        Invalid(std::string(what) + " out of range");
    }
    return value;
}

ConnectionOptions ParseOne(std::string_view url) {
    const auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed) {
        Invalid(parsed.error().message());
    }
    const boost::urls::url_view& view = *parsed;
    if (view.scheme() != "amqp") {
        Invalid("scheme must be amqp (amqps is not supported)");
    }
    if (!view.has_authority() || view.host_address().empty()) {
        Invalid("missing host");
    }
    ConnectionOptions options;
    Address& address = options.addresses.front();
    address.host = view.host_address();
    if (view.has_port()) {
        address.port = static_cast<std::uint16_t>(ParseNumber(view.port(), 1, 65535, "port"));
    }
    if (view.has_userinfo()) {
        options.user = view.user();
        options.password = view.password();
    }
    // "" and "/" both mean the default vhost (the URI spec makes "/" the empty vhost, which no one
    // uses); any other vhost is one percent-encoded segment, so "/%2f" is "/" too.
    const std::string_view path = view.encoded_path();
    if (!path.empty() && path.front() != '/') {
        Invalid("the vhost must follow the host or port after a '/'");
    }
    if (path.size() > 1) {
        if (view.segments().size() != 1) {
            Invalid("vhost must be a single path segment (encode '/' as %2f)");
        }
        options.vhost = view.path().substr(1);
    }
    for (const auto& param : view.params()) {
        if (param.key == "heartbeat") {
            options.heartbeat = std::chrono::seconds(ParseNumber(param.value, 0, 3600, "heartbeat"));
        } else if (param.key == "connection_timeout") {
            options.connect_timeout =
                std::chrono::milliseconds(ParseNumber(param.value, 1, 600'000, "connection_timeout"));
        } else {
            Invalid("unknown query parameter " + param.key);
        }
    }
    return options;
}

[[nodiscard]] bool SameExceptAddress(const ConnectionOptions& a, const ConnectionOptions& b) {
    return a.user == b.user && a.password == b.password && a.vhost == b.vhost && a.heartbeat == b.heartbeat &&
           a.connect_timeout == b.connect_timeout;
}

}  // namespace

ConnectionOptions ParseUrl(std::string_view url) {
    ConnectionOptions options;
    bool first = true;
    while (true) {
        const auto comma = url.find(',');
        const ConnectionOptions node = ParseOne(url.substr(0, comma));
        if (first) {
            options = node;
            first = false;
        } else if (!SameExceptAddress(options, node)) {
            Invalid("the URLs of one cluster may differ only in host and port");
        } else {
            options.addresses.push_back(node.addresses.front());
        }
        if (comma == std::string_view::npos) {
            return options;
        }
        url.remove_prefix(comma + 1);
    }
}

std::string Endpoint(const Address& address) {
    const bool ipv6 = address.host.find(':') != std::string::npos;
    return (ipv6 ? "[" + address.host + "]" : address.host) + ":" + std::to_string(address.port);
}

std::string Endpoint(const ConnectionOptions& options) {
    std::string text;
    for (const auto& address : options.addresses) {
        text += (text.empty() ? "" : ",") + Endpoint(address);
    }
    return text + (options.vhost == "/" ? "/" : "/" + options.vhost);
}

}  // namespace sn::amqp

#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/json_writer.hpp"

namespace sn::http {

namespace beast_http = boost::beast::http;
using Request = beast_http::request<beast_http::string_body>;
using Response = beast_http::response<beast_http::string_body>;
using Status = beast_http::status;
using Verb = beast_http::verb;

/// Thrown by handlers for a client-visible failure; the server turns it into the JSON error body.
class HttpError : public std::runtime_error {
   public:
    HttpError(Status status, const std::string& message) : std::runtime_error(message), status_(status) {}
    /// With a `Retry-After` header (429, 503): when the client may try again.
    HttpError(Status status, const std::string& message, std::chrono::seconds retry_after)
        : std::runtime_error(message), status_(status), retry_after_(retry_after) {}
    [[nodiscard]] Status status() const noexcept { return status_; }
    [[nodiscard]] std::optional<std::chrono::seconds> retry_after() const noexcept { return retry_after_; }

   private:
    Status status_;
    std::optional<std::chrono::seconds> retry_after_;
};

/// What a handler knows about the request beyond its bytes.
struct Context {
    const Request& request;
    std::string request_id;
    std::vector<std::pair<std::string, std::string>> path_params;
    std::string user_id;         // the verified token's subject on routes that require auth, else empty
    std::string client_address;  // the peer's IP address, as the socket saw it

    /// A `{name}` segment of the route pattern (already matched, so always present).
    [[nodiscard]] std::string_view Param(std::string_view name) const;
    /// A decoded query parameter, if present.
    [[nodiscard]] std::optional<std::string> Query(std::string_view name) const;
};

/// A JSON response with the given status.
[[nodiscard]] Response JsonResponse(Status status, const boost::json::value& body);

/// A response of JSON text already written (by a JsonWriter).
[[nodiscard]] Response JsonTextResponse(Status status, std::string body);

/// A JSON response of one item, written by `write(json, item)`.
template <typename Item, typename Write>
[[nodiscard]] Response JsonItemResponse(Status status, const Item& item, Write write) {
    JsonWriter json;
    write(json, item);
    return JsonTextResponse(status, std::move(json).Take());
}

/// A JSON array response of `items`, each written by `write(json, item)` straight into the body:
/// a page of results is hundreds of small strings, and building them as a tree of JSON values
/// first took a malloc each (an eighth of the machine while listing 100 messages).
template <typename Items, typename Write>
[[nodiscard]] Response JsonArrayResponse(Status status, const Items& items, Write write) {
    return JsonTextResponse(status, JsonArray(items, write));
}

/// The contract's error body `{message, request_id, code}`, code = the HTTP status.
[[nodiscard]] Response ErrorResponse(Status status, std::string_view message, std::string_view request_id);

}  // namespace sn::http

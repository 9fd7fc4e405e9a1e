#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/array.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
    [[nodiscard]] Status status() const noexcept { return status_; }

   private:
    Status status_;
};

/// What a handler knows about the request beyond its bytes.
struct Context {
    const Request& request;
    std::string request_id;
    std::vector<std::pair<std::string, std::string>> path_params;
    std::string user_id;  // the verified token's subject on routes that require auth, else empty

    /// A `{name}` segment of the route pattern (already matched, so always present).
    [[nodiscard]] std::string_view Param(std::string_view name) const;
    /// A decoded query parameter, if present.
    [[nodiscard]] std::optional<std::string> Query(std::string_view name) const;
};

/// A JSON response with the given status.
[[nodiscard]] Response JsonResponse(Status status, const boost::json::value& body);

/// A JSON array response of `items`, each made by `to_json(item, storage)`, all in one arena: a
/// page of results is hundreds of small strings, whose mallocs and frees took an eighth of the
/// machine while listing 100 messages.
template <typename Items, typename MakeJson>
[[nodiscard]] Response JsonArrayResponse(Status status, const Items& items, MakeJson to_json) {
    boost::json::monotonic_resource arena(64 * 1024);
    boost::json::array array(&arena);
    array.reserve(items.size());
    for (const auto& item : items) {
        array.push_back(to_json(item, &arena));
    }
    return JsonResponse(status, boost::json::value(std::move(array)));
}

/// The contract's error body `{message, request_id, code}`, code = the HTTP status.
[[nodiscard]] Response ErrorResponse(Status status, std::string_view message, std::string_view request_id);

}  // namespace sn::http

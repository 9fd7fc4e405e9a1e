#include "http/types.hpp"

#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

namespace sn::http {

std::string_view Context::Param(std::string_view name) const {
    for (const auto& [key, value] : path_params) {
        if (key == name) {
            return value;
        }
    }
    return {};
}

std::optional<std::string> Context::Query(std::string_view name) const {
    const auto url = boost::urls::parse_origin_form(request.target());
    if (!url) {
        return std::nullopt;
    }
    const auto params = url->params();
    const auto it = params.find(name);
    if (it == params.end()) {
        return std::nullopt;
    }
    return std::string((*it).value);
}

Response JsonResponse(Status status, const boost::json::value& body) {
    return JsonTextResponse(status, boost::json::serialize(body));
}

Response JsonTextResponse(Status status, std::string body) {
    Response res{status, 11};
    res.set(beast_http::field::content_type, "application/json");
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

Response ErrorResponse(Status status, std::string_view message, std::string_view request_id) {
    return JsonResponse(
        status,
        boost::json::object{{"message", message}, {"request_id", request_id}, {"code", static_cast<int>(status)}});
}

}  // namespace sn::http

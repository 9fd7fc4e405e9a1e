#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/types.hpp"
#include "http/websocket.hpp"

namespace sn::http {

using Handler = std::function<boost::asio::awaitable<Response>(Context&)>;

/// Whether a route needs a verified bearer token before its handler runs.
enum class Access { kPublic, kAuthenticated };

/// Maps a method and a path such as `/dialog/{user_id}/send` to a handler.
class Router {
   public:
    struct Route {
        Verb verb;
        std::string pattern;
        std::vector<std::string> segments;
        Access access;
        Handler handler;
        WebSocketHandler on_upgrade{};  // set on WebSocket routes (GET only), which have no handler
    };

    /// The outcome of a lookup: a route (with its path parameters), or why there is none.
    struct Match {
        const Route* route = nullptr;
        std::vector<std::pair<std::string, std::string>> params;
        bool path_known = false;  // some route has this path under another method: 405, not 404
    };

    void Add(Verb verb, std::string_view pattern, Access access, Handler handler);
    /// A GET route that upgrades to WebSocket. On kAuthenticated routes the token may also come as
    /// `?token=` (browsers cannot set headers on a WebSocket); a bad one is refused before the upgrade.
    void AddWebSocket(std::string_view pattern, Access access, WebSocketHandler on_upgrade);
    [[nodiscard]] Match Find(Verb verb, std::string_view path) const;

   private:
    std::vector<Route> routes_;
};

/// Splits "/a/b/" into {"a", "b"}; an empty path gives no segments.
[[nodiscard]] std::vector<std::string_view> SplitPath(std::string_view path);

}  // namespace sn::http

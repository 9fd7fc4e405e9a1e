#include "http/router.hpp"

namespace sn::http {

std::vector<std::string_view> SplitPath(std::string_view path) {
    std::vector<std::string_view> segments;
    std::size_t start = 0;
    while (start < path.size()) {
        auto end = path.find('/', start);
        if (end == std::string_view::npos) {
            end = path.size();
        }
        if (end > start) {
            segments.push_back(path.substr(start, end - start));
        }
        start = end + 1;
    }
    return segments;
}

void Router::Add(Verb verb, std::string_view pattern, Access access, Handler handler) {
    std::vector<std::string> segments;
    for (const auto segment : SplitPath(pattern)) {
        segments.emplace_back(segment);
    }
    routes_.push_back(Route{verb, std::string(pattern), std::move(segments), access, std::move(handler), {}});
}

void Router::AddWebSocket(std::string_view pattern, Access access, WebSocketHandler on_upgrade) {
    Add(Verb::get, pattern, access, {});
    routes_.back().on_upgrade = std::move(on_upgrade);
}

Router::Match Router::Find(Verb verb, std::string_view path) const {
    const auto parts = SplitPath(path);
    Match match;
    for (const auto& route : routes_) {
        if (route.segments.size() != parts.size()) {
            continue;
        }
        std::vector<std::pair<std::string, std::string>> params;
        bool same = true;
        for (std::size_t i = 0; i < parts.size() && same; ++i) {
            const auto& want = route.segments[i];
            if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
                params.emplace_back(want.substr(1, want.size() - 2), parts[i]);
            } else {
                same = want == parts[i];
            }
        }
        if (!same) {
            continue;
        }
        if (route.verb == verb) {
            match.route = &route;
            match.params = std::move(params);
            return match;
        }
        match.path_known = true;
    }
    return match;
}

}  // namespace sn::http

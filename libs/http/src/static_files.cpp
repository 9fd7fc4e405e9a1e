#include "http/static_files.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <memory>
#include <utility>

namespace sn::http {
namespace {

constexpr std::string_view kLongLived = "public, max-age=31536000, immutable";
constexpr std::string_view kRevalidate = "no-cache";

struct File {
    std::string body;
    std::string_view content_type;
    std::string_view cache_control;
};

/// Only plain names become routes: no `{param}` patterns, no dot-only segments, no hidden files.
bool PlainSegment(std::string_view segment) noexcept {
    if (segment.empty() || segment.front() == '.') {
        return false;
    }
    return std::all_of(segment.begin(), segment.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == '-';
    });
}

std::string ReadAll(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

std::string_view ContentTypeOf(std::string_view file_name) noexcept {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 13> kTypes{{
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".webp", "image/webp"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
        {".webmanifest", "application/manifest+json"},
    }};
    for (const auto& [ext, type] : kTypes) {
        if (file_name.size() > ext.size() && file_name.ends_with(ext)) {
            return type;
        }
    }
    return "application/octet-stream";
}

std::size_t AddStaticFiles(Router& router, const std::filesystem::path& root, std::string_view immutable_dir) {
    std::error_code ec;
    if (!std::filesystem::is_directory(root, ec)) {
        return 0;
    }
    std::size_t added = 0;
    for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_symlink() || !it->is_regular_file()) {
            continue;
        }
        const auto relative = std::filesystem::relative(it->path(), root, ec).generic_string();
        std::string route;
        bool plain = true;
        for (const auto segment : SplitPath(relative)) {
            plain = plain && PlainSegment(segment);
            route.append("/").append(segment);
        }
        if (!plain || route.empty()) {
            continue;
        }
        const auto name = it->path().filename().string();
        const bool immutable = relative.starts_with(std::string(immutable_dir) + "/");
        auto file = std::make_shared<const File>(
            File{ReadAll(it->path()), ContentTypeOf(name), immutable ? kLongLived : kRevalidate});
        auto handler = [file](Context& ctx) -> boost::asio::awaitable<Response> {
            Response res{Status::ok, 11};
            res.set(beast_http::field::content_type, file->content_type);
            res.set(beast_http::field::cache_control, file->cache_control);
            res.set("X-Content-Type-Options", "nosniff");
            if (ctx.request.method() == Verb::head) {
                res.content_length(file->body.size());  // the length of what GET sends, no body
            } else {
                res.body() = file->body;
                res.prepare_payload();
            }
            co_return res;
        };
        const auto add = [&](const std::string& path) {
            router.Add(Verb::get, path, Access::kPublic, handler);
            router.Add(Verb::head, path, Access::kPublic, handler);
        };
        add(route);
        if (name == "index.html") {
            const auto folder = route.substr(0, route.size() - name.size());
            add(folder.empty() ? "/" : folder);
        }
        ++added;
    }
    return added;
}

}  // namespace sn::http

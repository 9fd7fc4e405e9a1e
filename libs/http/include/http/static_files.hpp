#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "http/router.hpp"

namespace sn::http {

/// The content type a file's name stands for ("application/octet-stream" when unknown).
[[nodiscard]] std::string_view ContentTypeOf(std::string_view file_name) noexcept;

/// Registers every regular file under `root` (read once, now) as a public GET (and HEAD) route of its own
/// path: `root/assets/app-1a2b.js` answers `/assets/app-1a2b.js`, an `index.html` also answers
/// its folder (`/`, `/docs`). Nothing but these exact paths is served, so no request can reach
/// another file (`..`, links and names that are not plain `[A-Za-z0-9._-]` are never routes);
/// an unknown path stays the router's 404. Files under `immutable_dir` (a bundler's hashed names)
/// are cached for a year, the rest revalidated on every use (`no-cache`). Returns the files added;
/// a missing `root` adds none.
std::size_t AddStaticFiles(Router& router, const std::filesystem::path& root,
                           std::string_view immutable_dir = "assets");

}  // namespace sn::http

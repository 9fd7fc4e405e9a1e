#pragma once

#include <boost/json/object.hpp>
#include <string_view>

#include "feed/feed_service.hpp"
#include "http/router.hpp"
#include "pg/pool.hpp"
#include "storage/post_repository.hpp"

namespace backend {

/// Longest post text, in characters.
inline constexpr std::size_t kMaxPostChars = 10'000;

/// A parsed `PUT /post/update` body.
struct PostEdit {
    std::string id;
    std::string text;
};

/// Parses and validates bodies (HttpError 400 naming the field).
[[nodiscard]] std::string ParsePostText(std::string_view body);
[[nodiscard]] PostEdit ParsePostEdit(std::string_view body);
/// The contract's Post object (+ created_at).
[[nodiscard]] boost::json::object ToJson(const Post& post, boost::json::storage_ptr storage = {});

/// /post/create, /post/update, /post/delete/{id}, /post/get/{id} and /post/feed.
void AddPostRoutes(sn::http::Router& router, sn::pg::Pool& db, feed::FeedService& feed);

}  // namespace backend

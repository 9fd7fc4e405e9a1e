#pragma once

#include <string_view>

#include "common/json_writer.hpp"
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
void WriteJson(sn::JsonWriter& json, const Post& post);

/// /post/create, /post/update, /post/delete/{id}, /post/get/{id} and /post/feed.
void AddPostRoutes(sn::http::Router& router, sn::pg::Pool& db, feed::FeedService& feed);

}  // namespace backend

#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/types.hpp"

/// Validation of client input; every failure throws HttpError(400) with a message naming the field.
namespace sn::http::input {

/// The body as a JSON object; malformed JSON, invalid UTF-8 or a non-object is a 400.
[[nodiscard]] boost::json::object ParseObject(std::string_view body);

/// Number of Unicode code points in valid UTF-8 text.
[[nodiscard]] std::size_t Utf8Length(std::string_view text) noexcept;

/// A required string field of min..max characters.
[[nodiscard]] std::string RequiredString(const boost::json::object& obj, std::string_view field,
                                         std::size_t min_chars, std::size_t max_chars);
/// An optional string field (absent or null gives the fallback) of at most max characters.
[[nodiscard]] std::string OptionalString(const boost::json::object& obj, std::string_view field,
                                         std::size_t max_chars, std::string_view fallback = "");

/// A UUID from a path segment, query or field, normalised to lower case.
[[nodiscard]] std::string Uuid(std::string_view value, std::string_view field);

/// A `YYYY-MM-DD` calendar date between 1900-01-01 and today.
[[nodiscard]] std::string BirthDate(std::string_view value, std::string_view field);

/// An integer query parameter in min..max, or the fallback when absent.
[[nodiscard]] std::int64_t QueryInt(const Context& ctx, std::string_view name, std::int64_t fallback,
                                    std::int64_t min, std::int64_t max);

/// A required query string of min..max characters.
[[nodiscard]] std::string QueryString(const Context& ctx, std::string_view name, std::size_t min_chars,
                                      std::size_t max_chars);

}  // namespace sn::http::input

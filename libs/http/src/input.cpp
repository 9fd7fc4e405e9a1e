#include "http/input.hpp"

#include <boost/json/parse.hpp>
#include <charconv>
#include <chrono>

#include "common/ids.hpp"

namespace sn::http::input {
namespace {

[[noreturn]] void Reject(std::string message) { throw HttpError(Status::bad_request, message); }

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF (what PostgreSQL accepts).
bool IsValidUtf8(std::string_view text) noexcept {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t extra = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            extra = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + extra >= text.size()) {
            return false;
        }
        for (std::size_t k = 1; k <= extra; ++k) {
            const auto cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((extra == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF))) {
            return false;
        }
        i += extra + 1;
    }
    return true;
}

std::string CheckedLength(std::string_view text, std::string_view field, std::size_t min_chars,
                          std::size_t max_chars) {
    if (!IsValidUtf8(text) || text.find('\0') != std::string_view::npos) {
        Reject(std::string(field) + " must be valid UTF-8 text without NUL characters");
    }
    const auto length = Utf8Length(text);
    if (length < min_chars || length > max_chars) {
        Reject(std::string(field) + " must be " + std::to_string(min_chars) + " to " + std::to_string(max_chars) +
               " characters long");
    }
    return std::string(text);
}

}  // namespace

boost::json::object ParseObject(std::string_view body) {
    boost::system::error_code ec;
    auto value = boost::json::parse(body, ec);
    if (ec) {
        Reject("request body is not valid JSON: " + ec.message());
    }
    if (!value.is_object()) {
        Reject("request body must be a JSON object");
    }
    return std::move(value.as_object());
}

std::size_t Utf8Length(std::string_view text) noexcept {
    std::size_t count = 0;
    for (const char c : text) {
        // Count every byte that does not continue a multi-byte sequence.
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
            ++count;
        }
    }
    return count;
}

std::string RequiredString(const boost::json::object& obj, std::string_view field, std::size_t min_chars,
                           std::size_t max_chars) {
    const auto* value = obj.if_contains(field);
    if (value == nullptr || value->is_null()) {
        Reject(std::string(field) + " is required");
    }
    if (!value->is_string()) {
        Reject(std::string(field) + " must be a string");
    }
    return CheckedLength(value->get_string(), field, min_chars, max_chars);
}

std::string OptionalString(const boost::json::object& obj, std::string_view field, std::size_t max_chars,
                           std::string_view fallback) {
    const auto* value = obj.if_contains(field);
    if (value == nullptr || value->is_null()) {
        return std::string(fallback);
    }
    if (!value->is_string()) {
        Reject(std::string(field) + " must be a string");
    }
    return CheckedLength(value->get_string(), field, 0, max_chars);
}

std::string Uuid(std::string_view value, std::string_view field) {
    if (!ids::IsUuid(value)) {
        Reject(std::string(field) + " must be a UUID");
    }
    return ids::NormalizeUuid(value);
}

std::string BirthDate(std::string_view value, std::string_view field) {
    const auto bad = [&] { Reject(std::string(field) + " must be a date YYYY-MM-DD between 1900-01-01 and today"); };
    if (value.size() != 10 || value[4] != '-' || value[7] != '-') {
        bad();
    }
    const auto number = [&](std::size_t pos, std::size_t len) {
        int n = 0;
        const auto* first = value.data() + pos;
        const auto [end, ec] = std::from_chars(first, first + len, n);
        if (ec != std::errc{} || end != first + len) {
            bad();
        }
        return n;
    };
    const std::chrono::year_month_day date{std::chrono::year{number(0, 4)},
                                           std::chrono::month{static_cast<unsigned>(number(5, 2))},
                                           std::chrono::day{static_cast<unsigned>(number(8, 2))}};
    const std::chrono::year_month_day today{std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
    if (!date.ok() || date < std::chrono::year_month_day{std::chrono::year{1900}, std::chrono::January,
                                                         std::chrono::day{1}} ||
        date > today) {
        bad();
    }
    return std::string(value);
}

std::int64_t QueryInt(const Context& ctx, std::string_view name, std::int64_t fallback, std::int64_t min,
                      std::int64_t max) {
    const auto text = ctx.Query(name);
    if (!text) {
        return fallback;
    }
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc{} || end != text->data() + text->size() || value < min || value > max) {
        Reject(std::string(name) + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    }
    return value;
}

std::string QueryString(const Context& ctx, std::string_view name, std::size_t min_chars, std::size_t max_chars) {
    const auto text = ctx.Query(name);
    if (!text) {
        Reject(std::string(name) + " is required");
    }
    return CheckedLength(*text, name, min_chars, max_chars);
}

}  // namespace sn::http::input

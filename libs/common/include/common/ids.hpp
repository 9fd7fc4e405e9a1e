#pragma once

#include <string>
#include <string_view>

/// Identifiers: UUIDs for users, messages, posts and events; request ids for tracing.
namespace sn::ids {

/// A new time-ordered UUID (version 7, RFC 9562), lower-case canonical text. Ordering by it
/// orders by creation time, which keeps B-tree inserts at the right edge of the index.
[[nodiscard]] std::string NewUuid();

/// True for the canonical 36-character form (any version, either case).
[[nodiscard]] bool IsUuid(std::string_view text) noexcept;

/// Lower-cases a UUID that IsUuid accepted.
[[nodiscard]] std::string NormalizeUuid(std::string_view text);

/// True when a client-sent X-Request-ID can be carried on as is: 1..128 of [A-Za-z0-9._-].
[[nodiscard]] bool IsValidRequestId(std::string_view text) noexcept;

/// A fresh request id (32 hex characters).
[[nodiscard]] std::string NewRequestId();

}  // namespace sn::ids

#pragma once

#include <stdexcept>

namespace sn {

/// A dependency (database, broker, another service) is down or too slow; callers may retry.
/// The HTTP layer answers 503 with Retry-After.
class UnavailableError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace sn

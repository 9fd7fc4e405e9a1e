#pragma once

#include <algorithm>
#include <chrono>

namespace sn::amqp::detail {

/// Doubling delays between retries, capped, back to the start after a success.
class Backoff {
   public:
    constexpr Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max) noexcept
        : initial_(initial), max_(max), next_(initial) {}

    [[nodiscard]] std::chrono::milliseconds Next() noexcept {
        const auto delay = next_;
        next_ = std::min(next_ * 2, max_);
        return delay;
    }
    void Reset() noexcept { next_ = initial_; }

   private:
    std::chrono::milliseconds initial_;
    std::chrono::milliseconds max_;
    std::chrono::milliseconds next_;
};

}  // namespace sn::amqp::detail

#include "auth/hash_admission.hpp"

namespace sn::auth {

std::optional<HashAdmission::Ticket> HashAdmission::TryEnter() noexcept {
    auto held = in_line_.load(std::memory_order_relaxed);
    while (held < limit_) {
        if (in_line_.compare_exchange_weak(held, held + 1, std::memory_order_relaxed)) {
            return std::optional<Ticket>(std::in_place, in_line_);
        }
    }
    return std::nullopt;
}

}  // namespace sn::auth

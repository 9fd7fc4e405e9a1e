#pragma once

#include <atomic>
#include <cstddef>
#include <optional>

namespace sn::auth {

/// Bounds the password hashes running or waiting for a core. Each Argon2id hash holds 19 MiB and
/// tens of milliseconds of CPU; past the bound a login or registration is refused at once (the
/// caller answers 503) instead of joining a line that grows with the flood.
class HashAdmission {
   public:
    /// A place in line, given back when destroyed.
    class Ticket {
       public:
        explicit Ticket(std::atomic<std::size_t>& in_line) noexcept : in_line_(&in_line) {}
        ~Ticket() {
            if (in_line_ != nullptr) {
                in_line_->fetch_sub(1, std::memory_order_relaxed);
            }
        }
        Ticket(Ticket&& other) noexcept : in_line_(other.in_line_) { other.in_line_ = nullptr; }
        Ticket(const Ticket&) = delete;
        Ticket& operator=(const Ticket&) = delete;
        Ticket& operator=(Ticket&&) = delete;

       private:
        std::atomic<std::size_t>* in_line_;
    };

    /// `limit`: hashes running or waiting at once (at least 1).
    explicit HashAdmission(std::size_t limit) noexcept : limit_(limit > 0 ? limit : 1) {}
    HashAdmission(const HashAdmission&) = delete;
    HashAdmission& operator=(const HashAdmission&) = delete;

    /// A ticket when fewer than `limit` hold one, else nullopt.
    [[nodiscard]] std::optional<Ticket> TryEnter() noexcept;
    [[nodiscard]] std::size_t InLine() const noexcept { return in_line_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::size_t Limit() const noexcept { return limit_; }

   private:
    const std::size_t limit_;
    std::atomic<std::size_t> in_line_{0};
};

}  // namespace sn::auth

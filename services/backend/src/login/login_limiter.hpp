#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/metrics.hpp"
#include "redis/pool.hpp"

namespace backend {

/// How many failed logins an account and a client address may have in one window.
struct LoginLimits {
    std::int64_t per_account = 10;
    std::int64_t per_address = 100;
    std::chrono::seconds window{900};
};

/// Failed logins counted in fixed windows, per account and per client address: past a limit every
/// try (the right password too) is refused with 429 until the window ends. The counts live in
/// Redis, so every backend copy sees the same ones; each copy also keeps its own, which alone decide
/// while Redis cannot be reached (then each copy allows the limits by itself: with N copies, N times
/// as many tries, never an unlimited number).
class LoginLimiter {
   public:
    LoginLimiter(sn::redis::Pool& redis, LoginLimits limits, sn::metrics::Registry& metrics);
    LoginLimiter(const LoginLimiter&) = delete;
    LoginLimiter& operator=(const LoginLimiter&) = delete;

    /// How long until this account and address may try again; nullopt: they may now.
    boost::asio::awaitable<std::optional<std::chrono::seconds>> Blocked(const std::string& account,
                                                                        const std::string& address);
    /// Counts a failed try (a wrong password or an unknown account).
    boost::asio::awaitable<void> Failed(const std::string& account, const std::string& address);
    /// A right password clears the account's failures (not the address's).
    boost::asio::awaitable<void> Succeeded(const std::string& account);

    [[nodiscard]] static std::string AccountKey(const std::string& account) { return "login:fail:account:" + account; }
    [[nodiscard]] static std::string AddressKey(const std::string& address) { return "login:fail:address:" + address; }

   private:
    /// This copy's own counts: the fallback while Redis is down, bounded in size.
    class Local {
       public:
        /// The count and the time left of `key`'s window (0 and zero when it has none).
        [[nodiscard]] std::pair<std::int64_t, std::chrono::milliseconds> Get(const std::string& key);
        void Add(const std::string& key, std::chrono::seconds window);
        void Erase(const std::string& key);

        static constexpr std::size_t kMaxKeys = 100'000;

       private:
        struct Window {
            std::int64_t count = 0;
            std::chrono::steady_clock::time_point ends;
        };
        std::mutex mutex_;
        std::unordered_map<std::string, Window> windows_;
    };

    /// The longer wait of the two keys over their limits, if any.
    [[nodiscard]] std::optional<std::chrono::seconds> Wait(std::int64_t account_count,
                                                           std::chrono::milliseconds account_left,
                                                           std::int64_t address_count,
                                                           std::chrono::milliseconds address_left) const;

    sn::redis::Pool& redis_;
    const LoginLimits limits_;
    Local local_;
    sn::metrics::Counter& refused_account_;
    sn::metrics::Counter& refused_address_;
    sn::metrics::Counter& redis_unreachable_;
};

}  // namespace backend

#include "login/login_limiter.hpp"

#include <algorithm>

#include "common/log.hpp"

namespace backend {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::int64_t CountOf(const sn::redis::Reply& reply) {
    if (reply.type == sn::redis::Reply::Type::kInteger) {
        return reply.integer;
    }
    if (reply.type == sn::redis::Reply::Type::kString) {
        try {
            return std::stoll(reply.str);
        } catch (const std::exception&) {
            return 0;
        }
    }
    return 0;
}

milliseconds LeftOf(const sn::redis::Reply& reply) {
    return milliseconds(reply.type == sn::redis::Reply::Type::kInteger ? std::max(0LL, reply.integer) : 0);
}

}  // namespace

std::pair<std::int64_t, milliseconds> LoginLimiter::Local::Get(const std::string& key) {
    const std::lock_guard lock(mutex_);
    const auto found = windows_.find(key);
    const auto now = std::chrono::steady_clock::now();
    if (found == windows_.end() || found->second.ends <= now) {
        return {0, milliseconds(0)};
    }
    return {found->second.count, std::chrono::duration_cast<milliseconds>(found->second.ends - now)};
}

void LoginLimiter::Local::Add(const std::string& key, seconds window) {
    const std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (windows_.size() >= kMaxKeys) {
        std::erase_if(windows_, [now](const auto& entry) { return entry.second.ends <= now; });
        if (windows_.size() >= kMaxKeys) {
            windows_.clear();  // a flood of distinct keys: memory stays bounded, Redis still counts
        }
    }
    auto& entry = windows_[key];
    if (entry.ends <= now) {
        entry = Window{0, now + window};
    }
    ++entry.count;
}

void LoginLimiter::Local::Erase(const std::string& key) {
    const std::lock_guard lock(mutex_);
    windows_.erase(key);
}

LoginLimiter::LoginLimiter(sn::redis::Pool& redis, LoginLimits limits, sn::metrics::Registry& metrics)
    : redis_(redis),
      limits_(limits),
      refused_account_(metrics.GetCounter("login_refused_total", "Logins refused with 429 after too many failures.",
                                          {{"reason", "account"}})),
      refused_address_(metrics.GetCounter("login_refused_total", "Logins refused with 429 after too many failures.",
                                          {{"reason", "address"}})),
      redis_unreachable_(metrics.GetCounter("login_limiter_redis_errors_total",
                                            "Login limiter calls that fell back to this copy's own counts.")) {}

std::optional<seconds> LoginLimiter::Wait(std::int64_t account_count, milliseconds account_left,
                                          std::int64_t address_count, milliseconds address_left) const {
    milliseconds wait(0);
    if (account_count >= limits_.per_account) {
        wait = std::max(wait, account_left);
        refused_account_.Add();
    }
    if (address_count >= limits_.per_address) {
        wait = std::max(wait, address_left);
        refused_address_.Add();
    }
    if (account_count < limits_.per_account && address_count < limits_.per_address) {
        return std::nullopt;
    }
    // Whole seconds, rounded up, at least one: the header has no smaller unit.
    return std::max(seconds(1), std::chrono::ceil<seconds>(wait));
}

boost::asio::awaitable<std::optional<seconds>> LoginLimiter::Blocked(const std::string& account,
                                                                     const std::string& address) {
    const auto account_key = AccountKey(account);
    const auto address_key = AddressKey(address);
    auto [account_count, account_left] = local_.Get(account_key);
    auto [address_count, address_left] = local_.Get(address_key);
    try {
        const auto replies = co_await redis_.Run([&](sn::redis::Connection& redis) {
            return redis.Pipeline(
                {{"GET", account_key}, {"PTTL", account_key}, {"GET", address_key}, {"PTTL", address_key}});
        });
        if (replies.size() == 4) {
            if (CountOf(replies[0]) > account_count) {
                account_count = CountOf(replies[0]);
                account_left = LeftOf(replies[1]);
            }
            if (CountOf(replies[2]) > address_count) {
                address_count = CountOf(replies[2]);
                address_left = LeftOf(replies[3]);
            }
        }
    } catch (const std::exception& e) {
        redis_unreachable_.Add();
        sn::log::Warn("login limiter: redis unreachable, using this copy's counts", {{"error", e.what()}});
    }
    co_return Wait(account_count, account_left, address_count, address_left);
}

boost::asio::awaitable<void> LoginLimiter::Failed(const std::string& account, const std::string& address) {
    const auto account_key = AccountKey(account);
    const auto address_key = AddressKey(address);
    local_.Add(account_key, limits_.window);
    local_.Add(address_key, limits_.window);
    const auto window = std::to_string(limits_.window.count());
    try {
        // The window starts with the first failure (SET NX EX), then counts up to its end.
        (void)co_await redis_.Run([&](sn::redis::Connection& redis) {
            return redis.Pipeline({{"SET", account_key, "0", "EX", window, "NX"},
                                   {"INCR", account_key},
                                   {"SET", address_key, "0", "EX", window, "NX"},
                                   {"INCR", address_key}});
        });
    } catch (const std::exception& e) {
        redis_unreachable_.Add();
        sn::log::Warn("login limiter: redis unreachable, using this copy's counts", {{"error", e.what()}});
    }
}

boost::asio::awaitable<void> LoginLimiter::Succeeded(const std::string& account) {
    const auto account_key = AccountKey(account);
    local_.Erase(account_key);
    try {
        (void)co_await redis_.Run([&](sn::redis::Connection& redis) { return redis.Run({"DEL", account_key}); });
    } catch (const std::exception& e) {
        redis_unreachable_.Add();
        sn::log::Warn("login limiter: redis unreachable, using this copy's counts", {{"error", e.what()}});
    }
}

}  // namespace backend

#include "common/ids.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <stdexcept>

namespace sn::ids {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void EnsureSodium() {
    static const bool ready = sodium_init() >= 0;
    if (!ready) {
        throw std::runtime_error("libsodium failed to initialise");
    }
}

bool IsHex(char c) noexcept { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

}  // namespace

std::string NewUuid() {
    EnsureSodium();
    std::array<std::uint8_t, 16> bytes{};
    randombytes_buf(bytes.data(), bytes.size());
    // 48 bits of milliseconds, then 12 bits of the millisecond's fraction in place of random bits
    // (RFC 9562, 6.2, method 3), never less than the last id's plus one: ids made by one process
    // are strictly increasing, so two messages sent in the same millisecond list in order.
    static std::atomic<std::uint64_t> last{0};
    const auto micros = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    const std::uint64_t now = (micros / 1000) << 12 | ((micros % 1000) * 4096 / 1000);
    std::uint64_t previous = last.load(std::memory_order_relaxed);
    std::uint64_t stamp = 0;
    do {
        stamp = std::max(now, previous + 1);
    } while (!last.compare_exchange_weak(previous, stamp, std::memory_order_relaxed));
    const std::uint64_t millis = stamp >> 12;
    for (int i = 0; i < 6; ++i) {
        bytes[i] = static_cast<std::uint8_t>(millis >> (40 - 8 * i));
    }
    bytes[6] = static_cast<std::uint8_t>(0x70 | ((stamp >> 8) & 0x0F));
    bytes[7] = static_cast<std::uint8_t>(stamp & 0xFF);
    bytes[8] = static_cast<std::uint8_t>(0x80 | (bytes[8] & 0x3F));
    std::string text;
    text.reserve(36);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            text.push_back('-');
        }
        text.push_back(kHex[bytes[i] >> 4]);
        text.push_back(kHex[bytes[i] & 0x0F]);
    }
    return text;
}

bool IsUuid(std::string_view text) noexcept {
    if (text.size() != 36) {
        return false;
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
        const bool dash_place = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash_place ? text[i] != '-' : !IsHex(text[i])) {
            return false;
        }
    }
    return true;
}

std::string NormalizeUuid(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

bool IsValidRequestId(std::string_view text) noexcept {
    if (text.empty() || text.size() > 128) {
        return false;
    }
    for (const char c : text) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-')) {
            return false;
        }
    }
    return true;
}

std::string NewRequestId() {
    EnsureSodium();
    std::array<std::uint8_t, 16> bytes{};
    randombytes_buf(bytes.data(), bytes.size());
    std::string text;
    text.reserve(32);
    for (const auto b : bytes) {
        text.push_back(kHex[b >> 4]);
        text.push_back(kHex[b & 0x0F]);
    }
    return text;
}

}  // namespace sn::ids

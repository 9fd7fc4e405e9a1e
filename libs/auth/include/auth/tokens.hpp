#pragma once

#include <sodium.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

/// Identity: Ed25519-signed bearer tokens every service verifies locally, and Argon2id passwords.
namespace sn::auth {

struct KeyPair {
    std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> public_key{};
    std::array<unsigned char, crypto_sign_SECRETKEYBYTES> secret_key{};
};

/// Reads `ed25519.key` from dir, or creates it (mode 0600) when absent. A file lock makes the
/// services that start together agree on one key pair.
[[nodiscard]] KeyPair LoadOrCreateKeys(const std::filesystem::path& dir);

/// Issues tokens `<base64url(payload)>.<base64url(signature)>`, payload `{"sub":..., "exp":...}`.
class TokenSigner {
   public:
    TokenSigner(const KeyPair& keys, std::chrono::seconds ttl) : keys_(keys), ttl_(ttl) {}
    [[nodiscard]] std::string Issue(std::string_view user_id,
                                    std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;

   private:
    KeyPair keys_;
    std::chrono::seconds ttl_;
};

/// Checks a token's signature and expiry; returns its subject (a user id) when both hold.
/// Thread-safe. A client sends the same token with every request and an Ed25519 check costs tens
/// of microseconds, so tokens whose signature held are remembered (at most kMaxRemembered, then
/// forgotten all at once); the expiry is checked on every call.
class TokenVerifier {
   public:
    static constexpr std::size_t kMaxRemembered = 20'000;  // ~5 MiB at most

    explicit TokenVerifier(const KeyPair& keys) : public_key_(keys.public_key) {}
    [[nodiscard]] std::optional<std::string> Verify(
        std::string_view token, std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;

   private:
    struct Claims {
        std::string subject;
        std::int64_t expires_at = 0;  // seconds since the epoch
    };
    [[nodiscard]] std::optional<Claims> CheckSignature(std::string_view token) const;

    std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> public_key_;
    mutable std::mutex mutex_;
    mutable std::unordered_map<std::string, Claims> remembered_;
};

/// An Argon2id hash in the PHC string format (`$argon2id$...`), salted. Costs: 2 passes over
/// 19 MiB (OWASP's minimum for Argon2id), so a login costs tens of milliseconds and little memory.
[[nodiscard]] std::string HashPassword(std::string_view password);
[[nodiscard]] bool VerifyPassword(const std::string& hash, std::string_view password);

}  // namespace sn::auth

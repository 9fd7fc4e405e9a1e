#include "auth/tokens.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <semaphore>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/ids.hpp"

namespace sn::auth {
namespace {

constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
constexpr unsigned long long kOpsLimit = 2;
constexpr std::size_t kMemLimit = 19 * 1024 * 1024;

/// Each hash holds kMemLimit while it runs and is pure CPU: more at once than there are cores
/// only adds memory (eight registrations at once took the backend to 150 MiB), so they queue.
class HashSlot {
   public:
    HashSlot() { Slots().acquire(); }
    ~HashSlot() { Slots().release(); }
    HashSlot(const HashSlot&) = delete;
    HashSlot& operator=(const HashSlot&) = delete;

   private:
    static std::counting_semaphore<>& Slots() {
        static std::counting_semaphore<> slots(std::max<std::ptrdiff_t>(1, std::thread::hardware_concurrency()));
        return slots;
    }
};

void EnsureSodium() {
    if (sodium_init() < 0) {
        throw std::runtime_error("libsodium failed to initialise");
    }
}

std::string ToBase64(const unsigned char* data, std::size_t size) {
    std::string out(sodium_base64_encoded_len(size, kVariant), '\0');
    sodium_bin2base64(out.data(), out.size(), data, size, kVariant);
    out.resize(out.size() - 1);  // the terminating NUL
    return out;
}

std::optional<std::vector<unsigned char>> FromBase64(std::string_view text) {
    if (text.empty()) {
        return std::vector<unsigned char>{};  // an empty vector's data() is null, which sodium must not get
    }
    std::vector<unsigned char> out(text.size());
    std::size_t size = 0;
    if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &size, nullptr, kVariant) != 0) {
        return std::nullopt;
    }
    out.resize(size);
    return out;
}

/// An exclusive flock held for the object's lifetime.
class FileLock {
   public:
    explicit FileLock(const std::filesystem::path& path) : fd_(::open(path.c_str(), O_CREAT | O_RDWR, 0600)) {
        if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0) {
            throw std::runtime_error("cannot lock " + path.string());
        }
    }
    ~FileLock() { ::close(fd_); }
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

   private:
    int fd_;
};

}  // namespace

KeyPair LoadOrCreateKeys(const std::filesystem::path& dir) {
    EnsureSodium();
    std::filesystem::create_directories(dir);
    const FileLock lock(dir / ".lock");
    const auto path = dir / "ed25519.key";
    KeyPair keys;
    if (std::filesystem::exists(path)) {
        std::ifstream in(path, std::ios::binary);
        in.read(reinterpret_cast<char*>(keys.secret_key.data()), keys.secret_key.size());
        if (in.gcount() != static_cast<std::streamsize>(keys.secret_key.size())) {
            throw std::runtime_error(path.string() + " is not an Ed25519 secret key");
        }
        crypto_sign_ed25519_sk_to_pk(keys.public_key.data(), keys.secret_key.data());
        return keys;
    }
    crypto_sign_keypair(keys.public_key.data(), keys.secret_key.data());
    const auto temp = dir / "ed25519.key.tmp";
    {
        const int fd = ::open(temp.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
        if (fd < 0) {
            throw std::runtime_error("cannot write " + temp.string());
        }
        const auto written = ::write(fd, keys.secret_key.data(), keys.secret_key.size());
        ::fsync(fd);
        ::close(fd);
        if (written != static_cast<ssize_t>(keys.secret_key.size())) {
            throw std::runtime_error("cannot write " + temp.string());
        }
    }
    std::filesystem::rename(temp, path);
    return keys;
}

std::string TokenSigner::Issue(std::string_view user_id, std::chrono::system_clock::time_point now) const {
    const auto exp = std::chrono::duration_cast<std::chrono::seconds>((now + ttl_).time_since_epoch()).count();
    const std::string payload = boost::json::serialize(boost::json::object{{"sub", user_id}, {"exp", exp}});
    const std::string head = ToBase64(reinterpret_cast<const unsigned char*>(payload.data()), payload.size());
    std::array<unsigned char, crypto_sign_BYTES> signature{};
    crypto_sign_detached(signature.data(), nullptr, reinterpret_cast<const unsigned char*>(head.data()), head.size(),
                         keys_.secret_key.data());
    return head + "." + ToBase64(signature.data(), signature.size());
}

std::optional<std::string> TokenVerifier::Verify(std::string_view token,
                                                 std::chrono::system_clock::time_point now) const {
    std::optional<Claims> claims;
    {
        const std::lock_guard lock(mutex_);
        if (const auto it = remembered_.find(std::string(token)); it != remembered_.end()) {
            claims = it->second;
        }
    }
    if (!claims) {
        claims = CheckSignature(token);
        if (!claims) {
            return std::nullopt;
        }
        const std::lock_guard lock(mutex_);
        if (remembered_.size() >= kMaxRemembered) {
            remembered_.clear();
        }
        remembered_.emplace(token, *claims);
    }
    if (claims->expires_at <= std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count()) {
        return std::nullopt;
    }
    return std::move(claims->subject);
}

std::optional<TokenVerifier::Claims> TokenVerifier::CheckSignature(std::string_view token) const {
    const auto dot = token.find('.');
    if (dot == std::string_view::npos || token.size() > 1024) {
        return std::nullopt;
    }
    const auto head = token.substr(0, dot);
    const auto signature = FromBase64(token.substr(dot + 1));
    if (!signature || signature->size() != crypto_sign_BYTES ||
        crypto_sign_verify_detached(signature->data(), reinterpret_cast<const unsigned char*>(head.data()), head.size(),
                                    public_key_.data()) != 0) {
        return std::nullopt;
    }
    const auto payload = FromBase64(head);
    if (!payload) {
        return std::nullopt;
    }
    boost::system::error_code ec;
    const auto json =
        boost::json::parse(std::string_view(reinterpret_cast<const char*>(payload->data()), payload->size()), ec);
    if (ec || !json.is_object()) {
        return std::nullopt;
    }
    const auto* sub = json.as_object().if_contains("sub");
    const auto* exp = json.as_object().if_contains("exp");
    if (sub == nullptr || !sub->is_string() || !ids::IsUuid(sub->get_string()) || exp == nullptr || !exp->is_int64()) {
        return std::nullopt;
    }
    return Claims{std::string(sub->get_string()), exp->get_int64()};
}

std::string HashPassword(std::string_view password) {
    EnsureSodium();
    std::array<char, crypto_pwhash_STRBYTES> out{};
    const HashSlot slot;
    if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), kOpsLimit, kMemLimit,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        throw std::runtime_error("password hashing ran out of memory");
    }
    return out.data();
}

bool VerifyPassword(const std::string& hash, std::string_view password) {
    EnsureSodium();
    const HashSlot slot;
    return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

}  // namespace sn::auth

// Bearer tokens as every service verifies them (auth::TokenVerifier), two ways:
// first byte even: the rest is the token as a client sends it (after `Bearer `);
// first byte odd: the rest is a payload that the harness signs with the services' key, so the
// claims parser behind the signature check (base64url, JSON, `sub`, `exp`) is reached too.
// Findings besides the sanitizers': a subject that is not a UUID, a token that verifies differently
// the second time (from the verifier's memory), or an issued token that does not round-trip.
#include <sodium.h>

#include <cstdint>

#include "common/ids.hpp"
#include "fuzz_support.hpp"

namespace {

using sn::fuzz::Fail;

std::string Base64Url(std::string_view bytes) {
    constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    std::string out(sodium_base64_encoded_len(bytes.size(), kVariant), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                      kVariant);
    out.resize(out.size() - 1);
    return out;
}

struct Keys {
    sn::auth::KeyPair pair = sn::fuzz::FixedKeys();
    sn::auth::TokenSigner signer{pair, std::chrono::hours(1)};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static auto* keys = new Keys();
    if (size < 1) {
        return 0;
    }
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
    // A fresh verifier each time: its memory of good tokens would hide the parser after the first.
    const sn::auth::TokenVerifier verifier(keys->pair);
    std::string token;
    if (data[0] % 2 == 0) {
        token = std::string(rest);
    } else {
        const auto head = Base64Url(rest);
        std::array<unsigned char, crypto_sign_BYTES> signature{};
        crypto_sign_detached(signature.data(), nullptr, reinterpret_cast<const unsigned char*>(head.data()),
                             head.size(), keys->pair.secret_key.data());
        token =
            head + "." + Base64Url(std::string_view(reinterpret_cast<const char*>(signature.data()), signature.size()));
    }
    if (const auto subject = verifier.Verify(token, now)) {
        if (!sn::ids::IsUuid(*subject)) {
            Fail("token subject is not a UUID", *subject);
        }
        if (verifier.Verify(token, now) != subject) {  // now from the verifier's memory of good tokens
            Fail("a remembered token verifies differently", token);
        }
    }
    // What the signer issues for a UUID the input names verifies to that UUID.
    if (rest.size() >= 36 && sn::ids::IsUuid(rest.substr(0, 36))) {
        const auto subject = std::string(rest.substr(0, 36));
        const auto issued = keys->signer.Issue(subject, now);
        if (verifier.Verify(issued, now) != subject) {
            Fail("issued token does not verify", issued);
        }
    }
    return 0;
}

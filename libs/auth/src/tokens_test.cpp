#include "auth/tokens.hpp"

#include <gtest/gtest.h>

#include "common/ids.hpp"

namespace sn::auth {
namespace {

class TokensTest : public ::testing::Test {
   protected:
    TokensTest() : dir_(std::filesystem::temp_directory_path() / ("keys_" + ids::NewRequestId())) {
        keys_ = LoadOrCreateKeys(dir_);
    }
    ~TokensTest() override { std::filesystem::remove_all(dir_); }

    std::filesystem::path dir_;
    KeyPair keys_;
    const std::string user_ = "0190f3a4-1111-7000-8000-000000000001";
};

TEST_F(TokensTest, KeysPersistAcrossLoads) {
    const auto again = LoadOrCreateKeys(dir_);
    EXPECT_EQ(again.public_key, keys_.public_key);
    EXPECT_EQ(std::filesystem::status(dir_ / "ed25519.key").permissions() & std::filesystem::perms::others_read,
              std::filesystem::perms::none);
}

TEST_F(TokensTest, IssuedTokenVerifiesToItsSubject) {
    const TokenSigner signer(keys_, std::chrono::hours(1));
    const TokenVerifier verifier(keys_);
    EXPECT_EQ(verifier.Verify(signer.Issue(user_)), user_);
}

TEST_F(TokensTest, ExpiredTokenIsRefused) {
    const TokenSigner signer(keys_, std::chrono::seconds(60));
    const TokenVerifier verifier(keys_);
    const auto now = std::chrono::system_clock::now();
    const auto token = signer.Issue(user_, now);
    EXPECT_TRUE(verifier.Verify(token, now + std::chrono::seconds(59)));
    EXPECT_FALSE(verifier.Verify(token, now + std::chrono::seconds(60)));
}

TEST_F(TokensTest, RememberedTokenStillExpiresAndItsForgeriesAreRefused) {
    const TokenSigner signer(keys_, std::chrono::seconds(60));
    const TokenVerifier verifier(keys_);
    const auto now = std::chrono::system_clock::now();
    const auto token = signer.Issue(user_, now);
    ASSERT_EQ(verifier.Verify(token, now), user_);  // remembered from here on
    EXPECT_EQ(verifier.Verify(token, now), user_);
    auto forged = token;
    auto& c = forged[token.find('.') + 5];
    c = c == 'A' ? 'B' : 'A';
    EXPECT_FALSE(verifier.Verify(forged, now));
    EXPECT_FALSE(verifier.Verify(token, now + std::chrono::seconds(60)));
}

// Found by fuzz/http_fuzz (`Authorization: Bearer x.`): an empty part reached libsodium as a null
// pointer, which UBSan reports (the sanitizer run of ctest fails on it without the fix).
TEST_F(TokensTest, TokensWithAnEmptyPartAreRefused) {
    const TokenVerifier verifier(keys_);
    for (const auto* token : {".", "abc.", ".abc", "..", "eyJzdWIiOiJ4In0."}) {
        EXPECT_FALSE(verifier.Verify(token)) << token;
    }
}

TEST_F(TokensTest, ForgedTokensAreRefused) {
    const TokenSigner signer(keys_, std::chrono::hours(1));
    const TokenVerifier verifier(keys_);
    auto token = signer.Issue(user_);
    const auto dot = token.find('.');

    auto flipped_sig = token;
    flipped_sig[dot + 5] = flipped_sig[dot + 5] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(verifier.Verify(flipped_sig));

    const auto other = TokenSigner(keys_, std::chrono::hours(1)).Issue("0190f3a4-1111-7000-8000-000000000002");
    EXPECT_FALSE(verifier.Verify(other.substr(0, other.find('.')) + token.substr(dot)));

    const auto stranger_dir = dir_ / "other";
    const TokenSigner stranger(LoadOrCreateKeys(stranger_dir), std::chrono::hours(1));
    EXPECT_FALSE(verifier.Verify(stranger.Issue(user_)));

    EXPECT_FALSE(verifier.Verify(""));
    EXPECT_FALSE(verifier.Verify("garbage"));
    EXPECT_FALSE(verifier.Verify("a.b.c"));
}

TEST(Passwords, Argon2idHashVerifiesOnlyTheRightPassword) {
    const auto hash = HashPassword("correct horse");
    EXPECT_TRUE(hash.starts_with("$argon2id$"));
    EXPECT_TRUE(VerifyPassword(hash, "correct horse"));
    EXPECT_FALSE(VerifyPassword(hash, "correct horsE"));
    EXPECT_NE(HashPassword("correct horse"), hash);
}

}  // namespace
}  // namespace sn::auth

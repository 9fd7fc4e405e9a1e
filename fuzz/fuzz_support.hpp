#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "auth/tokens.hpp"

/// What the fuzz targets share: a fixed key pair (so seeds can hold genuine tokens), and a way to
/// run one coroutine to its end on an io_context that also serves whatever it started.
namespace sn::fuzz {

/// The user the genuine token names; the literal `$TOKEN` in an input becomes that token.
inline constexpr std::string_view kUserId = "0b8f6a2e-3c1d-4e5f-8a9b-0c1d2e3f4a5b";
inline constexpr std::string_view kTokenPlaceholder = "$TOKEN";

/// A key pair from a fixed seed: every run signs and verifies alike.
[[nodiscard]] inline auth::KeyPair FixedKeys() {
    if (sodium_init() < 0) {
        std::abort();
    }
    auth::KeyPair keys;
    unsigned char seed[crypto_sign_SEEDBYTES] = {};
    for (std::size_t i = 0; i < sizeof seed; ++i) {
        seed[i] = static_cast<unsigned char>(i * 7 + 1);
    }
    crypto_sign_seed_keypair(keys.public_key.data(), keys.secret_key.data(), seed);
    return keys;
}

/// `text` with every `$TOKEN` replaced by `token`.
[[nodiscard]] inline std::string WithToken(std::string text, std::string_view token) {
    for (auto at = text.find(kTokenPlaceholder); at != std::string::npos;
         at = text.find(kTokenPlaceholder, at + token.size())) {
        text.replace(at, kTokenPlaceholder.size(), token);
    }
    return text;
}

/// A finding the sanitizers cannot see (a wrong answer, not a memory error): print and abort, so
/// libFuzzer keeps the input as a crash.
[[noreturn]] inline void Fail(std::string_view what, std::string_view detail) {
    std::fprintf(stderr, "fuzz finding: %.*s: %.*s\n", static_cast<int>(what.size()), what.data(),
                 static_cast<int>(detail.size()), detail.data());
    std::abort();
}

/// Runs `awaitable` on `io` until it finishes (serving whatever else it queued meanwhile) and returns
/// its result; an exception escaping it is a finding. A run past 10 s is a hang.
template <typename T>
T RunToEnd(boost::asio::io_context& io, boost::asio::awaitable<T> awaitable) {
    std::optional<T> result;
    std::exception_ptr error;
    bool done = false;
    boost::asio::co_spawn(io, std::move(awaitable), [&](std::exception_ptr e, T value) {
        error = e;
        if (!e) {
            result.emplace(std::move(value));
        }
        done = true;
    });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done) {
        io.restart();
        io.run_one_for(std::chrono::milliseconds(100));
        if (std::chrono::steady_clock::now() > deadline) {
            Fail("hang", "a request did not finish in 10 s");
        }
    }
    if (error) {
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            Fail("exception escaped", e.what());
        }
    }
    return std::move(*result);
}

}  // namespace sn::fuzz

#include "redis/script.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace sn::redis {
namespace {

std::string Sha1Hex(const std::string& text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha1(), nullptr) != 1) {
        throw std::runtime_error("SHA1 failed");
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < size; ++i) {
        hex += kHex[digest[i] >> 4];
        hex += kHex[digest[i] & 0xF];
    }
    return hex;
}

bool NotCached(const Reply& reply) { return reply.IsError() && reply.str.starts_with("NOSCRIPT"); }

}  // namespace

Script::Script(std::string source) : source_(std::move(source)), sha1_(Sha1Hex(source_)) {}

Command Script::Make(const char* verb, const std::string& body, const Call& call) const {
    Command command{verb, body, std::to_string(call.keys.size())};
    command.insert(command.end(), call.keys.begin(), call.keys.end());
    command.insert(command.end(), call.args.begin(), call.args.end());
    return command;
}

Reply Script::Run(Connection& conn, const Call& call) const {
    auto reply = conn.Run(Make("EVALSHA", sha1_, call));
    return NotCached(reply) ? conn.Run(Make("EVAL", source_, call)) : reply;
}

std::vector<Reply> Script::RunMany(Connection& conn, const std::vector<Call>& calls) const {
    std::vector<Command> commands;
    commands.reserve(calls.size());
    for (const auto& call : calls) {
        commands.push_back(Make("EVALSHA", sha1_, call));
    }
    auto replies = conn.Pipeline(commands);
    for (std::size_t i = 0; i < replies.size(); ++i) {
        if (NotCached(replies[i])) {
            replies[i] = conn.Run(Make("EVAL", source_, calls[i]));  // caches it for the rest
        }
    }
    return replies;
}

}  // namespace sn::redis

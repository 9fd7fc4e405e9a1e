#include "redis/client.hpp"

#include <charconv>
#include <stdexcept>

namespace sn::redis {
namespace {

timeval ToTimeval(std::chrono::milliseconds ms) {
    return timeval{static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

Reply Copy(const redisReply& raw) {
    Reply reply;
    switch (raw.type) {
        case REDIS_REPLY_STRING:
            reply.type = Reply::Type::kString;
            reply.str.assign(raw.str, raw.len);
            break;
        case REDIS_REPLY_STATUS:
            reply.type = Reply::Type::kStatus;
            reply.str.assign(raw.str, raw.len);
            break;
        case REDIS_REPLY_ERROR:
            reply.type = Reply::Type::kError;
            reply.str.assign(raw.str, raw.len);
            break;
        case REDIS_REPLY_INTEGER:
            reply.type = Reply::Type::kInteger;
            reply.integer = raw.integer;
            break;
        case REDIS_REPLY_ARRAY:
            reply.type = Reply::Type::kArray;
            reply.elements.reserve(raw.elements);
            for (std::size_t i = 0; i < raw.elements; ++i) {
                reply.elements.push_back(Copy(*raw.element[i]));
            }
            break;
        default:
            reply.type = Reply::Type::kNil;
            break;
    }
    return reply;
}

using OwnedReply = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

}  // namespace

Options ParseUrl(std::string_view url) {
    constexpr std::string_view kScheme = "redis://";
    if (url.substr(0, kScheme.size()) != kScheme) {
        throw std::invalid_argument("redis url must start with redis://");
    }
    auto rest = url.substr(kScheme.size());
    Options options;
    if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
        const auto db = rest.substr(slash + 1);
        if (!db.empty()) {
            const auto [ptr, ec] = std::from_chars(db.data(), db.data() + db.size(), options.db);
            if (ec != std::errc() || ptr != db.data() + db.size() || options.db < 0) {
                throw std::invalid_argument("redis url: bad database number");
            }
        }
        rest = rest.substr(0, slash);
    }
    if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
        const auto port = rest.substr(colon + 1);
        unsigned value = 0;
        const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535) {
            throw std::invalid_argument("redis url: bad port");
        }
        options.port = static_cast<std::uint16_t>(value);
        rest = rest.substr(0, colon);
    }
    if (rest.empty()) {
        throw std::invalid_argument("redis url: no host");
    }
    options.host = std::string(rest);
    return options;
}

const Reply& Checked(const Reply& reply) {
    if (reply.IsError()) {
        throw std::runtime_error("redis: " + reply.str);
    }
    return reply;
}

Connection::Connection(Options options) : options_(std::move(options)) {}

void Connection::Fail(std::string_view what) {
    std::string message = "redis " + options_.host + ":" + std::to_string(options_.port) + ": " + std::string(what);
    if (context_ && context_->err != 0) {
        message += ": ";
        message += context_->errstr;
    }
    context_.reset();  // the stream may be out of step: start over on the next call
    throw ConnectionError(message);
}

redisContext& Connection::Connected() {
    if (context_) {
        return *context_;
    }
    context_.reset(redisConnectWithTimeout(options_.host.c_str(), options_.port, ToTimeval(options_.connect_timeout)));
    if (!context_ || context_->err != 0) {
        Fail("connect failed");
    }
    if (redisSetTimeout(context_.get(), ToTimeval(options_.command_timeout)) != REDIS_OK) {
        Fail("cannot set timeout");
    }
    if (options_.db != 0) {
        const auto reply = Run({"SELECT", std::to_string(options_.db)});
        if (reply.IsError()) {
            Fail("SELECT failed");
        }
    }
    return *context_;
}

Reply Connection::Run(const Command& command) {
    auto replies = Pipeline({command});
    return std::move(replies.front());
}

std::vector<Reply> Connection::Pipeline(const std::vector<Command>& commands) {
    auto& context = Connected();
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& command : commands) {
        argv.clear();
        lengths.clear();
        for (const auto& arg : command) {
            argv.push_back(arg.data());
            lengths.push_back(arg.size());
        }
        if (redisAppendCommandArgv(&context, static_cast<int>(argv.size()), argv.data(), lengths.data()) != REDIS_OK) {
            Fail("cannot queue command");
        }
    }
    std::vector<Reply> replies;
    replies.reserve(commands.size());
    for (std::size_t i = 0; i < commands.size(); ++i) {
        void* raw = nullptr;
        if (redisGetReply(&context, &raw) != REDIS_OK || raw == nullptr) {
            Fail("no reply");
        }
        const OwnedReply owned(static_cast<redisReply*>(raw), &freeReplyObject);
        replies.push_back(Copy(*owned));
    }
    return replies;
}

}  // namespace sn::redis

#include "redis/client.hpp"

#include <sys/socket.h>

#include <charconv>
#include <cstring>
#include <stdexcept>

namespace sn::redis {
namespace {

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

Address ParseAddress(std::string_view text) {
    Address address;
    if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
        const auto port = text.substr(colon + 1);
        unsigned value = 0;
        const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535) {
            throw std::invalid_argument("redis url: bad port");
        }
        address.port = static_cast<std::uint16_t>(value);
        text = text.substr(0, colon);
    }
    if (text.empty()) {
        throw std::invalid_argument("redis url: no host");
    }
    address.host = std::string(text);
    return address;
}

int ParseDb(std::string_view db) {
    int number = 0;
    if (!db.empty()) {
        const auto [ptr, ec] = std::from_chars(db.data(), db.data() + db.size(), number);
        if (ec != std::errc() || ptr != db.data() + db.size() || number < 0) {
            throw std::invalid_argument("redis url: bad database number");
        }
    }
    return number;
}

}  // namespace

Options ParseUrl(std::string_view url) {
    constexpr std::string_view kScheme = "redis://";
    constexpr std::string_view kSentinelScheme = "redis-sentinel://";
    const bool sentinel = url.starts_with(kSentinelScheme);
    if (!sentinel && !url.starts_with(kScheme)) {
        throw std::invalid_argument("redis url must start with redis:// or redis-sentinel://");
    }
    auto rest = url.substr(sentinel ? kSentinelScheme.size() : kScheme.size());
    const auto slash = rest.find('/');
    const auto hosts = rest.substr(0, slash);
    auto path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    Options options;
    if (!sentinel) {
        const Address address = ParseAddress(hosts);
        options.host = address.host;
        options.port = address.port;
        options.db = ParseDb(path);
        return options;
    }
    for (std::string_view list = hosts;;) {
        const auto comma = list.find(',');
        Address address = ParseAddress(list.substr(0, comma));
        if (list.substr(0, comma).find(':') == std::string_view::npos) {
            address.port = 26379;  // Sentinel's own default port
        }
        options.sentinels.push_back(std::move(address));
        if (comma == std::string_view::npos) {
            break;
        }
        list.remove_prefix(comma + 1);
    }
    const auto db_slash = path.find('/');
    options.master_name = std::string(path.substr(0, db_slash));
    if (options.master_name.empty()) {
        throw std::invalid_argument("redis url: redis-sentinel:// needs the master's name as its path");
    }
    options.db = ParseDb(db_slash == std::string_view::npos ? std::string_view{} : path.substr(db_slash + 1));
    return options;
}

const Reply& Checked(const Reply& reply) {
    if (reply.IsError()) {
        throw std::runtime_error("redis: " + reply.str);
    }
    return reply;
}

Connection::Connection(Options options, fiber::SocketWait* wait)
    : options_(std::move(options)),
      node_{options_.host, options_.port},
      wait_(wait != nullptr ? wait : &fiber::Blocking()) {}

Connection::~Connection() { Disconnect(); }

void Connection::Disconnect() noexcept {
    if (context_) {
        wait_->Forget(context_->fd);
        context_.reset();
    }
}

void Connection::Fail(std::string_view what) {
    std::string message = "redis " + node_.host + ":" + std::to_string(node_.port) + ": " + std::string(what);
    if (context_ && context_->err != 0) {
        message += ": ";
        message += context_->errstr;
    }
    Disconnect();  // the stream may be out of step: start over on the next call
    throw ConnectionError(message);
}

void Connection::WaitFor(fiber::SocketWait::Until until, Deadline deadline, std::string_view what) {
    if (!wait_->Wait(context_->fd, until, deadline)) {
        Fail(what);
    }
}

redisContext& Connection::Connected() {
    if (context_) {
        return *context_;
    }
    if (!options_.sentinels.empty()) {
        node_ = AskSentinels();
    }
    context_.reset(redisConnectNonBlock(node_.host.c_str(), node_.port));
    if (!context_ || context_->err != 0) {
        Fail("connect failed");
    }
    // The connect is under way; it has finished, or failed, once the socket is writable.
    WaitFor(fiber::SocketWait::Until::kWritable, std::chrono::steady_clock::now() + options_.connect_timeout,
            "connect timed out");
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(context_->fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
        Fail(std::string("connect failed: ") + std::strerror(error));
    }
    if (!options_.sentinels.empty()) {
        // A sentinel's answer can be stale by a failover: only a primary will do.
        const auto role = Run({"ROLE"});
        if (role.elements.empty() || role.elements.front().str != "master") {
            Fail("not the primary (yet), as the sentinels said");
        }
    }
    if (options_.db != 0) {
        const auto reply = Run({"SELECT", std::to_string(options_.db)});
        if (reply.IsError()) {
            Fail("SELECT failed");
        }
    }
    return *context_;
}

Address Connection::AskSentinels() {
    std::string failures;
    for (const auto& sentinel : options_.sentinels) {
        Options direct;
        direct.host = sentinel.host;
        direct.port = sentinel.port;
        direct.connect_timeout = options_.connect_timeout;
        direct.command_timeout = options_.command_timeout;
        try {
            Connection connection(direct, wait_);
            const auto reply = connection.Run({"SENTINEL", "get-master-addr-by-name", options_.master_name});
            if (reply.type == Reply::Type::kArray && reply.elements.size() == 2) {
                return ParseAddress(reply.elements[0].str + ":" + reply.elements[1].str);
            }
            failures += " " + sentinel.host + ":" + std::to_string(sentinel.port) + " knows no primary;";
        } catch (const std::exception& error) {  // ConnectionError, or a bad port in the answer
            failures += std::string(" ") + error.what() + ";";
        }
    }
    throw ConnectionError("redis: no sentinel named the primary of " + options_.master_name + ":" + failures);
}

Reply Connection::Run(const Command& command) {
    auto replies = Pipeline({command});
    return std::move(replies.front());
}

std::vector<Reply> Connection::Pipeline(const std::vector<Command>& commands) {
    if (commands.empty()) {
        return {};  // nothing to send: no reason to connect
    }
    auto& context = Connected();
    const auto deadline = std::chrono::steady_clock::now() + options_.command_timeout;
    for (const auto& command : commands) {
        Append(context, command);
    }
    Flush(context, deadline);
    std::vector<Reply> replies;
    replies.reserve(commands.size());
    for (std::size_t i = 0; i < commands.size(); ++i) {
        auto reply = Read(context, deadline);
        if (!reply) {
            Fail("no reply in time");
        }
        // A primary demoted by a failover keeps its clients but refuses writes: find the new one.
        if (reply->IsError() && reply->str.starts_with("READONLY")) {
            Fail("the node is a replica now");
        }
        replies.push_back(std::move(*reply));
    }
    return replies;
}

void Connection::Send(const Command& command) {
    auto& context = Connected();
    Append(context, command);
    Flush(context, std::chrono::steady_clock::now() + options_.command_timeout);
}

std::optional<Reply> Connection::Receive(Deadline deadline) {
    if (!context_) {
        throw ConnectionError("redis " + node_.host + ":" + std::to_string(node_.port) + ": not connected");
    }
    return Read(*context_, deadline);
}

void Connection::Append(redisContext& context, const Command& command) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    argv.reserve(command.size());
    lengths.reserve(command.size());
    for (const auto& arg : command) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    if (redisAppendCommandArgv(&context, static_cast<int>(argv.size()), argv.data(), lengths.data()) != REDIS_OK) {
        Fail("cannot queue command");
    }
}

void Connection::Flush(redisContext& context, Deadline deadline) {
    for (int done = 0;;) {
        if (redisBufferWrite(&context, &done) != REDIS_OK) {
            Fail("write failed");
        }
        if (done != 0) {
            return;
        }
        WaitFor(fiber::SocketWait::Until::kWritable, deadline, "write timed out");
    }
}

std::optional<Reply> Connection::Read(redisContext& context, Deadline deadline) {
    for (;;) {
        void* raw = nullptr;
        if (redisGetReplyFromReader(&context, &raw) != REDIS_OK) {
            Fail("bad reply");
        }
        if (raw != nullptr) {
            const OwnedReply owned(static_cast<redisReply*>(raw), &freeReplyObject);
            return Copy(*owned);
        }
        if (!wait_->Wait(context.fd, fiber::SocketWait::Until::kReadable, deadline)) {
            return std::nullopt;
        }
        if (redisBufferRead(&context) != REDIS_OK) {
            Fail("read failed");
        }
    }
}

}  // namespace sn::redis

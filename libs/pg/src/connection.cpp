#include "pg/connection.hpp"

#include <algorithm>
#include <charconv>

namespace sn::pg {

Param ToParam(const std::vector<std::string>& values) {
    std::string out = "{";
    for (const auto& value : values) {
        if (out.size() > 1) {
            out += ',';
        }
        out += '"';
        for (const char c : value) {
            if (c == '"' || c == '\\') {
                out += '\\';
            }
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

std::int64_t Result::Int(int row, int col) const {
    const auto text = Text(row, col);
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        throw std::runtime_error("column " + std::to_string(col) + " is not an integer: " + std::string(text));
    }
    return value;
}

std::int64_t Result::Affected() const {
    const std::string_view text = PQcmdTuples(result_.get());
    std::int64_t value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
}

namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(3);
// The server cancels a statement at statement_timeout; when even this much longer passes without
// an answer, the server or the network is gone and the connection is given up.
constexpr auto kGrace = std::chrono::seconds(2);

bool Succeeded(const PGresult* result) {
    const auto status = PQresultStatus(result);
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY;
}

}  // namespace

Connection::Connection(const std::string& dsn, std::chrono::milliseconds statement_timeout, fiber::SocketWait* wait)
    : dsn_(dsn), statement_timeout_(statement_timeout), wait_(wait != nullptr ? wait : &fiber::Blocking()) {
    EnsureConnected();
}

Connection::~Connection() { Disconnect(); }

bool Connection::Healthy() const noexcept { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }

bool Connection::OnStandby() const noexcept {
    const char* value = Healthy() ? PQparameterStatus(conn_.get(), "in_hot_standby") : nullptr;
    return value != nullptr && std::string_view(value) == "on";
}

void Connection::Disconnect() noexcept {
    if (conn_) {
        wait_->Forget(PQsocket(conn_.get()));
        conn_.reset();
    }
}

void Connection::WaitFor(fiber::SocketWait::Until until, std::chrono::steady_clock::time_point deadline) {
    if (!wait_->Wait(PQsocket(conn_.get()), until, deadline)) {
        Disconnect();
        throw ConnectionError("PostgreSQL did not answer in time");
    }
}

void Connection::EnsureConnected() {
    if (Healthy()) {
        if (max_age_.count() == 0 || std::chrono::steady_clock::now() - connected_at_ < max_age_ ||
            PQtransactionStatus(conn_.get()) != PQTRANS_IDLE) {
            return;
        }
    }
    Disconnect();
    prepared_.clear();
    const std::string options =
        dsn_ + " options='-c statement_timeout=" + std::to_string(statement_timeout_.count()) + "'";
    conn_.reset(PQconnectStart(options.c_str()));
    if (!conn_) {
        throw ConnectionError("cannot connect to PostgreSQL: out of memory");
    }
    // libpq's own sequence (https://www.postgresql.org/docs/15/libpq-connect.html, PQconnectStartParams).
    const auto deadline = std::chrono::steady_clock::now() + kConnectTimeout;
    auto state = PGRES_POLLING_WRITING;
    while (PQstatus(conn_.get()) != CONNECTION_BAD && state != PGRES_POLLING_OK && state != PGRES_POLLING_FAILED) {
        // With several hosts (host=a,b target_session_attrs=read-write) libpq closes a socket and
        // opens the next one between two polls, often under the same number: a registration kept
        // from before would wait on a descriptor the kernel has already dropped, until the deadline.
        wait_->Forget(PQsocket(conn_.get()));
        WaitFor(
            state == PGRES_POLLING_READING ? fiber::SocketWait::Until::kReadable : fiber::SocketWait::Until::kWritable,
            deadline);
        state = PQconnectPoll(conn_.get());
    }
    if (state != PGRES_POLLING_OK || PQsetnonblocking(conn_.get(), 1) != 0) {
        const std::string message = PQerrorMessage(conn_.get());
        Disconnect();
        throw ConnectionError("cannot connect to PostgreSQL: " + message);
    }
    connected_at_ = std::chrono::steady_clock::now();
}

void Connection::Fail(const PGresult* result, std::string_view sql) {
    const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    const std::string sqlstate = state != nullptr ? state : "";
    const std::string message = result != nullptr && *PQresultErrorMessage(result) != '\0'
                                    ? PQresultErrorMessage(result)
                                    : PQerrorMessage(conn_.get());
    // Without a result the connection is in an unknown state: it is dropped, and the next call
    // reconnects. Class 08 is connection trouble, 57P0x is the server shutting down, 57014 a
    // statement timeout: all say "try again later", not "your request is wrong".
    if (result == nullptr || !Healthy()) {
        Disconnect();
        throw ConnectionError("PostgreSQL unavailable: " + message);
    }
    if (sqlstate.starts_with("08") || sqlstate.starts_with("57P0") || sqlstate == "57014" || sqlstate.empty()) {
        throw ConnectionError("PostgreSQL unavailable: " + message);
    }
    throw QueryError(message + " [" + std::string(sql.substr(0, 80)) + "]", sqlstate);
}

Result Connection::Finish(int sent, std::string_view sql) {
    if (sent == 0) {
        Fail(nullptr, sql);
    }
    const auto deadline = std::chrono::steady_clock::now() + statement_timeout_ + kGrace;
    for (int flushed = PQflush(conn_.get()); flushed != 0; flushed = PQflush(conn_.get())) {
        if (flushed < 0) {
            Fail(nullptr, sql);
        }
        WaitFor(fiber::SocketWait::Until::kWritable, deadline);
        if (PQconsumeInput(conn_.get()) == 0) {
            Fail(nullptr, sql);
        }
    }
    // Every result must be read before the next statement; the first error wins.
    std::optional<Result> kept;
    for (;;) {
        while (PQisBusy(conn_.get()) != 0) {
            WaitFor(fiber::SocketWait::Until::kReadable, deadline);
            if (PQconsumeInput(conn_.get()) == 0) {
                Fail(nullptr, sql);
            }
        }
        PGresult* next = PQgetResult(conn_.get());
        if (next == nullptr) {
            break;
        }
        if (!kept || Succeeded(kept->Raw())) {
            kept.emplace(next);
        } else {
            PQclear(next);
        }
    }
    if (!kept) {
        Fail(nullptr, sql);
    }
    if (!Succeeded(kept->Raw())) {
        Fail(kept->Raw(), sql);
    }
    return std::move(*kept);
}

Result Connection::ExecParams(std::string_view sql, const std::vector<Param>& params) {
    return Execute(sql, params, true);
}

Result Connection::Execute(std::string_view sql, const std::vector<Param>& params, bool prepare) {
    EnsureConnected();
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) {
        values.push_back(p ? p->c_str() : nullptr);
    }
    const std::string key(sql);
    const auto count = static_cast<int>(values.size());
    if (!prepare) {
        return Finish(PQsendQueryParams(conn_.get(), key.c_str(), count, nullptr, values.data(), nullptr, nullptr, 0),
                      sql);
    }
    auto it = prepared_.find(key);
    if (it == prepared_.end()) {
        const std::string name = "s" + std::to_string(prepared_.size());
        (void)Finish(PQsendPrepare(conn_.get(), name.c_str(), key.c_str(), count, nullptr), sql);
        it = prepared_.emplace(key, name).first;
    }
    return Finish(PQsendQueryPrepared(conn_.get(), it->second.c_str(), count, values.data(), nullptr, nullptr, 0), sql);
}

void Connection::Simple(std::string_view sql) {
    EnsureConnected();
    const std::string text(sql);
    (void)Finish(PQsendQuery(conn_.get(), text.c_str()), sql);
}

void Connection::AfterCommit(CommitHook hook) {
    if (conn_ && PQtransactionStatus(conn_.get()) == PQTRANS_IDLE) {
        hook();
    } else if (std::find(commit_hooks_.begin(), commit_hooks_.end(), hook) == commit_hooks_.end()) {
        commit_hooks_.push_back(hook);
    }
}

Transaction::Transaction(Connection& connection) : connection_(connection) { connection_.Simple("BEGIN"); }

Transaction::~Transaction() {
    connection_.commit_hooks_.clear();
    if (done_ || !connection_.Healthy()) {
        return;  // committed, or the connection is gone and the server rolled back by itself
    }
    try {
        connection_.Simple("ROLLBACK");
    } catch (...) {
        // The connection is gone or broken; the server rolls the transaction back by itself.
    }
}

void Transaction::Commit() {
    done_ = true;
    auto hooks = std::move(connection_.commit_hooks_);
    connection_.commit_hooks_.clear();
    connection_.Simple("COMMIT");
    for (const auto hook : hooks) {
        hook();
    }
}

}  // namespace sn::pg

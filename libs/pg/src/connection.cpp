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

Connection::Connection(const std::string& dsn, std::chrono::milliseconds statement_timeout)
    : dsn_(dsn), statement_timeout_(statement_timeout) {
    EnsureConnected();
}

bool Connection::Healthy() const noexcept { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }

void Connection::EnsureConnected() {
    if (Healthy()) {
        return;
    }
    prepared_.clear();
    const std::string options = "connect_timeout=3 " + dsn_ +
                                " options='-c statement_timeout=" + std::to_string(statement_timeout_.count()) + "'";
    conn_.reset(PQconnectdb(options.c_str()));
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
        const std::string message = PQerrorMessage(conn_.get());
        conn_.reset();
        throw ConnectionError("cannot connect to PostgreSQL: " + message);
    }
}

void Connection::Fail(const PGresult* result, std::string_view sql) {
    const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    const std::string sqlstate = state != nullptr ? state : "";
    const std::string message = result != nullptr && *PQresultErrorMessage(result) != '\0'
                                    ? PQresultErrorMessage(result)
                                    : PQerrorMessage(conn_.get());
    // Class 08 is connection trouble, 57P0x is the server shutting down, 57014 a statement timeout:
    // all say "try again later", not "your request is wrong".
    if (!Healthy() || sqlstate.starts_with("08") || sqlstate.starts_with("57P0") || sqlstate == "57014" ||
        sqlstate.empty()) {
        if (!Healthy()) {
            conn_.reset();
        }
        throw ConnectionError("PostgreSQL unavailable: " + message);
    }
    throw QueryError(message + " [" + std::string(sql.substr(0, 80)) + "]", sqlstate);
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
    PGresult* raw = nullptr;
    if (prepare) {
        auto it = prepared_.find(key);
        if (it == prepared_.end()) {
            const std::string name = "s" + std::to_string(prepared_.size());
            Result prepared(PQprepare(conn_.get(), name.c_str(), key.c_str(), count, nullptr));
            if (PQresultStatus(prepared.Raw()) != PGRES_COMMAND_OK) {
                Fail(prepared.Raw(), sql);
            }
            it = prepared_.emplace(key, name).first;
        }
        raw = PQexecPrepared(conn_.get(), it->second.c_str(), count, values.data(), nullptr, nullptr, 0);
    } else {
        raw = PQexecParams(conn_.get(), key.c_str(), count, nullptr, values.data(), nullptr, nullptr, 0);
    }
    Result result(raw);
    const auto status = PQresultStatus(raw);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        Fail(raw, sql);
    }
    return result;
}

void Connection::Simple(std::string_view sql) {
    EnsureConnected();
    const std::string text(sql);
    Result result(PQexec(conn_.get(), text.c_str()));
    const auto status = PQresultStatus(result.Raw());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        Fail(result.Raw(), sql);
    }
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
    if (done_) {
        return;
    }
    connection_.commit_hooks_.clear();
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

#include "pg/migrations.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/log.hpp"

namespace sn::pg {
namespace {

constexpr std::string_view kLock = "SELECT pg_advisory_lock(727274)";
constexpr std::string_view kUnlock = "SELECT pg_advisory_unlock(727274)";
constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT "
    "now())";
constexpr std::string_view kIsApplied = "SELECT 1 FROM schema_migrations WHERE name = $1";
constexpr std::string_view kRecord = "INSERT INTO schema_migrations (name) VALUES ($1)";

std::string ReadFile(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

int Migrate(Connection& conn, const std::vector<std::filesystem::path>& dirs) {
    std::vector<std::filesystem::path> files;
    for (const auto& dir : dirs) {
        std::vector<std::filesystem::path> in_dir;
        for (const auto& entry : std::filesystem::directory_iterator(dir)) {
            if (entry.path().extension() == ".sql") {
                in_dir.push_back(entry.path());
            }
        }
        std::sort(in_dir.begin(), in_dir.end());
        files.insert(files.end(), in_dir.begin(), in_dir.end());
    }

    (void)conn.Exec(kLock);
    int applied = 0;
    try {
        conn.Simple(std::string(kCreateTable));
        for (const auto& file : files) {
            const auto name = file.filename().string();
            if (!conn.Exec(kIsApplied, name).Empty()) {
                continue;
            }
            Transaction tx(conn);
            conn.Simple(ReadFile(file));
            (void)conn.Exec(kRecord, name);
            tx.Commit();
            ++applied;
            log::Info("migration applied", {{"name", name}});
        }
    } catch (...) {
        try {
            (void)conn.Exec(kUnlock);
        } catch (...) {
        }
        throw;
    }
    (void)conn.Exec(kUnlock);
    return applied;
}

}  // namespace sn::pg

#pragma once

#include <filesystem>

#include "pg/connection.hpp"

namespace sn::pg {

/// Applies `NNN_name.sql` files from `dir` in order, each once, each in its own transaction,
/// under an advisory lock so that several copies starting at once apply them exactly once.
/// Returns how many were applied now.
int Migrate(Connection& conn, const std::filesystem::path& dir);

}  // namespace sn::pg

#pragma once

#include <filesystem>
#include <vector>

#include "pg/connection.hpp"

namespace sn::pg {

/// Applies the `NNN_name.sql` files of each folder (folders in the order given, files by name),
/// each once, each in its own transaction, under an advisory lock so that several copies starting
/// at once apply them exactly once. File names must be unique across the folders. Returns how
/// many were applied now.
int Migrate(Connection& conn, const std::vector<std::filesystem::path>& dirs);

}  // namespace sn::pg

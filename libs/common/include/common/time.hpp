#pragma once

#include <cstdint>
#include <string>

namespace sn::time {

/// Appends `micros` (microseconds since the Unix epoch) as UTC in the API's form,
/// "2026-11-29T06:32:49.471123Z": what PostgreSQL's to_char(created_at AT TIME ZONE 'UTC',
/// 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') writes, without its cost per row.
void AppendIsoMicros(std::string& out, std::int64_t micros);

[[nodiscard]] inline std::string IsoMicros(std::int64_t micros) {
    std::string out;
    AppendIsoMicros(out, micros);
    return out;
}

}  // namespace sn::time

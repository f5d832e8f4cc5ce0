#pragma once

#include <filesystem>
#include <iosfwd>
#include <string>
#include <string_view>

#include "core/result.h"
#include "sql/database.h"

/// `tributary sql`: DuckDB SQL over the lake.
namespace tributary::cli {

enum class SqlOutputFormat { kTable, kCsv, kJsonl };

/// Replaces every `delta_scan('path')`, `delta_scan('path', version => N)` and
/// `delta_scan('path', timestamp => '2024-01-31 10:00:00')` call outside string literals
/// with a parenthesized scan query of that Delta table snapshot (relative paths are taken
/// from the current directory; timestamps without a zone are UTC).
/// Errors: kInvalidArgument for a malformed call; the snapshot's errors (kNotFound, ...).
Result<std::string> ExpandDeltaScans(std::string_view query, sql::Connection& conn);

/// Writes a result: an aligned text table (NULL shown as NULL, a row count line), CSV
/// with a header (RFC 4180 quoting, NULL as empty), or one JSON object per row (numbers
/// and booleans as JSON values, NULL as null, everything else as strings).
void PrintResult(const sql::QueryResult& result,
                 SqlOutputFormat format,
                 std::ostream& out);

/// Runs `query` (after ExpandDeltaScans) and prints its result.
Status RunSqlQuery(sql::Connection& conn,
                   std::string_view query,
                   SqlOutputFormat format,
                   std::ostream& out);

/// Reads statements from `in` (each ends with ';' at the end of a line), runs each and
/// prints its result or error; `prompt` is shown before each statement when non-empty.
/// Returns the number of failed statements.
int RunSqlPrompt(sql::Connection& conn,
                 std::istream& in,
                 std::ostream& out,
                 std::ostream& err,
                 SqlOutputFormat format,
                 bool prompt);

}  // namespace tributary::cli

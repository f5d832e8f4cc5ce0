#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <duckdb.h>

namespace tributary::sql::internal {

/// One materialized result cell. Numbers keep their value; everything else (dates,
/// decimals, nested values) is kept as DuckDB-style text; BLOBs keep raw bytes.
struct Cell {
  enum class Kind : uint8_t { kNull, kBool, kInt, kUInt, kDouble, kText, kBlob };
  Kind kind = Kind::kNull;
  bool is_float = false;  ///< kDouble from a FLOAT column (affects text form)
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  std::string s;  ///< kText: the text; kBlob: the bytes; kDouble from DECIMAL: its text
};

/// Converts row `row` of `vector` (of logical type `type`) to a Cell.
Cell ReadCell(duckdb_vector vector, duckdb_logical_type type, idx_t row);

/// The text form of a cell (what QueryResult::GetString returns).
std::string CellText(const Cell& cell);

/// DuckDB's text form of a BLOB: printable ASCII kept, other bytes as \xAB.
std::string BlobText(const std::string& bytes);

}  // namespace tributary::sql::internal

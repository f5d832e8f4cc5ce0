#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "lake/delta/schema.h"
#include "lake/delta/snapshot.h"
#include "sql/database.h"

namespace tributary::lake::delta {

/// Options for scanning a snapshot.
struct ScanOptions {
  /// Logical columns to produce, in this order; empty means every column in schema order.
  /// Default: empty.
  std::vector<std::string> columns;
  /// Time zone in which partition values of type timestamp written without a zone
  /// ("2021-09-08 11:11:11") are interpreted (PROTOCOL.md "Partition Value
  /// Serialization": the writer's zone). Values in ISO form with "Z" are unaffected.
  /// Default: "UTC".
  std::string partition_timezone = "UTC";
};

/// The DuckDB type for a Delta type: long -> BIGINT, timestamp -> TIMESTAMPTZ,
/// timestamp_ntz -> TIMESTAMP, decimal(p,s) -> DECIMAL(p,s), array<T> -> T[],
/// map<K,V> -> MAP(K, V), struct -> STRUCT("name" T, ...) with logical names.
/// Errors: kUnsupported for variant.
Result<std::string> DuckDbType(const DataType& type);

/// A DuckDB SQL expression of type DuckDbType(type) for a serialized partition value
/// (PROTOCOL.md "Partition Value Serialization"): null and "" give NULL; timestamps
/// accept "YYYY-MM-DD HH:MM:SS[.ffffff]" (in `timezone`) and ISO-8601 with a zone.
Result<std::string> PartitionValueExpression(const std::optional<std::string>& value,
                                             const DataType& type,
                                             std::string_view timezone = "UTC");

/// Builds one self-contained DuckDB SELECT that returns the snapshot's rows: columns in
/// schema order with logical names and Delta types, read from the live Parquet files with
/// DuckDB's read_parquet, partition values taken from the log, rows deleted by deletion
/// vectors removed (file_row_number filter), physical column names (column mapping, also
/// nested) mapped back, and narrower file types cast to the table types (type
/// widening). Every path and identifier is quoted. Reads the Parquet footers and DV files
/// now; the text stays valid while the snapshot's files exist.
/// Errors: kNotFound naming a missing data or DV file and the table version; kCorruption
/// (unreadable Parquet footer, bad DV); kUnsupported (variant columns).
Result<std::string> BuildScanQuery(const Snapshot& snapshot,
                                   sql::Connection& connection,
                                   const ScanOptions& options = {});

/// `CREATE OR REPLACE [TEMP] VIEW [schema.]name AS <BuildScanQuery>` on `connection`,
/// so DuckDB SQL can query the snapshot by name. `schema` may be empty (main); a
/// non-empty schema is created if missing. Errors: as BuildScanQuery, plus DuckDB's.
Status RegisterSnapshotView(sql::Connection& connection,
                            const Snapshot& snapshot,
                            std::string_view schema,
                            std::string_view view_name,
                            bool temporary = false,
                            const ScanOptions& options = {});

/// Registers a view `<layer>.<table>` for every Delta table found at
/// `<lake_root>/<layer>/<table>/_delta_log` (latest versions), e.g. `silver.customer`.
/// Directories starting with '_' or '.' are skipped. Returns the registered names
/// ("silver.customer"), sorted. Errors: the first table that fails to load or scan,
/// named; kNotFound when `lake_root` is not a directory.
Result<std::vector<std::string>> RegisterLakeViews(sql::Connection& connection,
                                                   const std::filesystem::path& lake_root,
                                                   bool temporary = false);

/// Runs the scan and materializes the rows (at most `limit` when set).
Result<sql::QueryResult> ScanRows(const Snapshot& snapshot,
                                  sql::Connection& connection,
                                  const ScanOptions& options = {},
                                  std::optional<int64_t> limit = std::nullopt);

}  // namespace tributary::lake::delta

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "sql/database.h"

namespace tributary::lake::parquet {

/// How Parquet files are written.
struct ParquetWriteOptions {
  /// Codec: "snappy" or "zstd" (or anything DuckDB's COPY accepts). Default: "snappy".
  std::string compression = "snappy";
  /// Rows per row group; 0 keeps DuckDB's default (122880). Default: 0.
  int64_t row_group_size = 0;
};

/// Footer statistics of one top-level column, merged over all row groups.
struct ColumnStatistics {
  std::string name;
  /// DuckDB type name of the column ("BIGINT", "TIMESTAMP WITH TIME ZONE", "STRUCT(...)").
  std::string duckdb_type;
  /// Minimum / maximum in DuckDB's text form of the column type ("42", "2024-01-01",
  /// "1.50"); for TIMESTAMP and TIMESTAMP WITH TIME ZONE the value is microseconds since
  /// the epoch (UTC for the latter) as decimal text. std::nullopt when some row group has
  /// no statistics for the column, or for nested columns.
  std::optional<std::string> min;
  std::optional<std::string> max;
  /// Number of nulls; std::nullopt when unknown (nested columns, missing statistics).
  std::optional<int64_t> null_count;
};

/// A written (or inspected) Parquet file.
struct ParquetFileInfo {
  std::string path;
  int64_t size_bytes = 0;
  int64_t num_rows = 0;
  std::vector<ColumnStatistics> columns;  ///< top-level columns in file order
};

/// Writes the rows of `query` (any DuckDB SELECT, run on `conn`) to a new Parquet file at
/// `path` with `COPY (query) TO path (FORMAT parquet, RETURN_STATS true, ...)` and takes
/// the statistics the COPY returns (the footer's values, without reading the file back;
/// BOOLEAN columns get no min/max). Rows never pass through C++. Errors: the query's
/// error (kInvalidArgument for a bad query), kIo when the file cannot be written.
Result<ParquetFileInfo> WriteParquetFile(sql::Connection& conn, std::string_view query,
                                         const std::string& path,
                                         const ParquetWriteOptions& options = {});

/// A result column of a query: its name and DuckDB type name as DESCRIBE spells it
/// ("BIGINT", "TIMESTAMP WITH TIME ZONE"; nested types may quote field names).
struct QueryColumn {
  std::string name;
  std::string duckdb_type;
};

/// WriteParquetFile for a query whose result columns are known (`columns`, in result
/// order): the query is not DESCRIBEd first, saving one statement. The caller guarantees
/// the types (e.g. the query casts every column); a wrong timestamp type gives wrong
/// statistics. Errors: as WriteParquetFile.
Result<ParquetFileInfo> WriteParquetFile(sql::Connection& conn, std::string_view query,
                                         const std::string& path,
                                         const ParquetWriteOptions& options,
                                         const std::vector<QueryColumn>& columns);

/// Reads row count, size and per-column statistics of an existing Parquet file from its
/// footer (DuckDB's parquet_metadata / parquet_file_metadata). Errors: kIo / kCorruption
/// naming the file.
Result<ParquetFileInfo> ReadParquetFileInfo(sql::Connection& conn, const std::string& path);

}  // namespace tributary::lake::parquet

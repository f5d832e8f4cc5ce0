#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "lake/delta/actions.h"
#include "lake/delta/schema.h"
#include "lake/delta/snapshot.h"
#include "lake/parquet/parquet_reader.h"
#include "sql/database.h"

namespace tributary::lake::delta::internal {

/// One data file to read, with the log's partition values and a row-position filter.
struct FileRead {
  std::string path;  ///< resolved local path
  PartitionValues partition_values;
  enum class RowFilter { kAll, kExclude, kOnly };
  RowFilter filter = RowFilter::kAll;
  std::vector<uint64_t> rows;  ///< sorted positions for kExclude / kOnly
};

/// An extra output column appended after the table columns.
struct ExtraColumn {
  std::string alias;
  std::string
      expression;  ///< SQL over the file's columns (e.g. "_change_type") or a literal
  std::string duckdb_type;
};

/// What to produce from a set of files.
struct SelectSpec {
  std::vector<StructField> columns;  ///< logical top-level columns, output order
  std::vector<std::string> partition_columns;  ///< logical names
  ColumnMappingMode mode = ColumnMappingMode::kNone;
  std::string partition_timezone = "UTC";
  std::vector<ExtraColumn> extras;
};

/// A SELECT (UNION ALL over groups of files with the same Parquet schema and partition
/// values) producing `spec.columns` + extras from `files`; with no files, an empty typed
/// SELECT. Errors: see BuildScanQuery.
Result<std::string> BuildFilesSelect(sql::Connection& connection,
                                     const SelectSpec& spec,
                                     const std::vector<FileRead>& files);

/// BuildFilesSelect with the files' Parquet schemas already read
/// (parquet::ReadSchemas, keyed by FileRead::path). Errors: kInternal when a file's
/// schema is missing from `schemas`; see BuildScanQuery.
Result<std::string> BuildFilesSelect(
    const SelectSpec& spec,
    const std::vector<FileRead>& files,
    const std::map<std::string, parquet::SchemaNode>& schemas);

}  // namespace tributary::lake::delta::internal

#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "datasets/table.h"

namespace tributary::datasets {

/// Options for the loaders.
struct LoadOptions {
  /// Drop tables of the same names first (children before parents; PostgreSQL drops with
  /// CASCADE, which also removes views and foreign keys of other tables that depend on them).
  /// When false, a table that already exists stops the load before anything is written
  /// (kAlreadyExists). Default: false.
  bool replace_existing = false;
  /// Rows per multi-row INSERT for MySQL/MariaDB (PostgreSQL uses COPY and ignores it).
  /// Statements are also cut at about 4 MiB. Default: 1000. Must be >= 1.
  size_t mysql_batch_rows = 1000;

  /// kInvalidArgument for a zero batch size.
  Status Validate() const;
};

/// What was loaded into one table.
struct TableLoadReport {
  std::string table;
  std::string source;  ///< CSV file name, or "generated"
  int64_t rows = 0;
  std::vector<ColumnSpec> columns;
  std::vector<std::string> primary_key;  ///< empty when none could be chosen
  double seconds = 0;
};

/// What a load did, table by table in load order.
struct LoadReport {
  std::string target;  ///< the DSN with its password masked
  std::vector<TableLoadReport> tables;
};

/// Creates and fills `tables` in order (parents before children), one transaction per
/// table: PostgreSQL runs CREATE TABLE + COPY FROM STDIN (text format, sent with
/// PQputCopyData) + COMMIT; MySQL/MariaDB runs CREATE TABLE, then multi-row INSERTs in one
/// transaction, and drops the table again if the inserts fail (MySQL DDL cannot be rolled
/// back). `dsn` as for ParseTargetDsn(); errors and the report show it with the password
/// masked. Identifiers are always quoted.
///
/// Errors: ParseTargetDsn's; kNetwork when the server cannot be reached; kAlreadyExists
/// when a table exists and !options.replace_existing; kInvalidArgument when the server
/// rejects a value, naming the table, the file and line (or the generated row) and the
/// server's message (which names the column).
Result<LoadReport> LoadTables(const std::vector<TableData>& tables, std::string_view dsn,
                              const LoadOptions& options = {});

/// Generates the sample dataset `name` ("retail" or "store", see generate.h) at `scale`
/// and loads it with LoadTables. Errors: GenerateDataset's and LoadTables'.
Result<LoadReport> LoadDataset(std::string_view name, int scale, std::string_view dsn,
                               const LoadOptions& options = {});

/// Reads every *.csv file of `dir` (not recursive, sorted by name) into a table named after
/// the file (customer.csv -> customer, name kept as written), with column types and the
/// primary key inferred (infer.h). Errors: kNotFound for a missing directory or one without
/// CSV files, and ReadCsvFile's errors (file, line and field named).
Result<std::vector<TableData>> ReadCsvDirectory(const std::filesystem::path& dir);

/// ReadCsvDirectory, then LoadTables.
Result<LoadReport> LoadCsvDirectory(const std::filesystem::path& dir, std::string_view dsn,
                                    const LoadOptions& options = {});

}  // namespace tributary::datasets

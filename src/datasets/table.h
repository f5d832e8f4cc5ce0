#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tributary::datasets {

/// The column types a loaded table can have. The set is what CSV inference can tell apart
/// from text, and it is also all the generated datasets need.
enum class ColumnType {
  kBoolean,
  kInteger,  ///< 32-bit signed
  kBigint,   ///< 64-bit signed
  kNumeric,  ///< exact decimal numeric(precision, scale)
  kDate,
  kTimestamp,  ///< without time zone, microsecond precision at most
  kText,
};

/// One column of a table.
struct ColumnSpec {
  std::string name;
  ColumnType type = ColumnType::kText;
  int precision = 0;  ///< kNumeric only: total digits, 1..65 (MySQL's DECIMAL limit)
  int scale = 0;      ///< kNumeric only: digits after the point, 0..min(precision, 30)
  bool nullable = true;
};

/// A foreign key: `columns` of this table reference `ref_columns` of `ref_table`.
struct ForeignKey {
  std::vector<std::string> columns;
  std::string ref_table;
  std::vector<std::string> ref_columns;
};

/// Table definition: name, columns in order, primary key (may be empty), foreign keys.
struct TableSpec {
  std::string name;
  std::vector<ColumnSpec> columns;
  std::vector<std::string> primary_key;
  std::vector<ForeignKey> foreign_keys;

  /// Index of the column named `name` (exact match), or nullopt.
  std::optional<size_t> ColumnIndex(std::string_view column_name) const;
};

/// One row: one value per column, as text in the canonical form the loaders send to the
/// server (integers as digits, numerics as plain decimal text, dates as YYYY-MM-DD,
/// timestamps as YYYY-MM-DD HH:MM:SS[.ffffff], booleans as true/false); nullopt is NULL.
using Row = std::vector<std::optional<std::string>>;

/// A table definition with its rows, ready to load.
struct TableData {
  TableSpec spec;
  std::vector<Row> rows;
  /// Where the rows came from, for error messages ("salesorder.csv"); empty when generated.
  std::string source;
  /// For rows read from a file: the 1-based line on which row i starts (same size as
  /// rows). Empty for generated rows.
  std::vector<int64_t> source_lines;

  /// "file.csv line 12" for row `row_idx` of a file-backed table, else "row 12 of <table>".
  std::string DescribeRow(size_t row_idx) const;
};

/// The lower-case SQL-ish name of a type, for messages and reports ("numeric(10,2)").
std::string ColumnTypeName(const ColumnSpec& column);

}  // namespace tributary::datasets

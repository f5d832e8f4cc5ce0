#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

/// In-memory rows that DuckDB queries read in place: a RowBatch holds typed columns built
/// row by row in C++, and a BatchScan is a table function `name()` reading it
/// (`COPY (SELECT ... FROM name()) TO ...`). No staging table, no per-value boxing: the
/// scan fills DuckDB's vectors from the batch's arrays (duckdb.h "Table Functions").
namespace tributary::sql {

/// Column types of a RowBatch and the DuckDB type its scan produces. Append with the
/// matching call (a mismatch is a programming error, TRIB_DCHECK):
enum class BatchType {
  kBoolean,      ///< BOOLEAN - AppendBool
  kTinyInt,      ///< TINYINT - AppendInt64 (value must fit)
  kSmallInt,     ///< SMALLINT - AppendInt64 (value must fit)
  kInteger,      ///< INTEGER - AppendInt64 (value must fit)
  kBigInt,       ///< BIGINT - AppendInt64
  kFloat,        ///< FLOAT - AppendDouble (narrowed)
  kDouble,       ///< DOUBLE - AppendDouble
  kVarchar,      ///< VARCHAR - AppendString (UTF-8; the caller's duty)
  kBlob,         ///< BLOB - AppendString (any bytes)
  kDate,         ///< DATE - AppendInt64 (days since 1970-01-01)
  kTimestamp,    ///< TIMESTAMP - AppendInt64 (microseconds since the epoch, no zone)
  kTimestampTz,  ///< TIMESTAMP WITH TIME ZONE - AppendInt64 (microseconds since the
                 ///< epoch, UTC)
  kDecimal,      ///< DECIMAL(width, scale), width 1..38 - AppendInt64 or AppendDecimal128
                 ///< with the unscaled value (12.34 in DECIMAL(9,2) is 1234)
};

/// One column of a RowBatch.
struct BatchColumn {
  std::string name;
  BatchType type = BatchType::kVarchar;
  /// kDecimal only: precision 1..38 and scale 0..width. Default: 18, 0.
  uint8_t width = 18;
  uint8_t scale = 0;
};

/// The DuckDB SQL type name of a column ("BIGINT", "DECIMAL(12,2)", ...).
std::string BatchTypeName(const BatchColumn& column);

/// Rows in columnar arrays, appended row-wise: one Append* per column in column order,
/// then EndRow(). Not thread-safe; a BatchScan reads it while a query runs on the thread
/// that owns it.
class RowBatch {
 public:
  explicit RowBatch(std::vector<BatchColumn> columns);
  ~RowBatch();
  RowBatch(RowBatch&&) noexcept;
  RowBatch& operator=(RowBatch&&) noexcept;
  RowBatch(const RowBatch&) = delete;
  RowBatch& operator=(const RowBatch&) = delete;

  const std::vector<BatchColumn>& columns() const { return columns_; }
  size_t column_count() const { return columns_.size(); }
  /// Complete rows (EndRow() called).
  size_t row_count() const { return rows_; }
  /// Approximate bytes held by the rows (cells and string bytes), for batch size limits.
  size_t memory_bytes() const;

  void AppendNull();
  void AppendBool(bool value);
  void AppendInt64(int64_t value);
  void AppendDouble(double value);
  /// Copies the bytes into the batch.
  void AppendString(std::string_view value);
  /// A DECIMAL(width > 18) unscaled value as two's complement 128 bits: high * 2^64 +
  /// low.
  void AppendDecimal128(uint64_t low, int64_t high);
  /// Ends the row; every column must have had exactly one Append* since the last EndRow.
  void EndRow();

  /// Drops every row; keeps the columns and the allocated capacity.
  void Clear();
  /// Drops the first `rows` rows (at most row_count()); later rows move to the front.
  void EraseFront(size_t rows);

  /// Read access (for BatchScan and tests). `row` < row_count(), `column` <
  /// column_count().
  bool IsNull(size_t column, size_t row) const;
  int64_t GetInt64(size_t column,
                   size_t row) const;  ///< integers, dates, timestamps, decimals <= 18
  double GetDouble(size_t column, size_t row) const;
  bool GetBool(size_t column, size_t row) const;
  std::string_view GetString(size_t column, size_t row) const;
  /// kDecimal with width > 18: {low, high}.
  std::pair<uint64_t, int64_t> GetDecimal128(size_t column, size_t row) const;

  struct Column;

 private:
  friend struct BatchScanAccess;  // row_batch.cc: fills DuckDB vectors from the arrays
  Column& NextColumn();

  std::vector<BatchColumn> columns_;
  std::vector<Column> data_;
  size_t rows_ = 0;
  size_t next_column_ = 0;
};

class Connection;

/// A table function `function_name()` in a connection's database that reads a RowBatch:
/// `SELECT ... FROM function_name()` returns rows [begin_row, end_row) of the batch given
/// to Set(), in batch order, or the rows listed to SetRows(), in list order
/// (single-threaded scan), with projection pushdown (only the columns a query uses are
/// copied). The columns are named and typed as in the batch; the batch (and a SetRows
/// list) is read while each query runs, so keep it unchanged until the query's result is
/// consumed. A query with no batch set fails (kInvalidArgument, naming the function), as
/// does one whose row list names a row past the batch's rows. Created with
/// Connection::CreateBatchScan; use it from the connection's thread. The function stays
/// registered in the database after the BatchScan is gone (queries then fail as with no
/// batch).
class BatchScan {
 public:
  ~BatchScan();
  BatchScan(const BatchScan&) = delete;
  BatchScan& operator=(const BatchScan&) = delete;

  const std::string& function_name() const;
  /// Points the function at `batch` (not owned) rows [begin_row, min(end_row,
  /// row_count)).
  void Set(const RowBatch* batch,
           size_t begin_row = 0,
           size_t end_row = std::numeric_limits<size_t>::max());
  /// Points the function at `batch` (not owned) rows `rows` (not copied), returned in
  /// that order (a row listed twice is returned twice; an empty list returns no rows).
  /// Both must stay alive and unchanged until the last query reading them has consumed
  /// its result, or until the next Set/SetRows/Reset. Every row must be below
  /// batch->row_count() when a query starts (else that query fails naming the row).
  void SetRows(const RowBatch* batch, std::span<const uint32_t> rows);
  /// No batch: queries of the function fail until the next Set() or SetRows().
  void Reset();

  struct Impl;

 private:
  friend struct BatchScanAccess;
  explicit BatchScan(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tributary::sql

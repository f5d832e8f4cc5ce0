#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/position.h"
#include "core/result.h"
#include "core/schema.h"
#include "core/value.h"
#include "lake/delta/schema.h"
#include "sql/database.h"
#include "sql/row_batch.h"

/// Source types -> Delta types for silver tables (DESIGN.md "Types"), and the conversion of
/// core::Value cells into DuckDB staging tables and sql::RowBatch columns.
///
/// Mapping (exact where the source is exact):
///   bool -> boolean; int8 -> byte; int16 -> short; int32 -> integer; int64 -> long;
///   uint8 -> short; uint16 -> integer; uint32 -> long; uint64 -> decimal(20,0);
///   float -> float; double -> double;
///   decimal(p,s), p <= 38 -> decimal(p,s); decimal(p,s), p > 38 -> decimal(38,s) when
///   s <= 38 else string; numeric without typmod (variable scale) -> string (its exact text:
///   the scale of each value is its own, so no fixed decimal holds every value; never double);
///   string/json/jsonb/uuid/enum/interval/time/timetz -> string (interval as ISO-8601
///   duration, time as "HH:MM:SS[.ffffff]", timetz with its offset);
///   bytes -> binary; date -> date; timestamp -> timestamp_ntz; timestamptz -> timestamp;
///   array<T> -> string holding the JSON array (see ValueToJsonText).
namespace tributary::pipeline {

/// The Delta type of a silver column holding values of `type`.
lake::delta::DataType SilverDeltaType(const core::DataType& type);

/// The value as text: strings as they are, numbers in plain notation, decimals exact,
/// dates "YYYY-MM-DD", timestamps ISO-8601 ("2024-01-31T10:00:00.5", "...Z" with a zone),
/// uuids hyphenated, bytes as lower-case hex, arrays as JSON. Null gives "".
std::string ValueText(const core::Value& value);

/// A JSON rendering: null, true/false, numbers (decimals as JSON numbers when finite),
/// strings, arrays.
std::string ValueToJsonText(const core::Value& value);

/// The RowBatch column holding values of Delta type `type` (bronze's and silver's staged
/// rows): the matching typed column for primitive types (decimals as unscaled integers,
/// dates as days, timestamps as microseconds); VARCHAR (ValueText) for other types,
/// which the query CASTs to lake::delta::DuckDbTypeOf(type) - see IsNativeBatchColumn.
sql::BatchColumn DeltaBatchColumn(std::string name, const lake::delta::DataType& type);

/// Whether DeltaBatchColumn gives `type` its own column type (false: VARCHAR + CAST).
bool IsNativeBatchColumn(const lake::delta::DataType& type);

/// Appends one cell to the current row of `batch`, whose next column is `column` (made by
/// DeltaBatchColumn). Unavailable and null values, and decimal NaN/Infinity in a decimal
/// column, append NULL. A value of another kind is converted when the column can hold it:
/// integers, decimals (rounded half away from zero to the column's scale), floats
/// (rounded) and numeric text into numeric columns, dates into timestamps and back, any
/// value into VARCHAR as ValueText. Errors (nothing appended): kInvalidArgument naming
/// the value and the column type when it does not fit (out of range, not convertible).
Status AppendBatchValue(sql::RowBatch& batch,
                        const sql::BatchColumn& column,
                        const core::Value& value);

/// SourcePosition::ToString() for many positions, reusing the text of the last commit
/// LSN (the rows of one PostgreSQL transaction share it). Not thread-safe.
class PositionFormatter {
 public:
  /// The position's ToString() text; valid until the next call.
  std::string_view Format(const core::SourcePosition& position);

 private:
  uint64_t commit_lsn_ = 0;
  bool has_prefix_ = false;
  size_t prefix_size_ = 0;
  std::string text_;
};

/// Appends microseconds since the epoch to a TIMESTAMPTZ column.
Status AppendTimestampMicros(sql::Appender& appender, int64_t micros);

/// "2024-01-31 10:00:00.123456+00" (for TIMESTAMPTZ literals and appends).
std::string TimestampTzText(int64_t micros);

/// Logs a warning for the checkpoint problem a lake write of `table` reported (a failed
/// checkpoint or log cleanup: the write itself stands); nothing when there is none.
void WarnCheckpointProblem(const std::optional<std::string>& problem, std::string_view table);

/// Current wall time, microseconds since the epoch.
int64_t NowMicros();

}  // namespace tributary::pipeline

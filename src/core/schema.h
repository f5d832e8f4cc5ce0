#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/value.h"

namespace tributary::core {

/// Logical column type kinds. They mirror ValueKind without kNull/kUnavailable: a column
/// of kind kInt32 holds Value::Int32, null, or (in before/after images) unavailable.
enum class TypeKind : uint8_t {
  kBool,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kUInt8,
  kUInt16,
  kUInt32,
  kUInt64,
  kFloat,
  kDouble,
  kDecimal,
  kString,
  kBytes,
  kDate,
  kTime,
  kTimeTz,
  kTimestamp,
  kTimestampTz,
  kInterval,
  kUuid,
  kJson,
  kEnum,
  kArray,
};

/// "bool", "int32", "decimal", ... (stable).
std::string_view TypeKindName(TypeKind kind);
/// The ValueKind a non-null value of this type has.
ValueKind ValueKindOf(TypeKind kind);

/// A logical type: a kind plus its parameters.
struct DataType {
  TypeKind kind = TypeKind::kString;
  /// kDecimal: total digits (-1 = unconstrained, as PostgreSQL `numeric`).
  /// kTime/kTimeTz/kTimestamp/kTimestampTz: fractional-second digits 0-6 (-1 = default
  /// 6). kString/kBytes: maximum length (-1 = unbounded). Informational.
  int32_t precision = -1;
  /// kDecimal: digits after the point. Ignored when variable_scale.
  int32_t scale = 0;
  /// kDecimal whose values carry their own scale (PostgreSQL `numeric` without typmod;
  /// Debezium io.debezium.data.VariableScaleDecimal).
  bool variable_scale = false;
  /// kArray: the element type (never null for kArray).
  std::shared_ptr<const DataType> element;
  /// kEnum: the allowed labels in declaration order (may be empty if unknown).
  std::vector<std::string> enum_values;
  /// The source's own type name, e.g. "int4", "varchar(20)", "decimal(10,2) unsigned".
  /// Informational; empty when unknown.
  std::string source_type;
  /// The Kafka Connect semantic name to use when encoding this column as Debezium JSON,
  /// e.g. "io.debezium.time.Timestamp" for a MySQL DATETIME(3) or
  /// "io.debezium.time.MicroDuration". Empty: the default for the kind (see
  /// debezium_json.h). Set by the Debezium decoder so that re-encoding gives the
  /// original.
  std::string connect_name;
  /// Extra Connect schema parameters carried through unchanged (e.g.
  /// "__debezium.source.column.type"). The decoder stores unknown ones here.
  std::map<std::string, std::string> connect_parameters;

  static DataType Of(TypeKind kind);
  /// DECIMAL(precision, scale).
  static DataType Decimal(int32_t precision, int32_t scale);
  /// Unconstrained numeric: each value has its own scale.
  static DataType VariableDecimal();
  static DataType ArrayOf(DataType element);
  static DataType EnumOf(std::vector<std::string> labels);
  /// A time/timestamp kind with `fraction_digits` (0-6) fractional-second digits.
  static DataType Temporal(TypeKind kind, int32_t fraction_digits);

  /// "decimal(10,2)", "array<int32>", "enum('a','b')", "timestamp(3)".
  std::string ToString() const;
  bool operator==(const DataType& other) const;
  bool operator!=(const DataType& other) const { return !(*this == other); }
};

/// One column of a table.
struct Column {
  std::string name;
  DataType type;
  bool nullable = true;
  /// 0-based position of this column in the primary key, or -1 if not part of it.
  int32_t key_position = -1;
  /// The column default as a typed value, when known.
  std::optional<Value> default_value;

  bool is_key() const { return key_position >= 0; }
  bool operator==(const Column& other) const = default;
};

/// Identifies a source table. PostgreSQL fills all three; MySQL has no schema level
/// (database = the MySQL database, schema empty).
struct TableId {
  std::string database;
  std::string schema;
  std::string table;

  /// "schema.table" when schema is set (PostgreSQL), else "database.table" (MySQL), else
  /// "table". Stable: used in topic names, file names and logs.
  std::string ToString() const;
  /// The "db.schema.table" form with every non-empty part.
  std::string FullName() const;

  auto operator<=>(const TableId& other) const = default;
  bool operator==(const TableId& other) const = default;
};

struct TableIdHash {
  size_t operator()(const TableId& id) const;
};

/// The columns of a table in source order plus its primary key.
/// Plain data; share one instance between events as shared_ptr<const TableSchema>.
struct TableSchema {
  TableId id;
  std::vector<Column> columns;
  /// Indices into `columns`, in key order. Empty when the table has no primary key.
  std::vector<size_t> primary_key;

  /// The column named `name` (exact, case-sensitive match), or nullptr.
  const Column* Find(std::string_view name) const;
  /// Its index, if present.
  std::optional<size_t> FindIndex(std::string_view name) const;

  /// Sets each column's key_position from `primary_key` (call after editing either).
  void SyncKeyPositions();
  /// Builds `primary_key` from the columns' key_position values.
  void SyncPrimaryKeyFromColumns();

  /// Checks: unique non-empty column names, key indices in range and unique, array types
  /// have an element type. kInvalidArgument naming the table and column otherwise.
  Status Validate() const;

  /// Checks that `row` has one value per column and each non-null, non-unavailable value
  /// has the column's kind. kInvalidArgument naming the table and column otherwise.
  Status CheckRow(const std::vector<Value>& row) const;

  bool operator==(const TableSchema& other) const = default;
};

}  // namespace tributary::core

template <>
struct std::hash<tributary::core::TableId> {
  size_t operator()(const tributary::core::TableId& id) const {
    return tributary::core::TableIdHash()(id);
  }
};

#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/debezium_json.h"
#include "core/json_writer.h"
#include "core/result.h"
#include "core/schema.h"
#include "core/value.h"

/// Kafka Connect schemas and values for single columns, as the Debezium connectors write
/// them through the JsonConverter. Private to core (debezium_json.cc and its tests).
///
/// Type mapping implemented: Debezium reference documentation, "Debezium connector for
/// PostgreSQL" > "Data type mappings" ("Basic types", "Temporal types", "TIMESTAMP type",
/// "Decimal types", "HSTORE"/"Network address" types are strings) and "Debezium connector
/// for MySQL" > "Data type mappings"; the semantic types are debezium-core's
/// io.debezium.time.* (Date, Time, MicroTime, NanoTime, Timestamp, MicroTimestamp,
/// NanoTimestamp, ZonedTime, ZonedTimestamp, MicroDuration, Interval) and
/// io.debezium.data.* (VariableScaleDecimal, Json, Uuid, Enum, EnumSet, Bits), and Kafka
/// Connect's org.apache.kafka.connect.data.Decimal. Default mapping by kind when
/// DataType::connect_name is empty:
///   bool -> boolean; int8/int16/uint8 -> int16 (Debezium maps TINYINT to INT16);
///   int32/uint16 -> int32; int64/uint32 -> int64;
///   uint64 -> org.apache.kafka.connect.data.Decimal scale 0
///   (bigint.unsigned.handling.mode = precise, so values above 2^63 stay exact); float ->
///   float32; double -> float64; decimal(p,s) -> org.apache.kafka.connect.data.Decimal:
///   bytes = base64 of the unscaled value as big-endian two's complement, parameters
///   {scale, connect.decimal.precision}; variable-scale decimal ->
///   io.debezium.data.VariableScaleDecimal struct {scale, value}; with
///   decimal.handling.mode=string both become plain strings; string -> string; bytes ->
///   bytes (base64 text); date -> int32 io.debezium.time.Date (days since epoch);
///   time(p<=3) -> int32 io.debezium.time.Time (ms), else int64
///   io.debezium.time.MicroTime; timetz -> string io.debezium.time.ZonedTime (ISO-8601,
///   normalised to UTC "Z"); timestamp(p<=3) -> int64 io.debezium.time.Timestamp (ms),
///   else io.debezium.time.MicroTimestamp (us); timestamptz -> string
///   io.debezium.time.ZonedTimestamp (ISO-8601 UTC, fraction without trailing zeros);
///   interval -> int64 io.debezium.time.MicroDuration (interval.handling.mode=numeric, a
///   month counted as 30.4375 days as Debezium does);
///   uuid -> string io.debezium.data.Uuid; json -> string io.debezium.data.Json;
///   enum -> string io.debezium.data.Enum with parameter allowed="a,b";
///   array -> array of the element schema.
/// A non-empty connect_name selects another representation of the same kind:
///   io.debezium.time.{Time,MicroTime,NanoTime},
///   {Timestamp,MicroTimestamp,NanoTimestamp}, io.debezium.time.Interval (ISO-8601
///   "P1Y2M3DT4H5M6.78S") for interval, io.debezium.data.Bits for bytes,
///   io.debezium.data.EnumSet for enum; any other name is written as-is on the kind's
///   default Connect type (e.g. io.debezium.data.Xml).
/// Infinity timestamps/dates are written as the int64/int32 limits (strings "infinity" /
/// "-infinity" for ZonedTimestamp) and read back the same way.
/// NaN/±Infinity decimals are null with decimal.handling.mode=precise (they have no
/// Connect Decimal form; Debezium does the same) and "NaN"/"Infinity"/"-Infinity" with
/// string. Unavailable values: the placeholder string for string-like types, its UTF-8
/// bytes for bytes-like types, a one-element array of it for arrays, null otherwise.
namespace tributary::core::internal {

using OrderedJson = nlohmann::ordered_json;

inline constexpr std::string_view kConnectDecimal =
    "org.apache.kafka.connect.data.Decimal";
inline constexpr std::string_view kVariableScaleDecimal =
    "io.debezium.data.VariableScaleDecimal";
inline constexpr std::string_view kDebeziumDate = "io.debezium.time.Date";
inline constexpr std::string_view kDebeziumTime = "io.debezium.time.Time";
inline constexpr std::string_view kDebeziumMicroTime = "io.debezium.time.MicroTime";
inline constexpr std::string_view kDebeziumNanoTime = "io.debezium.time.NanoTime";
inline constexpr std::string_view kDebeziumTimestamp = "io.debezium.time.Timestamp";
inline constexpr std::string_view kDebeziumMicroTimestamp =
    "io.debezium.time.MicroTimestamp";
inline constexpr std::string_view kDebeziumNanoTimestamp =
    "io.debezium.time.NanoTimestamp";
inline constexpr std::string_view kDebeziumZonedTimestamp =
    "io.debezium.time.ZonedTimestamp";
inline constexpr std::string_view kDebeziumZonedTime = "io.debezium.time.ZonedTime";
inline constexpr std::string_view kDebeziumMicroDuration =
    "io.debezium.time.MicroDuration";
inline constexpr std::string_view kDebeziumInterval = "io.debezium.time.Interval";
inline constexpr std::string_view kDebeziumJson = "io.debezium.data.Json";
inline constexpr std::string_view kDebeziumUuid = "io.debezium.data.Uuid";
inline constexpr std::string_view kDebeziumEnum = "io.debezium.data.Enum";
inline constexpr std::string_view kDebeziumEnumSet = "io.debezium.data.EnumSet";
inline constexpr std::string_view kDebeziumBits = "io.debezium.data.Bits";
/// Schema parameters of Debezium's `column.propagate.source.type` option. Written from
/// DataType::source_type and, for non-decimal kinds, DataType::precision when set, and
/// read back into them, so a schema survives encode/decode.
inline constexpr std::string_view kSourceColumnTypeParameter =
    "__debezium.source.column.type";
inline constexpr std::string_view kSourceColumnLengthParameter =
    "__debezium.source.column.length";

/// How a column's values look in Connect JSON.
enum class ConnectRepr : uint8_t {
  kBoolean,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kFloat32,
  kFloat64,
  kString,
  kBytes,
  kDecimalBytes,     ///< Connect Decimal
  kVariableDecimal,  ///< VariableScaleDecimal struct
  kDecimalString,    ///< decimal.handling.mode=string
  kDateDays,
  kTimeMillis,
  kTimeMicros,
  kTimeNanos,
  kZonedTime,
  kTimestampMillis,
  kTimestampMicros,
  kTimestampNanos,
  kZonedTimestamp,
  kMicroDuration,
  kIsoInterval,
  kUuidString,
  kJsonString,
  kEnumString,
  kBits,
  kArray,
};

struct ConnectMapping {
  ConnectRepr repr;
  std::string_view type;  ///< Connect type: "int32", "string", "struct", ...
  /// Semantic name, empty for plain types. Points into a constant or into the DataType
  /// passed to MappingFor, which must outlive the mapping.
  std::string_view name;
};

/// The Connect representation of a column type (see the table above).
ConnectMapping MappingFor(const DataType& type,
                          DebeziumEncodeOptions::DecimalHandling decimal_handling);

/// The Connect schema of a type, without "field": {"type", "optional", "name", "version",
/// "parameters", "items"/"fields"}.
OrderedJson ConnectSchemaFor(const DataType& type,
                             bool optional,
                             const DebeziumEncodeOptions& options);

/// The schema of one struct field: ConnectSchemaFor plus "default" and "field".
Result<OrderedJson> ConnectFieldSchema(const Column& column,
                                       const DebeziumEncodeOptions& options);

/// Names a field for error messages without building the string unless an error
/// happens: {parent, "price"} is "<parent>.price", {parent, {}, 3} is "<parent>[3]".
/// Parents must outlive the path (they are stack objects of the callers).
struct FieldPath {
  const FieldPath* parent = nullptr;
  std::string_view name;
  std::optional<size_t> index;

  std::string ToString() const;
};

/// Writes the Connect JSON of one value of `type` to `writer` (the hot path of
/// EncodeDebeziumValue; EncodeConnectValue is this plus a parse). kInvalidArgument
/// naming `path` as EncodeConnectValue; on error the writer holds a partial value.
/// Strings that are not valid UTF-8 are reported by the writer (writer.ok()).
Status WriteConnectValue(JsonWriter& writer,
                         const Value& value,
                         const DataType& type,
                         const DebeziumEncodeOptions& options,
                         const FieldPath& path);

/// The Connect JSON of one value of `type`. `path` names the field in errors
/// ("after.price"). kInvalidArgument when the value's kind does not match the type or it
/// cannot be represented (a decimal that needs rounding to the column scale).
Result<OrderedJson> EncodeConnectValue(const Value& value,
                                       const DataType& type,
                                       const DebeziumEncodeOptions& options,
                                       const std::string& path);

/// Reads a Connect schema (as produced by ConnectSchemaFor or by Debezium) into a type.
/// Structs and maps other than VariableScaleDecimal become kJson (their payload is kept
/// as JSON text). kInvalidArgument naming `path` on a malformed schema.
Result<DataType> DataTypeFromConnectSchema(const OrderedJson& schema,
                                           const std::string& path);

/// Reads a struct field schema into a Column (name, type, nullable, default).
Result<Column> ColumnFromConnectField(const OrderedJson& field, const std::string& path);

/// Reads one value written with the Connect representation of `type` (with
/// `decimal_handling` as it was encoded; a schema read by DataTypeFromConnectSchema
/// already types string-mode decimals as strings). kInvalidArgument naming `path` when
/// the JSON does not fit.
Result<Value> DecodeConnectValue(const OrderedJson& json,
                                 const DataType& type,
                                 const std::string& path,
                                 DebeziumEncodeOptions::DecimalHandling decimal_handling =
                                     DebeziumEncodeOptions::DecimalHandling::kPrecise);

/// Schemaless typing: the type a JSON value suggests (integer -> int64, or uint64 above
/// INT64_MAX; other numbers -> double; string; boolean; array of the first non-null
/// element's type; object -> json). Null gives nullopt.
std::optional<DataType> InferDataType(const OrderedJson& json);

/// Combines two inferred types of one column: equal types stay, int64 with double gives
/// double, an array with an unknown element takes the other's. nullopt when incompatible.
std::optional<DataType> MergeInferredTypes(const DataType& a, const DataType& b);

/// Reads a schemaless value as `type` (from InferDataType/MergeInferredTypes).
Result<Value> DecodeSchemalessValue(const OrderedJson& json,
                                    const DataType& type,
                                    const std::string& path);

/// "string", "number", "object", ... for error messages.
std::string_view JsonTypeName(const OrderedJson& json);

}  // namespace tributary::core::internal

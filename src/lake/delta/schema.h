#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace tributary::lake::delta {

/// The kinds of Delta data types (PROTOCOL.md "Schema Serialization Format").
enum class TypeKind {
  kString,
  kLong,
  kInteger,
  kShort,
  kByte,
  kFloat,
  kDouble,
  kDecimal,
  kBoolean,
  kBinary,
  kDate,
  kTimestamp,     ///< microseconds since epoch, UTC ("timestamp")
  kTimestampNtz,  ///< microseconds, no time zone ("timestamp_ntz", feature timestampNtz)
  kVariant,       ///< "variant" (parsed so a schema round-trips; not readable yet)
  kStruct,
  kArray,
  kMap,
};

struct StructField;

/// A Delta data type. Primitive kinds use only `kind` (and precision/scale for decimals);
/// kStruct uses `fields`; kArray uses children[0] (element) and `contains_null`; kMap
/// uses children[0] (key), children[1] (value) and `contains_null` (valueContainsNull).
/// Plain value type: cheap enough to copy for schemas of a few hundred columns.
struct DataType {
  TypeKind kind = TypeKind::kString;
  int precision = 0;  ///< decimal only, 1..38
  int scale = 0;      ///< decimal only, 0..precision
  std::vector<StructField> fields;
  std::vector<DataType> children;
  bool contains_null = true;

  static DataType Primitive(TypeKind kind);
  static DataType Decimal(int precision, int scale);
  static DataType Struct(std::vector<StructField> fields);
  static DataType Array(DataType element, bool contains_null = true);
  static DataType Map(DataType key, DataType value, bool value_contains_null = true);

  bool is_primitive() const {
    return kind != TypeKind::kStruct && kind != TypeKind::kArray &&
           kind != TypeKind::kMap;
  }
  /// Requires kind == kArray.
  const DataType& element() const { return children.at(0); }
  /// Require kind == kMap.
  const DataType& key() const { return children.at(0); }
  const DataType& value() const { return children.at(1); }

  /// The Delta type name: "long", "decimal(10,2)", "array<int>", "map<string,long>",
  /// "struct<a:int,b:string>" (the last three are for messages, not the JSON form).
  std::string ToString() const;

  /// Structural equality (names, types, nullability; field metadata ignored).
  bool Equals(const DataType& other) const;
};

/// A named column or nested struct field (PROTOCOL.md "Struct Field"). `metadata` holds
/// the field's JSON metadata object: e.g. "delta.columnMapping.id" (number),
/// "delta.columnMapping.physicalName" (string), "delta.typeChanges" (array), comments.
struct StructField {
  std::string name;
  DataType type;
  bool nullable = true;
  std::map<std::string, nlohmann::json> metadata;

  /// The string metadata value for `key`, if present and a string.
  std::optional<std::string> MetadataString(std::string_view key) const;
  /// The integer metadata value for `key`, if present and an integer.
  std::optional<int64_t> MetadataInt(std::string_view key) const;
};

/// A table schema: the top-level struct of `metaData.schemaString`.
struct StructType {
  std::vector<StructField> fields;

  /// The field named `name` (exact match first, then ASCII case-insensitive, as Delta
  /// column names are case-insensitive), or nullptr.
  const StructField* Find(std::string_view name) const;
  /// The index of the field named `name` (same matching as Find), or -1.
  int IndexOf(std::string_view name) const;
};

/// Parses a Delta type JSON value (a primitive name string, or a struct/array/map
/// object). Errors: kCorruption for malformed JSON shapes; kUnsupported for unknown type
/// names.
Result<DataType> ParseDataType(const nlohmann::json& json);

/// Parses `metaData.schemaString` (PROTOCOL.md "Schema Serialization Format").
/// Errors: kCorruption if it is not valid JSON or not a struct; kUnsupported for unknown
/// types.
Result<StructType> ParseSchemaString(std::string_view schema_string);

/// The JSON value of a type, as ParseDataType reads it.
nlohmann::json DataTypeToJson(const DataType& type);

/// The JSON object of a field: {"name","type","nullable","metadata"}.
nlohmann::json StructFieldToJson(const StructField& field);

/// Serializes a schema to the `schemaString` form: {"type":"struct","fields":[...]}.
std::string SerializeSchema(const StructType& schema);

}  // namespace tributary::lake::delta

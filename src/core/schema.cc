#include "core/schema.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace tributary::core {

std::string_view TypeKindName(TypeKind kind) {
  switch (kind) {
    case TypeKind::kBool:
      return "bool";
    case TypeKind::kInt8:
      return "int8";
    case TypeKind::kInt16:
      return "int16";
    case TypeKind::kInt32:
      return "int32";
    case TypeKind::kInt64:
      return "int64";
    case TypeKind::kUInt8:
      return "uint8";
    case TypeKind::kUInt16:
      return "uint16";
    case TypeKind::kUInt32:
      return "uint32";
    case TypeKind::kUInt64:
      return "uint64";
    case TypeKind::kFloat:
      return "float";
    case TypeKind::kDouble:
      return "double";
    case TypeKind::kDecimal:
      return "decimal";
    case TypeKind::kString:
      return "string";
    case TypeKind::kBytes:
      return "bytes";
    case TypeKind::kDate:
      return "date";
    case TypeKind::kTime:
      return "time";
    case TypeKind::kTimeTz:
      return "timetz";
    case TypeKind::kTimestamp:
      return "timestamp";
    case TypeKind::kTimestampTz:
      return "timestamptz";
    case TypeKind::kInterval:
      return "interval";
    case TypeKind::kUuid:
      return "uuid";
    case TypeKind::kJson:
      return "json";
    case TypeKind::kEnum:
      return "enum";
    case TypeKind::kArray:
      return "array";
  }
  return "unknown";
}

ValueKind ValueKindOf(TypeKind kind) {
  // TypeKind mirrors ValueKind shifted by the two non-type kinds (null, unavailable).
  return static_cast<ValueKind>(static_cast<uint8_t>(kind) + 2);
}

DataType DataType::Of(TypeKind kind) {
  DataType out;
  out.kind = kind;
  return out;
}

DataType DataType::Decimal(int32_t precision, int32_t scale) {
  DataType out = Of(TypeKind::kDecimal);
  out.precision = precision;
  out.scale = scale;
  return out;
}

DataType DataType::VariableDecimal() {
  DataType out = Of(TypeKind::kDecimal);
  out.variable_scale = true;
  return out;
}

DataType DataType::ArrayOf(DataType element) {
  DataType out = Of(TypeKind::kArray);
  out.element = std::make_shared<const DataType>(std::move(element));
  return out;
}

DataType DataType::EnumOf(std::vector<std::string> labels) {
  DataType out = Of(TypeKind::kEnum);
  out.enum_values = std::move(labels);
  return out;
}

DataType DataType::Temporal(TypeKind kind, int32_t fraction_digits) {
  DataType out = Of(kind);
  out.precision = fraction_digits;
  return out;
}

std::string DataType::ToString() const {
  switch (kind) {
    case TypeKind::kDecimal:
      if (variable_scale) {
        return "decimal";
      }
      return fmt::format("decimal({},{})", precision, scale);
    case TypeKind::kArray:
      return fmt::format("array<{}>", element ? element->ToString() : "?");
    case TypeKind::kEnum: {
      std::string out = "enum(";
      for (size_t idx = 0; idx < enum_values.size(); ++idx) {
        out += fmt::format("{}'{}'", idx == 0 ? "" : ",", enum_values[idx]);
      }
      return out + ")";
    }
    case TypeKind::kTime:
    case TypeKind::kTimeTz:
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampTz:
    case TypeKind::kString:
    case TypeKind::kBytes:
      if (precision >= 0) {
        return fmt::format("{}({})", TypeKindName(kind), precision);
      }
      return std::string(TypeKindName(kind));
    default:
      return std::string(TypeKindName(kind));
  }
}

bool DataType::operator==(const DataType& other) const {
  if (kind != other.kind || precision != other.precision || scale != other.scale ||
      variable_scale != other.variable_scale || enum_values != other.enum_values ||
      source_type != other.source_type || connect_name != other.connect_name ||
      connect_parameters != other.connect_parameters) {
    return false;
  }
  if (static_cast<bool>(element) != static_cast<bool>(other.element)) {
    return false;
  }
  return !element || *element == *other.element;
}

std::string TableId::ToString() const {
  if (!schema.empty()) {
    return fmt::format("{}.{}", schema, table);
  }
  if (!database.empty()) {
    return fmt::format("{}.{}", database, table);
  }
  return table;
}

std::string TableId::FullName() const {
  std::string out;
  for (const std::string* part : {&database, &schema, &table}) {
    if (part->empty()) {
      continue;
    }
    if (!out.empty()) {
      out.push_back('.');
    }
    out += *part;
  }
  return out;
}

size_t TableIdHash::operator()(const TableId& id) const {
  std::hash<std::string> hasher;
  size_t seed = hasher(id.database);
  for (const std::string* part : {&id.schema, &id.table}) {
    seed ^= hasher(*part) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
  }
  return seed;
}

const Column* TableSchema::Find(std::string_view name) const {
  std::optional<size_t> idx = FindIndex(name);
  return idx ? &columns[*idx] : nullptr;
}

std::optional<size_t> TableSchema::FindIndex(std::string_view name) const {
  for (size_t idx = 0; idx < columns.size(); ++idx) {
    if (columns[idx].name == name) {
      return idx;
    }
  }
  return std::nullopt;
}

void TableSchema::SyncKeyPositions() {
  for (Column& column : columns) {
    column.key_position = -1;
  }
  for (size_t key_idx = 0; key_idx < primary_key.size(); ++key_idx) {
    if (primary_key[key_idx] < columns.size()) {
      columns[primary_key[key_idx]].key_position = static_cast<int32_t>(key_idx);
    }
  }
}

void TableSchema::SyncPrimaryKeyFromColumns() {
  std::vector<std::pair<int32_t, size_t>> keyed;
  for (size_t idx = 0; idx < columns.size(); ++idx) {
    if (columns[idx].key_position >= 0) {
      keyed.emplace_back(columns[idx].key_position, idx);
    }
  }
  std::sort(keyed.begin(), keyed.end());
  primary_key.clear();
  for (const auto& [position, idx] : keyed) {
    primary_key.push_back(idx);
  }
}

namespace {
Status ValidateType(const TableSchema& schema,
                    const Column& column,
                    const DataType& type) {
  if (type.kind == TypeKind::kArray) {
    if (!type.element) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "table {} column '{}': array type without an element type",
                       schema.id.ToString(), column.name);
    }
    return ValidateType(schema, column, *type.element);
  }
  return OkStatus();
}

Status CheckValue(const TableSchema& schema,
                  const Column& column,
                  const DataType& type,
                  const Value& value) {
  if (value.is_null() || value.is_unavailable()) {
    return OkStatus();
  }
  if (value.kind() != ValueKindOf(type.kind)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "table {} column '{}' of type {} holds a value of kind {}",
                     schema.id.ToString(), column.name, type.ToString(),
                     ValueKindName(value.kind()));
  }
  if (type.kind == TypeKind::kArray && type.element) {
    for (const Value& element : value.AsArray()) {
      TRIB_RETURN_IF_ERROR(CheckValue(schema, column, *type.element, element));
    }
  }
  return OkStatus();
}
}  // namespace

Status TableSchema::Validate() const {
  std::set<std::string_view> names;
  for (const Column& column : columns) {
    if (column.name.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "table {} has a column without a name", id.ToString());
    }
    if (!names.insert(column.name).second) {
      return MakeError(ErrorCode::kInvalidArgument, "table {} has two columns named '{}'",
                       id.ToString(), column.name);
    }
    TRIB_RETURN_IF_ERROR(ValidateType(*this, column, column.type));
  }
  std::set<size_t> seen;
  for (size_t idx : primary_key) {
    if (idx >= columns.size()) {
      return MakeError(
          ErrorCode::kInvalidArgument,
          "table {}: primary key column index {} is out of range ({} columns)",
          id.ToString(), idx, columns.size());
    }
    if (!seen.insert(idx).second) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "table {}: column '{}' appears twice in the primary key",
                       id.ToString(), columns[idx].name);
    }
  }
  return OkStatus();
}

Status TableSchema::CheckRow(const std::vector<Value>& row) const {
  if (row.size() != columns.size()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "table {}: row has {} values but the table has {} columns",
                     id.ToString(), row.size(), columns.size());
  }
  for (size_t idx = 0; idx < columns.size(); ++idx) {
    TRIB_RETURN_IF_ERROR(CheckValue(*this, columns[idx], columns[idx].type, row[idx]));
  }
  return OkStatus();
}

}  // namespace tributary::core

#include "lake/delta/schema.h"

#include <cctype>
#include <cstdio>
#include <utility>

namespace tributary::lake::delta {

namespace {

using nlohmann::json;

struct PrimitiveName {
  std::string_view name;
  TypeKind kind;
};

// PROTOCOL.md "Primitive Types".
constexpr PrimitiveName kPrimitives[] = {
    {"string", TypeKind::kString},       {"long", TypeKind::kLong},
    {"integer", TypeKind::kInteger},     {"short", TypeKind::kShort},
    {"byte", TypeKind::kByte},           {"float", TypeKind::kFloat},
    {"double", TypeKind::kDouble},       {"boolean", TypeKind::kBoolean},
    {"binary", TypeKind::kBinary},       {"date", TypeKind::kDate},
    {"timestamp", TypeKind::kTimestamp}, {"timestamp_ntz", TypeKind::kTimestampNtz},
    {"variant", TypeKind::kVariant},
};

std::string_view PrimitiveTypeName(TypeKind kind) {
  for (const auto& p : kPrimitives) {
    if (p.kind == kind) {
      return p.name;
    }
  }
  return "";
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

Result<DataType> ParseTypeName(std::string_view name) {
  for (const auto& p : kPrimitives) {
    if (p.name == name) {
      return DataType::Primitive(p.kind);
    }
  }
  // decimal(p,s), with optional spaces; plain "decimal" is decimal(10,0).
  if (name.substr(0, 7) == "decimal") {
    std::string rest(name.substr(7));
    std::string compact;
    for (char c : rest) {
      if (c != ' ') {
        compact += c;
      }
    }
    if (compact.empty()) {
      return DataType::Decimal(10, 0);
    }
    int precision = 0;
    int scale = 0;
    char tail = 0;
    if (std::sscanf(compact.c_str(), "(%d,%d%c", &precision, &scale, &tail) == 3 &&
        tail == ')' && precision >= 1 && precision <= 38 && scale >= 0 &&
        scale <= precision) {
      return DataType::Decimal(precision, scale);
    }
    return MakeError(ErrorCode::kCorruption, "invalid decimal type '{}'", name);
  }
  return MakeError(ErrorCode::kUnsupported, "unsupported Delta data type '{}'", name);
}

Result<StructField> ParseField(const json& json_field) {
  if (!json_field.is_object()) {
    return MakeError(ErrorCode::kCorruption, "struct field is not a JSON object");
  }
  auto name = json_field.find("name");
  if (name == json_field.end() || !name->is_string()) {
    return MakeError(ErrorCode::kCorruption, "struct field without a string 'name'");
  }
  StructField field;
  field.name = name->get<std::string>();
  auto type = json_field.find("type");
  if (type == json_field.end()) {
    return MakeError(ErrorCode::kCorruption, "field '{}' has no 'type'", field.name);
  }
  auto parsed = ParseDataType(*type);
  if (!parsed.ok()) {
    return std::move(parsed).status().AddContext(fmt::format("field '{}'", field.name));
  }
  field.type = std::move(*parsed);
  auto nullable = json_field.find("nullable");
  if (nullable != json_field.end() && nullable->is_boolean()) {
    field.nullable = nullable->get<bool>();
  }
  auto metadata = json_field.find("metadata");
  if (metadata != json_field.end() && metadata->is_object()) {
    for (const auto& [k, v] : metadata->items()) {
      field.metadata[k] = v;
    }
  }
  return field;
}

}  // namespace

DataType DataType::Primitive(TypeKind kind) {
  DataType t;
  t.kind = kind;
  return t;
}

DataType DataType::Decimal(int precision, int scale) {
  DataType t;
  t.kind = TypeKind::kDecimal;
  t.precision = precision;
  t.scale = scale;
  return t;
}

DataType DataType::Struct(std::vector<StructField> fields) {
  DataType t;
  t.kind = TypeKind::kStruct;
  t.fields = std::move(fields);
  return t;
}

DataType DataType::Array(DataType element, bool contains_null) {
  DataType t;
  t.kind = TypeKind::kArray;
  t.children.push_back(std::move(element));
  t.contains_null = contains_null;
  return t;
}

DataType DataType::Map(DataType key, DataType value, bool value_contains_null) {
  DataType t;
  t.kind = TypeKind::kMap;
  t.children.push_back(std::move(key));
  t.children.push_back(std::move(value));
  t.contains_null = value_contains_null;
  return t;
}

std::string DataType::ToString() const {
  switch (kind) {
    case TypeKind::kDecimal:
      return fmt::format("decimal({},{})", precision, scale);
    case TypeKind::kArray:
      return fmt::format("array<{}>", element().ToString());
    case TypeKind::kMap:
      return fmt::format("map<{},{}>", key().ToString(), value().ToString());
    case TypeKind::kStruct: {
      std::string out = "struct<";
      for (size_t i = 0; i < fields.size(); ++i) {
        if (i > 0) {
          out += ",";
        }
        out += fields[i].name + ":" + fields[i].type.ToString();
      }
      return out + ">";
    }
    default:
      return std::string(PrimitiveTypeName(kind));
  }
}

bool DataType::Equals(const DataType& other) const {
  if (kind != other.kind || precision != other.precision || scale != other.scale ||
      contains_null != other.contains_null || fields.size() != other.fields.size() ||
      children.size() != other.children.size()) {
    return false;
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name != other.fields[i].name ||
        fields[i].nullable != other.fields[i].nullable ||
        !fields[i].type.Equals(other.fields[i].type)) {
      return false;
    }
  }
  for (size_t i = 0; i < children.size(); ++i) {
    if (!children[i].Equals(other.children[i])) {
      return false;
    }
  }
  return true;
}

std::optional<std::string> StructField::MetadataString(std::string_view key) const {
  auto it = metadata.find(std::string(key));
  if (it == metadata.end() || !it->second.is_string()) {
    return std::nullopt;
  }
  return it->second.get<std::string>();
}

std::optional<int64_t> StructField::MetadataInt(std::string_view key) const {
  auto it = metadata.find(std::string(key));
  if (it == metadata.end() || !it->second.is_number_integer()) {
    return std::nullopt;
  }
  return it->second.get<int64_t>();
}

const StructField* StructType::Find(std::string_view name) const {
  int idx = IndexOf(name);
  return idx < 0 ? nullptr : &fields[static_cast<size_t>(idx)];
}

int StructType::IndexOf(std::string_view name) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == name) {
      return static_cast<int>(i);
    }
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    if (EqualsIgnoreCase(fields[i].name, name)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// PROTOCOL.md "Schema Serialization Format": a primitive is its name as a JSON string;
// struct, array and map are objects with "type" = "struct" | "array" | "map".
Result<DataType> ParseDataType(const json& value) {
  if (value.is_string()) {
    return ParseTypeName(value.get<std::string>());
  }
  if (!value.is_object()) {
    return MakeError(ErrorCode::kCorruption,
                     "data type is neither a string nor an object");
  }
  auto type = value.find("type");
  if (type == value.end() || !type->is_string()) {
    return MakeError(ErrorCode::kCorruption, "complex data type without a string 'type'");
  }
  const std::string& name = type->get_ref<const std::string&>();
  if (name == "struct") {
    auto fields = value.find("fields");
    if (fields == value.end() || !fields->is_array()) {
      return MakeError(ErrorCode::kCorruption, "struct type without a 'fields' array");
    }
    std::vector<StructField> out;
    for (const auto& f : *fields) {
      TRIB_ASSIGN_OR_RETURN(StructField field, ParseField(f));
      out.push_back(std::move(field));
    }
    return DataType::Struct(std::move(out));
  }
  if (name == "array") {
    auto element = value.find("elementType");
    if (element == value.end()) {
      return MakeError(ErrorCode::kCorruption, "array type without 'elementType'");
    }
    TRIB_ASSIGN_OR_RETURN(DataType element_type, ParseDataType(*element));
    bool contains_null = value.value("containsNull", true);
    return DataType::Array(std::move(element_type), contains_null);
  }
  if (name == "map") {
    auto key = value.find("keyType");
    auto val = value.find("valueType");
    if (key == value.end() || val == value.end()) {
      return MakeError(ErrorCode::kCorruption, "map type without 'keyType'/'valueType'");
    }
    TRIB_ASSIGN_OR_RETURN(DataType key_type, ParseDataType(*key));
    TRIB_ASSIGN_OR_RETURN(DataType value_type, ParseDataType(*val));
    bool value_contains_null = value.value("valueContainsNull", true);
    return DataType::Map(std::move(key_type), std::move(value_type), value_contains_null);
  }
  return MakeError(ErrorCode::kUnsupported, "unsupported Delta data type '{}'", name);
}

Result<StructType> ParseSchemaString(std::string_view schema_string) {
  json parsed = json::parse(schema_string.begin(), schema_string.end(), nullptr,
                            /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return MakeError(ErrorCode::kCorruption, "schemaString is not valid JSON");
  }
  TRIB_ASSIGN_OR_RETURN(DataType type, ParseDataType(parsed));
  if (type.kind != TypeKind::kStruct) {
    return MakeError(ErrorCode::kCorruption, "schemaString is not a struct type");
  }
  return StructType{std::move(type.fields)};
}

json DataTypeToJson(const DataType& type) {
  switch (type.kind) {
    case TypeKind::kDecimal:
      return fmt::format("decimal({},{})", type.precision, type.scale);
    case TypeKind::kStruct: {
      json fields = json::array();
      for (const auto& f : type.fields) {
        fields.push_back(StructFieldToJson(f));
      }
      return {{"type", "struct"}, {"fields", std::move(fields)}};
    }
    case TypeKind::kArray:
      return {{"type", "array"},
              {"elementType", DataTypeToJson(type.element())},
              {"containsNull", type.contains_null}};
    case TypeKind::kMap:
      return {{"type", "map"},
              {"keyType", DataTypeToJson(type.key())},
              {"valueType", DataTypeToJson(type.value())},
              {"valueContainsNull", type.contains_null}};
    default:
      return std::string(PrimitiveTypeName(type.kind));
  }
}

json StructFieldToJson(const StructField& field) {
  json metadata = json::object();
  for (const auto& [k, v] : field.metadata) {
    metadata[k] = v;
  }
  return {{"name", field.name},
          {"type", DataTypeToJson(field.type)},
          {"nullable", field.nullable},
          {"metadata", std::move(metadata)}};
}

std::string SerializeSchema(const StructType& schema) {
  return DataTypeToJson(DataType::Struct(schema.fields)).dump();
}

}  // namespace tributary::lake::delta

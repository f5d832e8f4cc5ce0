#include "lake/delta/column_mapping.h"

namespace tributary::lake::delta {

Result<ColumnMappingMode> GetColumnMappingMode(const Metadata& metadata) {
  auto mode = metadata.Config(kColumnMappingModeKey);
  if (!mode || *mode == "none") {
    return ColumnMappingMode::kNone;
  }
  if (*mode == "name") {
    return ColumnMappingMode::kName;
  }
  if (*mode == "id") {
    return ColumnMappingMode::kId;
  }
  return MakeError(ErrorCode::kUnsupported, "unsupported column mapping mode '{}'",
                   *mode);
}

std::string PhysicalName(const StructField& field, ColumnMappingMode mode) {
  if (mode == ColumnMappingMode::kNone) {
    return field.name;
  }
  return field.MetadataString(kColumnMappingPhysicalNameKey).value_or(field.name);
}

std::optional<int64_t> FieldId(const StructField& field) {
  return field.MetadataInt(kColumnMappingIdKey);
}

}  // namespace tributary::lake::delta

#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/result.h"
#include "lake/delta/actions.h"
#include "lake/delta/schema.h"
#include "lake/delta/snapshot.h"

namespace tributary::lake::delta {

/// Field metadata keys (PROTOCOL.md "Column Mapping").
inline constexpr const char* kColumnMappingIdKey = "delta.columnMapping.id";
inline constexpr const char* kColumnMappingPhysicalNameKey =
    "delta.columnMapping.physicalName";
inline constexpr const char* kColumnMappingModeKey = "delta.columnMapping.mode";

/// The table's mapping mode from `delta.columnMapping.mode` (absent means none).
/// Errors: kUnsupported for an unknown mode value.
Result<ColumnMappingMode> GetColumnMappingMode(const Metadata& metadata);

/// The name of `field` in data files: its physicalName in name and id modes (falling back
/// to the logical name when the metadata lacks one), else the logical name.
std::string PhysicalName(const StructField& field, ColumnMappingMode mode);

/// The Parquet field id of `field` in id mode (delta.columnMapping.id).
std::optional<int64_t> FieldId(const StructField& field);

}  // namespace tributary::lake::delta

#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "lake/delta/schema.h"

namespace tributary::pipeline::internal {

/// A Delta struct field `name` of `type` (for the fixed schemas of the pipeline's tables:
/// bronze, its schema registry, silver's quarantine and dead-letter tables).
inline lake::delta::StructField Field(std::string_view name, lake::delta::DataType type,
                                      bool nullable = true) {
  lake::delta::StructField field;
  field.name = std::string(name);
  field.type = std::move(type);
  field.nullable = nullable;
  return field;
}

/// As above, for a primitive type.
inline lake::delta::StructField Field(std::string_view name, lake::delta::TypeKind kind,
                                      bool nullable = true) {
  return Field(name, lake::delta::DataType::Primitive(kind), nullable);
}

}  // namespace tributary::pipeline::internal

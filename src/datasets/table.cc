#include "datasets/table.h"

#include <fmt/format.h>

namespace tributary::datasets {

std::optional<size_t> TableSpec::ColumnIndex(std::string_view column_name) const {
  for (size_t column_idx = 0; column_idx < columns.size(); ++column_idx) {
    if (columns[column_idx].name == column_name) {
      return column_idx;
    }
  }
  return std::nullopt;
}

std::string TableData::DescribeRow(size_t row_idx) const {
  if (!source.empty() && row_idx < source_lines.size()) {
    return fmt::format("{} line {}", source, source_lines[row_idx]);
  }
  return fmt::format("row {} of table '{}'", row_idx + 1, spec.name);
}

std::string ColumnTypeName(const ColumnSpec& column) {
  switch (column.type) {
    case ColumnType::kBoolean:
      return "boolean";
    case ColumnType::kInteger:
      return "integer";
    case ColumnType::kBigint:
      return "bigint";
    case ColumnType::kNumeric:
      return fmt::format("numeric({},{})", column.precision, column.scale);
    case ColumnType::kDate:
      return "date";
    case ColumnType::kTimestamp:
      return "timestamp";
    case ColumnType::kText:
      return "text";
  }
  return "unknown";
}

}  // namespace tributary::datasets

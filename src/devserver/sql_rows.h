#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tributary::devserver {

/// The rows of the last statement run by `Exec()`, as text (the servers' text protocol
/// form). A statement without a result set (DDL, INSERT) gives no columns and no rows;
/// `affected_rows` then says how many rows it changed.
struct SqlRows {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  uint64_t affected_rows = 0;

  bool empty() const { return rows.empty(); }
  size_t size() const { return rows.size(); }

  /// The value at (row, column) or "" for NULL. Requires row < size(), column < columns.
  std::string Text(size_t row, size_t column) const {
    const std::optional<std::string>& value = rows.at(row).at(column);
    return value ? *value : std::string();
  }

  /// The first column of the first row: "" when there is none or it is NULL.
  std::string Scalar() const {
    if (rows.empty() || rows.front().empty() || !rows.front().front()) {
      return {};
    }
    return *rows.front().front();
  }
};

}  // namespace tributary::devserver

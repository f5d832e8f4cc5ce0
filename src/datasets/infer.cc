#include "datasets/infer.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>
#include <unordered_set>

namespace tributary::datasets {
namespace {

constexpr int kMaxPrecision = 38;  // Delta/DuckDB decimal limit (DESIGN.md "Types")
constexpr int kMaxScale = 30;      // MySQL DECIMAL limit

bool IsDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return std::isdigit(c) != 0;
  });
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

bool IsBoolean(std::string_view text) {
  return EqualsIgnoreCase(text, "true") || EqualsIgnoreCase(text, "false");
}

/// A decimal literal split into its parts; digits before the point have no leading zeros
/// (a lone "0" is allowed and counts as no digits).
struct DecimalText {
  bool ok = false;
  bool has_point = false;
  int integer_digits = 0;
  int fraction_digits = 0;
};

DecimalText ParseDecimalText(std::string_view text) {
  DecimalText out;
  if (!text.empty() && text.front() == '-') {
    text.remove_prefix(1);
  }
  const size_t point = text.find('.');
  const std::string_view integer_part = text.substr(0, point);
  if (!IsDigits(integer_part)) {
    return out;
  }
  if (integer_part.size() > 1 && integer_part.front() == '0') {
    return out;
  }
  out.integer_digits = integer_part == "0" ? 0 : static_cast<int>(integer_part.size());
  if (point != std::string_view::npos) {
    const std::string_view fraction = text.substr(point + 1);
    if (!IsDigits(fraction)) {
      return out;
    }
    out.has_point = true;
    out.fraction_digits = static_cast<int>(fraction.size());
  }
  out.ok = true;
  return out;
}

bool FitsInt64(std::string_view text, int64_t min, int64_t max) {
  const bool negative = !text.empty() && text.front() == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  if (digits.size() > 19) {
    return false;
  }
  // 19 digits fit unsigned 64-bit arithmetic without overflow.
  uint64_t value = 0;
  for (char c : digits) {
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (negative) {
    return value <= static_cast<uint64_t>(-(min + 1)) + 1;
  }
  return value <= static_cast<uint64_t>(max);
}

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int ParseFixedDigits(std::string_view text) {
  int value = 0;
  for (char c : text) {
    value = value * 10 + (c - '0');
  }
  return value;
}

bool IsDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' ||
      !IsDigits(text.substr(0, 4)) || !IsDigits(text.substr(5, 2)) ||
      !IsDigits(text.substr(8, 2))) {
    return false;
  }
  const int year = ParseFixedDigits(text.substr(0, 4));
  const int month = ParseFixedDigits(text.substr(5, 2));
  const int day = ParseFixedDigits(text.substr(8, 2));
  static constexpr int kDaysInMonth[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1 || month < 1 || month > 12 || day < 1) {
    return false;
  }
  const int days = kDaysInMonth[month - 1] + (month == 2 && IsLeapYear(year) ? 1 : 0);
  return day <= days;
}

bool IsTimestamp(std::string_view text) {
  if (text.size() < 19 || !IsDate(text.substr(0, 10)) || (text[10] != ' ' && text[10] != 'T')) {
    return false;
  }
  const std::string_view time = text.substr(11, 8);
  if (time[2] != ':' || time[5] != ':' || !IsDigits(time.substr(0, 2)) ||
      !IsDigits(time.substr(3, 2)) || !IsDigits(time.substr(6, 2))) {
    return false;
  }
  if (ParseFixedDigits(time.substr(0, 2)) > 23 || ParseFixedDigits(time.substr(3, 2)) > 59 ||
      ParseFixedDigits(time.substr(6, 2)) > 59) {
    return false;
  }
  const std::string_view rest = text.substr(19);
  if (rest.empty()) {
    return true;
  }
  return rest.front() == '.' && rest.size() >= 2 && rest.size() <= 7 &&
         IsDigits(rest.substr(1));
}

/// A hashable key for a set of column values of one row; NULL is distinct from "".
std::string RowKey(const Row& row, const std::vector<size_t>& column_idxs) {
  std::string key;
  for (size_t column_idx : column_idxs) {
    const auto& value = row[column_idx];
    // Length-prefixed, so ("a,b","c") and ("a","b,c") never collide.
    key += std::to_string(value->size());
    key.push_back(':');
    key += *value;
  }
  return key;
}

bool IsUniqueNonNull(const std::vector<Row>& rows, const std::vector<size_t>& column_idxs) {
  std::unordered_set<std::string> seen;
  seen.reserve(rows.size());
  for (const Row& row : rows) {
    for (size_t column_idx : column_idxs) {
      if (!row[column_idx]) {
        return false;
      }
    }
    if (!seen.insert(RowKey(row, column_idxs)).second) {
      return false;
    }
  }
  return true;
}

}  // namespace

ColumnSpec InferColumn(std::string_view name, const std::vector<Row>& rows,
                       size_t column_idx) {
  ColumnSpec column;
  column.name = std::string(name);
  column.nullable = false;
  bool any_value = false;
  bool all_boolean = true;
  bool all_integer = true;
  bool all_decimal = true;
  bool all_date = true;
  bool all_date_or_timestamp = true;
  bool fits_int32 = true;
  bool fits_int64 = true;
  int max_integer_digits = 0;
  int max_fraction_digits = 0;
  for (const Row& row : rows) {
    const auto& value = row[column_idx];
    if (!value) {
      column.nullable = true;
      continue;
    }
    any_value = true;
    const std::string_view text = *value;
    if (all_boolean && !IsBoolean(text)) {
      all_boolean = false;
    }
    if (all_decimal) {
      const DecimalText decimal = ParseDecimalText(text);
      if (!decimal.ok) {
        all_decimal = false;
        all_integer = false;
      } else {
        max_integer_digits = std::max(max_integer_digits, decimal.integer_digits);
        max_fraction_digits = std::max(max_fraction_digits, decimal.fraction_digits);
        if (decimal.has_point) {
          all_integer = false;
        } else if (all_integer) {
          fits_int32 = fits_int32 && FitsInt64(text, INT32_MIN, INT32_MAX);
          fits_int64 = fits_int64 && FitsInt64(text, INT64_MIN, INT64_MAX);
        }
      }
    }
    if (all_date_or_timestamp) {
      const bool is_date = IsDate(text);
      if (!is_date) {
        all_date = false;
        if (!IsTimestamp(text)) {
          all_date_or_timestamp = false;
        }
      }
    }
  }
  if (!any_value) {
    column.type = ColumnType::kText;
    return column;
  }
  const int precision = std::max(1, max_integer_digits + max_fraction_digits);
  if (all_boolean) {
    column.type = ColumnType::kBoolean;
  } else if (all_integer && fits_int32) {
    column.type = ColumnType::kInteger;
  } else if (all_integer && fits_int64) {
    column.type = ColumnType::kBigint;
  } else if (all_decimal && precision <= kMaxPrecision &&
             max_fraction_digits <= kMaxScale) {
    column.type = ColumnType::kNumeric;
    column.precision = precision;
    column.scale = max_fraction_digits;
  } else if (all_date) {
    column.type = ColumnType::kDate;
  } else if (all_date_or_timestamp) {
    column.type = ColumnType::kTimestamp;
  } else {
    column.type = ColumnType::kText;
  }
  return column;
}

void NormalizeValues(const ColumnSpec& column, size_t column_idx, std::vector<Row>& rows) {
  for (Row& row : rows) {
    auto& value = row[column_idx];
    if (!value) {
      continue;
    }
    if (column.type == ColumnType::kBoolean) {
      *value = EqualsIgnoreCase(*value, "true") ? "true" : "false";
    } else if (column.type == ColumnType::kTimestamp) {
      if (value->size() == 10) {
        *value += " 00:00:00";
      } else if ((*value)[10] == 'T') {
        (*value)[10] = ' ';
      }
    }
  }
}

std::vector<std::string> InferPrimaryKey(const TableSpec& spec, const std::vector<Row>& rows) {
  const size_t column_count = spec.columns.size();
  if (column_count == 0) {
    return {};
  }
  auto names = [&](const std::vector<size_t>& column_idxs) {
    std::vector<std::string> out;
    for (size_t column_idx : column_idxs) {
      out.push_back(spec.columns[column_idx].name);
    }
    return out;
  };
  if (IsUniqueNonNull(rows, {0})) {
    return names({0});
  }
  for (size_t column_idx = 1; column_idx < column_count; ++column_idx) {
    const ColumnType type = spec.columns[column_idx].type;
    if (type != ColumnType::kInteger && type != ColumnType::kBigint &&
        type != ColumnType::kText && type != ColumnType::kDate) {
      continue;
    }
    if (IsUniqueNonNull(rows, {0, column_idx})) {
      return names({0, column_idx});
    }
  }
  std::vector<size_t> prefix = {0};
  for (size_t column_idx = 1; column_idx < column_count; ++column_idx) {
    prefix.push_back(column_idx);
    if (IsUniqueNonNull(rows, prefix)) {
      return names(prefix);
    }
  }
  return {};
}

TableData TableFromCsv(CsvDocument document, std::string table_name, std::string source) {
  TableData table;
  table.spec.name = std::move(table_name);
  table.source = std::move(source);
  table.rows = std::move(document.rows);
  table.source_lines = std::move(document.row_lines);
  for (size_t column_idx = 0; column_idx < document.header.size(); ++column_idx) {
    ColumnSpec column = InferColumn(document.header[column_idx], table.rows, column_idx);
    NormalizeValues(column, column_idx, table.rows);
    table.spec.columns.push_back(std::move(column));
  }
  table.spec.primary_key = InferPrimaryKey(table.spec, table.rows);
  for (const std::string& key_column : table.spec.primary_key) {
    table.spec.columns[*table.spec.ColumnIndex(key_column)].nullable = false;
  }
  return table;
}

}  // namespace tributary::datasets

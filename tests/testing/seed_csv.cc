#include "testing/seed_csv.h"

#include <algorithm>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

namespace tributary::testing {

std::filesystem::path SeedDataDir() {
  return std::filesystem::path(TRIB_SHARED_DIR) / "seed-data" / "data-platform";
}

size_t Csv::Column(const std::string& name) const {
  for (size_t idx = 0; idx < header.size(); ++idx) {
    if (header[idx] == name) {
      return idx;
    }
  }
  ADD_FAILURE() << "CSV has no column " << name;
  return 0;
}

Csv ReadCsv(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_FALSE(text.empty()) << path;
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) {
    text.erase(0, 3);
  }
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false;
  bool field_started = false;
  auto end_field = [&] {
    record.push_back(field);
    field.clear();
    field_started = false;
  };
  auto end_record = [&] {
    end_field();
    if (!(record.size() == 1 && record[0].empty())) {
      records.push_back(record);
    }
    record.clear();
  };
  for (size_t pos = 0; pos < text.size(); ++pos) {
    const char c = text[pos];
    if (quoted) {
      if (c == '"' && pos + 1 < text.size() && text[pos + 1] == '"') {
        field.push_back('"');
        ++pos;
      } else if (c == '"') {
        quoted = false;
      } else {
        field.push_back(c);
      }
    } else if (c == '"' && !field_started) {
      quoted = true;
      field_started = true;
    } else if (c == ',') {
      end_field();
    } else if (c == '\n') {
      end_record();
    } else if (c == '\r' && pos + 1 < text.size() && text[pos + 1] == '\n') {
      continue;
    } else {
      field.push_back(c);
      field_started = true;
    }
  }
  EXPECT_FALSE(quoted) << path << ": unterminated quoted field";
  if (field_started || !field.empty() || !record.empty()) {
    end_record();
  }
  Csv csv;
  EXPECT_FALSE(records.empty()) << path;
  if (records.empty()) {
    return csv;
  }
  csv.header = records.front();
  csv.records.assign(records.begin() + 1, records.end());
  for (const auto& row : csv.records) {
    EXPECT_EQ(row.size(), csv.header.size()) << path << ": ragged record";
  }
  return csv;
}

Int128 ParseFixedPoint(std::string_view text, int scale) {
  Int128 value = 0;
  int fraction_digits = -1;
  bool negative = false;
  bool any_digit = false;
  for (size_t idx = 0; idx < text.size(); ++idx) {
    const char c = text[idx];
    if (c == '-' && idx == 0) {
      negative = true;
    } else if (c == '.' && fraction_digits < 0) {
      fraction_digits = 0;
    } else if (c >= '0' && c <= '9') {
      value = value * 10 + (c - '0');
      any_digit = true;
      if (fraction_digits >= 0) {
        ++fraction_digits;
      }
    } else {
      ADD_FAILURE() << "not a decimal: '" << text << "'";
      return 0;
    }
  }
  if (!any_digit) {
    ADD_FAILURE() << "not a decimal: '" << text << "'";
    return 0;
  }
  fraction_digits = std::max(fraction_digits, 0);
  if (fraction_digits > scale) {
    ADD_FAILURE() << "'" << text << "' has more than " << scale << " fraction digits";
    return 0;
  }
  for (int digit = fraction_digits; digit < scale; ++digit) {
    value *= 10;
  }
  return negative ? -value : value;
}

std::string FormatFixedPoint(Int128 value, int scale) {
  const bool negative = value < 0;
  if (negative) {
    value = -value;
  }
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(value % 10)));
    value /= 10;
  } while (value > 0);
  while (static_cast<int>(digits.size()) <= scale) {
    digits.insert(digits.begin(), '0');
  }
  if (scale > 0) {
    digits.insert(digits.end() - scale, '.');
  }
  return (negative ? "-" : "") + digits;
}

}  // namespace tributary::testing

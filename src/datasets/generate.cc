#include "datasets/generate.h"

#include <fmt/format.h>

#include "datasets/internal/generator_util.h"

namespace tributary::datasets {

namespace internal {

int64_t DaysFromCivil(int year, int month, int day) {
  const int64_t y = month <= 2 ? year - 1 : year;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t year_of_era = y - era * 400;
  const int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const int64_t day_of_era =
      year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

std::string FormatDate(int64_t days) {
  // Howard Hinnant's civil_from_days.
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t day_of_era = z - era * 146097;
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t mp = (5 * day_of_year + 2) / 153;
  const int64_t day = day_of_year - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  return fmt::format("{:04}-{:02}-{:02}", year, month, day);
}

std::string FormatTimestamp(int64_t days, int64_t seconds_of_day) {
  return fmt::format("{} {:02}:{:02}:{:02}", FormatDate(days), seconds_of_day / 3600,
                     (seconds_of_day / 60) % 60, seconds_of_day % 60);
}

std::string FormatFixed(int64_t unscaled, int scale) {
  const bool negative = unscaled < 0;
  const uint64_t magnitude =
      negative ? static_cast<uint64_t>(-(unscaled + 1)) + 1 : static_cast<uint64_t>(unscaled);
  uint64_t divisor = 1;
  for (int digit = 0; digit < scale; ++digit) {
    divisor *= 10;
  }
  std::string out = negative ? "-" : "";
  out += std::to_string(magnitude / divisor);
  if (scale > 0) {
    out += fmt::format(".{:0{}}", magnitude % divisor, scale);
  }
  return out;
}

std::string FormatCents(int64_t cents) { return FormatFixed(cents, 2); }

std::string LowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

ColumnSpec Column(std::string name, ColumnType type, bool nullable) {
  ColumnSpec column;
  column.name = std::move(name);
  column.type = type;
  column.nullable = nullable;
  return column;
}

ColumnSpec NumericColumn(std::string name, int precision, int scale, bool nullable) {
  ColumnSpec column = Column(std::move(name), ColumnType::kNumeric, nullable);
  column.precision = precision;
  column.scale = scale;
  return column;
}

}  // namespace internal

std::vector<std::string> DatasetNames() { return {"retail", "store"}; }

Result<std::vector<TableData>> GenerateDataset(std::string_view name, int scale,
                                               uint64_t seed) {
  if (scale < 1 || scale > kMaxScale) {
    return MakeError(ErrorCode::kInvalidArgument, "dataset scale {} is out of range 1..{}",
                     scale, kMaxScale);
  }
  if (name == "retail") {
    return internal::GenerateRetail(scale, seed);
  }
  if (name == "store") {
    return internal::GenerateStore(scale, seed);
  }
  return MakeError(ErrorCode::kInvalidArgument, "unknown dataset '{}' (known: {})", name,
                   fmt::join(DatasetNames(), ", "));
}

}  // namespace tributary::datasets

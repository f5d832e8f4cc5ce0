#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "datasets/table.h"

namespace tributary::datasets::internal {

/// SplitMix64 (Steele, Lea, Flood: "Fast splittable pseudorandom number generators",
/// OOPSLA 2014). Chosen over <random> because std distributions differ between standard
/// libraries: this one gives the same numbers everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  /// Uniform in [low, high] (inclusive). Requires low <= high.
  int64_t Uniform(int64_t low, int64_t high) {
    const auto range = static_cast<uint64_t>(high - low) + 1;
    __extension__ using U128 = unsigned __int128;
    const auto scaled = static_cast<uint64_t>((static_cast<U128>(Next()) * range) >> 64);
    return low + static_cast<int64_t>(scaled);
  }

  /// True with probability percent/100.
  bool Percent(int percent) { return Uniform(0, 99) < percent; }

  /// A uniformly chosen element. Requires a non-empty vector.
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[static_cast<size_t>(Uniform(0, static_cast<int64_t>(items.size()) - 1))];
  }

 private:
  uint64_t state_;
};

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int year, int month, int day);

/// "YYYY-MM-DD" for days since 1970-01-01.
std::string FormatDate(int64_t days);

/// "YYYY-MM-DD HH:MM:SS" for days since 1970-01-01 plus seconds into the day (0..86399).
std::string FormatTimestamp(int64_t days, int64_t seconds_of_day);

/// "-12.34" for -1234 cents: plain decimal text with exactly two digits after the point.
std::string FormatCents(int64_t cents);

/// Fixed-point text for `unscaled * 10^-scale` ("0.125" for 125, 3).
std::string FormatFixed(int64_t unscaled, int scale);

/// ASCII lower case; other bytes (UTF-8) are kept.
std::string LowerAscii(std::string_view text);

/// Shorthands to build columns and rows.
ColumnSpec Column(std::string name, ColumnType type, bool nullable = false);
ColumnSpec NumericColumn(std::string name, int precision, int scale, bool nullable = false);
inline std::optional<std::string> Value(std::string text) { return text; }
inline std::optional<std::string> Value(int64_t number) { return std::to_string(number); }
inline std::optional<std::string> BoolValue(bool value) {
  return std::string(value ? "true" : "false");
}

/// The dataset generators (retail_generator.cc, store_generator.cc). Require scale >= 1.
std::vector<TableData> GenerateRetail(int scale, uint64_t seed);
std::vector<TableData> GenerateStore(int scale, uint64_t seed);

}  // namespace tributary::datasets::internal

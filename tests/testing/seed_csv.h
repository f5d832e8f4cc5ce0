#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace tributary::testing {

/// The retail seed CSV files, read in place: `<repo>/../shared/seed-data/data-platform`.
std::filesystem::path SeedDataDir();

/// One CSV file as header + records of fields (all text).
struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> records;

  /// The index of column `name`; fails the test when absent (and returns 0).
  size_t Column(const std::string& name) const;
};

/// Reads a CSV file for computing expected values independently of the loader's parser:
/// RFC 4180 section 2 (fields split on ',', records on LF or CRLF; a field starting with
/// '"' is quoted and may hold commas, line breaks and doubled quotes). A UTF-8 BOM is
/// skipped, blank lines ignored, bytes kept as they are. Fails the test on an empty file,
/// an unterminated quote or a record whose field count differs from the header's.
Csv ReadCsv(const std::filesystem::path& path);

__extension__ using Int128 = __int128;

/// Exact fixed-point: "356.9" at scale 2 is 35690, "-1.5" at scale 4 is -15000. Fails the
/// test (and returns 0) on anything but an optional leading '-', digits and one '.', or on
/// more than `scale` fraction digits.
Int128 ParseFixedPoint(std::string_view text, int scale);

/// The inverse of ParseFixedPoint: 35690 at scale 2 is "356.90".
std::string FormatFixedPoint(Int128 value, int scale);

}  // namespace tributary::testing

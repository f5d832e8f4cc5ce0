#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "datasets/table.h"

namespace tributary::datasets {

/// A parsed CSV file: the header row and the data records.
struct CsvDocument {
  std::vector<std::string> header;
  /// One Row per data record, each with header.size() fields. An empty unquoted field is
  /// NULL (nullopt); a quoted empty field ("") is the empty string.
  std::vector<Row> rows;
  /// The 1-based line on which record i starts (records may span lines).
  std::vector<int64_t> row_lines;
};

/// Parses CSV text per RFC 4180 (https://www.rfc-editor.org/rfc/rfc4180#section-2):
/// fields separated by ',', records by CRLF or LF; a field starting with '"' is quoted and
/// may hold commas, line breaks and doubled quotes (""). Also: a UTF-8 byte order mark at
/// the start is skipped, the last record may lack a line break, and empty lines are
/// skipped. The first record is the header: every name must be non-empty and unique
/// (case-insensitively, since SQL engines such as DuckDB fold identifier case).
///
/// Errors (kInvalidArgument, each naming `source_name`, the line and the field):
/// a record with a different field count than the header ("ragged row"), an unterminated
/// quoted field, a character after a closing quote, a '"' inside an unquoted field,
/// invalid UTF-8, a NUL byte, an empty input.
Result<CsvDocument> ParseCsv(std::string_view text, std::string_view source_name);

/// Reads `path` and parses it with ParseCsv, naming the file by its file name in errors.
/// Errors: kNotFound / kIo when the file cannot be read, and ParseCsv's errors.
Result<CsvDocument> ReadCsvFile(const std::filesystem::path& path);

/// Formats one field for CSV: NULL as an empty field, the empty string as "", and a value
/// holding ',', '"', CR or LF quoted with inner quotes doubled.
std::string FormatCsvField(const std::optional<std::string>& value);

/// Formats a whole table as CSV (header of column names, LF line ends), the inverse of
/// ParseCsv for any table whose values are valid UTF-8 without NUL bytes (except a
/// one-column table holding NULLs: a NULL there is an empty line, which ParseCsv skips).
std::string FormatCsv(const TableData& table);

}  // namespace tributary::datasets

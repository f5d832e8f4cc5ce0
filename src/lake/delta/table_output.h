#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "core/result.h"

/// The readers behind `tributary scan` and `tributary history`: load a snapshot, render
/// rows or commits in a chosen format. The CLI only parses flags and calls these.
namespace tributary::lake::delta {

/// Output formats. kParquet is only valid for scans written to a file.
enum class OutputFormat { kTable, kCsv, kJsonl, kParquet };

/// "table", "csv", "jsonl", "parquet". Errors: kInvalidArgument naming the text.
Result<OutputFormat> ParseOutputFormat(std::string_view text);

/// Options of `tributary scan`.
struct ScanCommandOptions {
  /// Read this version. Default: unset (latest). Exclusive with `timestamp`.
  std::optional<int64_t> version;
  /// Read the version current at this time (time_travel.h ParseTimestamp forms).
  /// Default: unset.
  std::optional<std::string> timestamp;
  /// Default: kTable.
  OutputFormat format = OutputFormat::kTable;
  /// Write to this file instead of `out` (required for kParquet). For csv, jsonl and
  /// parquet the file is written by DuckDB's COPY, so every type is kept for parquet.
  /// Default: "" (write to `out`).
  std::string output_file;
  /// At most this many rows. Default: unset (all).
  std::optional<int64_t> limit;
};

/// Prints (or writes to options.output_file) the rows of the Delta table at `table_root`,
/// columns in schema order. Table format: aligned text with a header and a row count;
/// csv: RFC 4180 with a header; jsonl: one JSON object per row. Timestamps render in UTC.
/// When writing a file, prints a one-line summary to `out`.
/// Errors: as Snapshot::Load and BuildScanQuery; kInvalidArgument for parquet without a
/// file, both version and timestamp, or a bad timestamp; kIo when the file cannot be
/// written.
Status RunScanCommand(const std::filesystem::path& table_root,
                      const ScanCommandOptions& options,
                      std::ostream& out);

/// Options of `tributary history`.
struct HistoryCommandOptions {
  /// kTable or kJsonl. Default: kTable.
  OutputFormat format = OutputFormat::kTable;
  /// At most this many commits, newest first. Default: unset (all).
  std::optional<size_t> limit;
};

/// Prints the table's commits newest first: version, timestamp (UTC), operation,
/// operation parameters and metrics (jsonl: one object per commit with those keys).
/// Errors: as ReadHistory; kInvalidArgument for csv/parquet.
Status RunHistoryCommand(const std::filesystem::path& table_root,
                         const HistoryCommandOptions& options,
                         std::ostream& out);

}  // namespace tributary::lake::delta

#include <cstdint>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "lake/delta/table_output.h"

// `tributary scan PATH`: the rows of a Delta table, optionally time-travelled.
// TODO(issue 3): implement.
namespace tributary::cli {
namespace {

struct ScanOptions {
  std::string path;
  /// Table version to read; -1: latest.
  int64_t version = -1;
  /// Read the version current at this time (ISO 8601); empty: latest.
  std::string timestamp;
  std::string format = "table";
  /// Write here instead of stdout; required for parquet.
  std::string output;
  /// At most this many rows; -1: all.
  int64_t limit = -1;
};

int RunScan(const ScanOptions& options, CommandContext& context) {
  if (options.format == "parquet" && options.output.empty()) {
    return context.ReportUsageError("scan", "--format parquet needs --output FILE");
  }
  auto format = lake::delta::ParseOutputFormat(options.format);
  if (!format.ok()) {
    return context.ReportUsageError("scan", format.status().message());
  }
  lake::delta::ScanCommandOptions scan;
  if (options.version >= 0) {
    scan.version = options.version;
  }
  if (!options.timestamp.empty()) {
    scan.timestamp = options.timestamp;
  }
  scan.format = *format;
  scan.output_file = options.output;
  if (options.limit >= 0) {
    scan.limit = options.limit;
  }
  auto status = lake::delta::RunScanCommand(options.path, scan, context.out());
  if (!status.ok()) {
    return context.ReportError(status.status());
  }
  return kExitOk;
}

}  // namespace

void RegisterScanCommand(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<ScanOptions>();
  CLI::App* command = app.add_subcommand(
      "scan", "Print the rows of a Delta table, at any version or time");
  command->add_option("PATH", options->path, "Delta table directory")->required();
  auto* version = command
                      ->add_option("--version", options->version,
                                   "Read this table version (default: latest)")
                      ->check(CLI::NonNegativeNumber);
  auto* timestamp = command->add_option(
      "--timestamp", options->timestamp,
      "Read the version current at this time, e.g. 2024-01-31T12:00:00Z");
  version->excludes(timestamp);
  command
      ->add_option("--format", options->format,
                   "Output format (parquet keeps every type)")
      ->check(CLI::IsMember({"table", "csv", "jsonl", "parquet"}))
      ->capture_default_str();
  command->add_option("--output", options->output, "Write to FILE instead of stdout");
  command->add_option("--limit", options->limit, "Print at most N rows")
      ->check(CLI::NonNegativeNumber);
  OnRun(command, context, [options, &context] { return RunScan(*options, context); });
}

}  // namespace tributary::cli

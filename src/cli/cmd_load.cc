#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "datasets/load.h"

// `tributary load`: sample datasets or CSV files into a database.
namespace tributary::cli {
namespace {

struct LoadOptions {
  /// "retail" or "store"; exclusive with csv_dir.
  std::string dataset;
  /// Dataset size multiplier.
  int64_t scale = 1;
  /// A directory of CSV files (header row), one table per file; exclusive with dataset.
  std::string csv_dir;
  /// Target database: libpq string / postgres:// URI, or mysql:// URI.
  std::string into;
};

int RunLoad(const LoadOptions& options, CommandContext& context) {
  if (options.dataset.empty() == options.csv_dir.empty()) {
    return context.ReportUsageError("load", "give exactly one of --dataset and --csv");
  }
  const datasets::LoadOptions load_options;
  Result<datasets::LoadReport> report =
      options.dataset.empty()
          ? datasets::LoadCsvDirectory(options.csv_dir, options.into, load_options)
          : datasets::LoadDataset(options.dataset, static_cast<int>(options.scale),
                                  options.into, load_options);
  if (!report.ok()) {
    return context.ReportError(report.status());
  }
  // The report's target is the DSN with its password masked; the DSN itself is never
  // printed.
  int64_t total_rows = 0;
  double total_seconds = 0;
  size_t name_width = 0;
  for (const datasets::TableLoadReport& table : report->tables) {
    total_rows += table.rows;
    total_seconds += table.seconds;
    name_width = std::max(name_width, table.table.size());
  }
  context.out() << fmt::format("loaded {} tables, {} rows into {} in {:.2f} s\n",
                               report->tables.size(), total_rows, report->target,
                               total_seconds);
  for (const datasets::TableLoadReport& table : report->tables) {
    std::string columns;
    for (const datasets::ColumnSpec& column : table.columns) {
      columns += fmt::format("{}{} {}", columns.empty() ? "" : ", ", column.name,
                             datasets::ColumnTypeName(column));
    }
    const std::string key = table.primary_key.empty()
                                ? std::string("no primary key (duplicate rows)")
                                : fmt::format("key ({})", fmt::join(table.primary_key, ", "));
    context.out() << fmt::format("  {:<{}}  {:>8} rows  {}  from {}\n    {}\n", table.table,
                                 name_width, table.rows, key, table.source, columns);
  }
  return kExitOk;
}

}  // namespace

void RegisterLoadCommand(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<LoadOptions>();
  CLI::App* command = app.add_subcommand(
      "load",
      "Load a generated sample dataset or a directory of CSV files into a database");
  auto* dataset =
      command->add_option("--dataset", options->dataset, "Sample dataset to generate")
          ->check(CLI::IsMember({"retail", "store"}));
  command->add_option("--scale", options->scale, "Dataset size multiplier")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}))
      ->capture_default_str();
  auto* csv =
      command->add_option("--csv", options->csv_dir,
                          "Directory of CSV files (header row), one table per file");
  dataset->excludes(csv);
  command
      ->add_option("--into", options->into,
                   "Target database: libpq string, postgres:// or mysql:// URI")
      ->required();
  OnRun(command, context, [options, &context] { return RunLoad(*options, context); });
}

}  // namespace tributary::cli

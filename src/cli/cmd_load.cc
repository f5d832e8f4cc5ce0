#include <cstdint>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

// `tributary load`: sample datasets or CSV files into a database.
// TODO(issue 5): implement.
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
  return context.NotImplemented("load");
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

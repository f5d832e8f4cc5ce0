#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

// `tributary sql [--lake DIR] [QUERY]`: DuckDB SQL over the lake's tables.
// TODO(issue 3): implement.
namespace tributary::cli {
namespace {

struct SqlOptions {
  /// Lake root; tables are visible as <layer>.<name> (silver.customer).
  std::string lake = "lake";
  /// Take the lake root from this pipeline config instead.
  std::string config_path;
  /// Empty: an interactive prompt.
  std::string query;
  std::string format = "table";
};

int RunSql(const SqlOptions& options, CommandContext& context) {
  if (!options.config_path.empty()) {
    auto config = context.LoadPipelineConfig(options.config_path);
    if (!config.ok()) {
      return context.ReportError(config.error());
    }
  }
  return context.NotImplemented("sql");
}

}  // namespace

void RegisterSqlCommand(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<SqlOptions>();
  CLI::App* command = app.add_subcommand(
      "sql", "Query lake tables with DuckDB SQL (silver.customer, delta_scan('path'))");
  command->add_option("QUERY", options->query, "SQL to run; none: an interactive prompt");
  auto* lake = command->add_option("--lake", options->lake, "Lake root directory")
                   ->capture_default_str();
  auto* config = command->add_option("-c,--config", options->config_path,
                                     "Take the lake root from this pipeline configuration");
  lake->excludes(config);
  command->add_option("--format", options->format, "Result format")
      ->check(CLI::IsMember({"table", "csv", "jsonl"}))
      ->capture_default_str();
  OnRun(command, context, [options, &context] { return RunSql(*options, context); });
}

}  // namespace tributary::cli

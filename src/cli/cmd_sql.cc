#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/sql_shell.h"
#include "pipeline/gold_stage.h"
#include "sql/database.h"

// `tributary sql [--lake DIR] [QUERY]`: DuckDB SQL over the lake's tables.
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
  std::filesystem::path lake = options.lake;
  if (!options.config_path.empty()) {
    auto config = context.LoadPipelineConfig(options.config_path);
    if (!config.ok()) {
      return context.ReportError(config.error());
    }
    lake = config->lake.root;
  }
  SqlOutputFormat format = SqlOutputFormat::kTable;
  if (options.format == "csv") {
    format = SqlOutputFormat::kCsv;
  } else if (options.format == "jsonl") {
    format = SqlOutputFormat::kJsonl;
  }
  auto conn = sql::Database::OpenInMemoryConnection();
  if (!conn.ok()) {
    return context.ReportError(conn.error());
  }
  std::error_code ec;
  // Without a lake root only delta_scan('path') can read tables.
  if (std::filesystem::is_directory(lake, ec)) {
    auto views = pipeline::RegisterLakeViews(**conn, lake);
    if (!views.ok()) {
      return context.ReportError(views.error());
    }
  }
  if (!options.query.empty()) {
    auto status = RunSqlQuery(**conn, options.query, format, context.out());
    if (!status.ok()) {
      return context.ReportError(status.error());
    }
    return kExitOk;
  }
  bool prompt = isatty(STDIN_FILENO) != 0;
  int failures =
      RunSqlPrompt(**conn, std::cin, context.out(), context.err(), format, prompt);
  return failures == 0 ? kExitOk : kExitFailure;
}

}  // namespace

void RegisterSqlCommand(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<SqlOptions>();
  CLI::App* command = app.add_subcommand(
      "sql", "Query lake tables with DuckDB SQL (silver.customer, delta_scan('path'))");
  command->add_option("QUERY", options->query, "SQL to run; none: an interactive prompt");
  auto* lake = command->add_option("--lake", options->lake, "Lake root directory")
                   ->capture_default_str();
  auto* config =
      command->add_option("-c,--config", options->config_path,
                          "Take the lake root from this pipeline configuration");
  lake->excludes(config);
  command->add_option("--format", options->format, "Result format")
      ->check(CLI::IsMember({"table", "csv", "jsonl"}))
      ->capture_default_str();
  OnRun(command, context, [options, &context] { return RunSql(*options, context); });
}

}  // namespace tributary::cli

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "lake/delta/table_output.h"

// `tributary history PATH`: a Delta table's commits.
// TODO(issue 3): implement.
namespace tributary::cli {
namespace {

struct HistoryOptions {
  std::string path;
  std::string format = "table";
};

int RunHistory(const HistoryOptions& options, CommandContext& context) {
  auto format = lake::delta::ParseOutputFormat(options.format);
  if (!format.ok()) {
    return context.ReportUsageError("history", format.status().message());
  }
  lake::delta::HistoryCommandOptions history;
  history.format = *format;
  auto status = lake::delta::RunHistoryCommand(options.path, history, context.out());
  if (!status.ok()) {
    return context.ReportError(status.status());
  }
  return kExitOk;
}

}  // namespace

void RegisterHistoryCommand(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<HistoryOptions>();
  CLI::App* command = app.add_subcommand(
      "history", "List a Delta table's versions: timestamp, operation, metrics");
  command->add_option("PATH", options->path, "Delta table directory")->required();
  command->add_option("--format", options->format, "Output format")
      ->check(CLI::IsMember({"table", "jsonl"}))
      ->capture_default_str();
  OnRun(command, context, [options, &context] { return RunHistory(*options, context); });
}

}  // namespace tributary::cli

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

// `tributary history PATH`: a Delta table's commits.
// TODO(issue 3): implement.
namespace tributary::cli {
namespace {

struct HistoryOptions {
  std::string path;
  std::string format = "table";
};

int RunHistory(const HistoryOptions& options, CommandContext& context) {
  (void)options;
  return context.NotImplemented("history");
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

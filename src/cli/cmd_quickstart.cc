#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

// `tributary quickstart`: local PostgreSQL/MariaDB, sample data, the pipeline, live
// changes.
// TODO(issue 5): implement.
namespace tributary::cli {
namespace {

struct QuickstartOptions {
  /// Exit after showing the results (the default when stdin is not a terminal).
  bool exit = false;
  /// Servers' data, the generated config and the lake go here.
  std::string work_dir = "tributary-quickstart";
};

int RunQuickstart(const QuickstartOptions& options, CommandContext& context) {
  (void)options;
  return context.NotImplemented("quickstart");
}

}  // namespace

void RegisterQuickstartCommand(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<QuickstartOptions>();
  CLI::App* command = app.add_subcommand(
      "quickstart",
      "Start local PostgreSQL and MariaDB, load sample data and show changes flowing to "
      "silver and gold");
  command->add_flag(
      "--exit", options->exit,
      "Exit after showing the results (default when stdin is not a terminal)");
  command
      ->add_option("--work-dir", options->work_dir,
                   "Directory for the servers, the generated config and the lake")
      ->capture_default_str();
  OnRun(command, context,
        [options, &context] { return RunQuickstart(*options, context); });
}

}  // namespace tributary::cli

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

// `tributary run -c CONFIG`: capture -> bronze -> silver -> gold in one process.
// TODO(issue 5): implement.
namespace tributary::cli {
namespace {

struct RunOptions {
  std::string config_path;
  /// Process everything up to the sources' current positions, then exit.
  bool once = false;
};

int RunRun(const RunOptions& options, CommandContext& context) {
  auto config = context.LoadPipelineConfig(options.config_path);
  if (!config.ok()) {
    return context.ReportError(config.error());
  }
  return context.NotImplemented("run");
}

}  // namespace

void RegisterRunCommand(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* command = app.add_subcommand(
      "run", "Run the pipeline: capture sources into bronze, silver and gold tables");
  command->add_option("-c,--config", options->config_path, "Pipeline configuration (TOML)")
      ->required();
  command->add_flag("--once", options->once,
                    "Process everything up to the sources' current positions, then exit");
  OnRun(command, context, [options, &context] { return RunRun(*options, context); });
}

}  // namespace tributary::cli

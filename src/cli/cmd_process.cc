#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

// `tributary process -c CONFIG`: Kafka -> bronze -> silver -> gold (the Spark job's
// role).
// TODO(issue 5 and the Kafka issue): implement.
namespace tributary::cli {
namespace {

struct ProcessOptions {
  std::string config_path;
  /// Consume up to the topics' end offsets at start, then exit.
  bool once = false;
};

int RunProcess(const ProcessOptions& options, CommandContext& context) {
  auto config = context.LoadPipelineConfig(options.config_path);
  if (!config.ok()) {
    return context.ReportError(config.error());
  }
  return context.NotImplemented("process");
}

}  // namespace

void RegisterProcessCommand(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<ProcessOptions>();
  CLI::App* command = app.add_subcommand(
      "process", "Consume Debezium JSON from Kafka into bronze, silver and gold tables");
  command
      ->add_option("-c,--config", options->config_path, "Pipeline configuration (TOML)")
      ->required();
  command->add_flag("--once", options->once,
                    "Consume up to the topics' end offsets at start, then exit");
  OnRun(command, context, [options, &context] { return RunProcess(*options, context); });
}

}  // namespace tributary::cli

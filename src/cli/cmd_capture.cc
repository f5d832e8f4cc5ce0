#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

// `tributary capture -c CONFIG --sink stdout|kafka`: the Debezium connector's role.
// TODO(issue 4): stdout sink; the Kafka sink comes with the Kafka issue.
namespace tributary::cli {
namespace {

struct CaptureOptions {
  std::string config_path;
  /// "stdout": one {"topic","key","value"} JSON object per line; "kafka": [kafka] topics.
  std::string sink = "stdout";
  /// Exit after reaching the server's WAL/binlog position at start.
  bool once = false;
};

int RunCapture(const CaptureOptions& options, CommandContext& context) {
  auto config = context.LoadPipelineConfig(options.config_path);
  if (!config.ok()) {
    return context.ReportError(config.error());
  }
  return context.NotImplemented("capture");
}

}  // namespace

void RegisterCaptureCommand(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<CaptureOptions>();
  CLI::App* command = app.add_subcommand(
      "capture", "Capture changes as Debezium JSON to stdout or Kafka (no lake)");
  command
      ->add_option("-c,--config", options->config_path, "Pipeline configuration (TOML)")
      ->required();
  command
      ->add_option("--sink", options->sink,
                   "stdout: one {topic, key, value} JSON object per line; kafka: the "
                   "[kafka] topics")
      ->check(CLI::IsMember({"stdout", "kafka"}))
      ->capture_default_str();
  command->add_flag("--once", options->once,
                    "Exit after reaching the server's position at start");
  OnRun(command, context, [options, &context] { return RunCapture(*options, context); });
}

}  // namespace tributary::cli

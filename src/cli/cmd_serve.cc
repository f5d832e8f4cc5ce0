#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

// `tributary serve`: the dashboard, health, JSON status and Prometheus metrics.
// TODO(the HTTP issue): implement.
namespace tributary::cli {
namespace {

struct ServeOptions {
  std::string config_path;
  /// Lake root, when there is no config.
  std::string lake;
  /// -1: [http] port from the config, else 8080.
  int port = -1;
  /// Empty: [http] bind from the config, else 127.0.0.1.
  std::string bind;
};

int RunServe(const ServeOptions& options, CommandContext& context) {
  HttpConfig http;
  if (!options.config_path.empty()) {
    auto config = context.LoadPipelineConfig(options.config_path);
    if (!config.ok()) {
      return context.ReportError(config.error());
    }
    http = config->http;
  } else if (options.lake.empty()) {
    return context.ReportUsageError("serve", "give -c CONFIG or --lake DIR");
  }
  if (options.port >= 0) {
    http.port = static_cast<uint16_t>(options.port);
  }
  if (!options.bind.empty()) {
    http.bind = options.bind;
  }
  return context.NotImplemented("serve");
}

}  // namespace

void RegisterServeCommand(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* command = app.add_subcommand(
      "serve", "Serve the web dashboard, health, JSON status and Prometheus metrics");
  auto* config = command->add_option("-c,--config", options->config_path,
                                     "Pipeline configuration (TOML)");
  auto* lake =
      command->add_option("--lake", options->lake, "Lake root directory (no config)");
  config->excludes(lake);
  command->add_option("--port", options->port, "TCP port (default: [http] port or 8080)")
      ->check(CLI::Range(0, 65535));
  command->add_option("--bind", options->bind,
                      "Address to listen on (default: [http] bind or 127.0.0.1)");
  OnRun(command, context, [options, &context] { return RunServe(*options, context); });
}

}  // namespace tributary::cli

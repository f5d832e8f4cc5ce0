#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "cli/pipeline_wiring.h"
#include "pipeline/pipeline.h"

// `tributary run -c CONFIG`: capture -> bronze -> silver -> gold in one process.
namespace tributary::cli {
namespace {

struct RunOptions {
  std::string config_path;
  /// Process everything up to the sources' current positions, then exit.
  bool once = false;
};

std::atomic<int> g_run_stop_signal{0};

extern "C" void HandleRunStopSignal(int signal) {
  g_run_stop_signal.store(signal);
}

int RunRun(const RunOptions& options, CommandContext& context) {
  auto config = context.LoadPipelineConfig(options.config_path);
  if (!config.ok()) {
    return context.ReportError(config.error());
  }
  auto pipeline_options = PipelineOptionsFromConfig(*config, options.once);
  if (!pipeline_options.ok()) {
    return context.ReportError(pipeline_options.error());
  }
  auto sources = MakeSources(*config);
  if (!sources.ok()) {
    return context.ReportError(sources.error());
  }
  auto pipeline =
      pipeline::Pipeline::Create(std::move(*pipeline_options), std::move(*sources));
  if (!pipeline.ok()) {
    return context.ReportError(pipeline.error());
  }
  g_run_stop_signal.store(0);
  auto previous_int = std::signal(SIGINT, HandleRunStopSignal);
  auto previous_term = std::signal(SIGTERM, HandleRunStopSignal);
  Status status = OkStatus();
  std::atomic<bool> finished{false};
  {
    std::jthread worker([&](std::stop_token stop) {
      try {
        status = (*pipeline)->Run(stop);
      } catch (const std::exception& e) {
        status = MakeError(ErrorCode::kInternal, "pipeline thread: {}", e.what());
      }
      finished.store(true);
    });
    while (!finished.load()) {
      if (g_run_stop_signal.load() != 0) {
        spdlog::info("signal {} received: stopping (committing what is staged)",
                     g_run_stop_signal.load());
        worker.request_stop();
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  std::signal(SIGINT, previous_int);
  std::signal(SIGTERM, previous_term);
  if (!status.ok()) {
    return context.ReportError(status.error());
  }
  if (options.once) {
    context.out() << (*pipeline)->metrics().Summary() << "\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterRunCommand(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* command = app.add_subcommand(
      "run", "Run the pipeline: capture sources into bronze, silver and gold tables");
  command
      ->add_option("-c,--config", options->config_path, "Pipeline configuration (TOML)")
      ->required();
  command->add_flag("--once", options->once,
                    "Process everything up to the sources' current positions, then exit");
  OnRun(command, context, [options, &context] { return RunRun(*options, context); });
}

}  // namespace tributary::cli

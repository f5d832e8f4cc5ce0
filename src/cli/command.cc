#include "cli/command.h"

#include <ostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

namespace tributary::cli {

LoggingOptions CommandContext::ResolveLogging(const LogConfig* config_log) const {
  LoggingOptions options;
  if (config_log != nullptr) {
    options = config_log->options;
  }
  if (!global_.log_level.empty()) {
    // Validated by the option's check; an unknown name keeps the default.
    if (auto level = ParseLogLevel(global_.log_level); level.ok()) {
      options.level = *level;
    }
  } else if (global_.verbosity >= 2) {
    options.level = LogLevel::kTrace;
  } else if (global_.verbosity == 1) {
    options.level = LogLevel::kDebug;
  }
  if (!global_.log_format.empty()) {
    if (auto format = ParseLogFormat(global_.log_format); format.ok()) {
      options.format = *format;
    }
  }
  return options;
}

Result<PipelineConfig> CommandContext::LoadPipelineConfig(const std::string& path) {
  TRIB_ASSIGN_OR_RETURN(PipelineConfig config, LoadConfig(path));
  TRIB_RETURN_IF_ERROR(SetupLogging(ResolveLogging(&config.log)));
  spdlog::debug("loaded {}", DescribeConfig(config));
  return config;
}

int CommandContext::ReportError(const Error& error) {
  err_ << "tributary: error: " << error.ToString() << std::endl;
  return kExitFailure;
}

int CommandContext::ReportUsageError(std::string_view command, std::string_view message) {
  err_ << "tributary " << command << ": error: " << message << std::endl;
  return kExitUsage;
}

int CommandContext::NotImplemented(std::string_view command) {
  err_ << "tributary " << command << ": not implemented yet" << std::endl;
  return kExitUsage;
}

void OnRun(CLI::App* command, CommandContext& context, std::function<int()> run) {
  command->callback([&context, run = std::move(run)] { context.SetRunner(run); });
}

}  // namespace tributary::cli

#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

#include "cli/config.h"
#include "core/logging.h"
#include "core/result.h"

namespace CLI {
class App;
}  // namespace CLI

/// The subcommand framework. Each subcommand lives in its own file,
/// src/cli/cmd_<name>.cc, which defines `void Register<Name>Command(CLI::App& app,
/// CommandContext& context)` (declared in cli/commands.h). Registration adds the CLI11
/// subcommand with its options bound to an options struct the file owns, and hands a
/// runner to OnRun(); the runner returns the process exit code. Implementing a command
/// means editing only its file.
namespace tributary::cli {

/// Process exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  ///< a runtime failure (bad config, server down)
inline constexpr int kExitUsage =
    2;  ///< bad command line, or a command not implemented yet

/// Options that apply to every subcommand (given before or after the subcommand name).
struct GlobalOptions {
  /// Number of -v flags: 1 is debug, 2 or more is trace.
  int verbosity = 0;
  /// --log-level; empty when not given.
  std::string log_level;
  /// --log-format; empty when not given.
  std::string log_format;
};

/// What every command gets: global options, the output streams (commands write data to
/// out() and diagnostics to err() or the log, never to std::cout directly, so tests can
/// capture them), and helpers for the common steps.
class CommandContext {
 public:
  CommandContext(std::ostream& out, std::ostream& err) : out_(out), err_(err) {}
  CommandContext(const CommandContext&) = delete;
  CommandContext& operator=(const CommandContext&) = delete;

  GlobalOptions& global() { return global_; }
  const GlobalOptions& global() const { return global_; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }

  /// The logging options in effect: command-line flags win over the config's [log]
  /// (`config_log` may be null), which wins over the defaults.
  LoggingOptions ResolveLogging(const LogConfig* config_log) const;

  /// Loads and validates the pipeline config at `path`, then reconfigures logging from
  /// its [log] table (flags still win) and logs a redacted summary at debug level.
  /// Errors: as LoadConfig().
  Result<PipelineConfig> LoadPipelineConfig(const std::string& path);

  /// Prints `tributary: error: <error.ToString()>` on err() and returns kExitFailure.
  int ReportError(const Error& error);
  /// Prints `tributary <command>: error: <message>` on err() and returns kExitUsage.
  int ReportUsageError(std::string_view command, std::string_view message);
  /// Prints `tributary <command>: not implemented yet` on err() and returns kExitUsage.
  int NotImplemented(std::string_view command);

  /// Used by OnRun(): the runner of the subcommand the command line selected.
  void SetRunner(std::function<int()> runner) { runner_ = std::move(runner); }
  const std::function<int()>& runner() const { return runner_; }

 private:
  std::ostream& out_;
  std::ostream& err_;
  GlobalOptions global_;
  std::function<int()> runner_;
};

/// Makes `run` the action of subcommand `command`: when the command line selects it,
/// `run` is called after parsing (and logging setup) and its return value is the exit
/// code.
void OnRun(CLI::App* command, CommandContext& context, std::function<int()> run);

}  // namespace tributary::cli

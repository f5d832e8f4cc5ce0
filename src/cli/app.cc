#include "cli/app.h"

#include <algorithm>
#include <ostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/command.h"
#include "cli/commands.h"
#include "cli/version.h"

namespace tributary::cli {

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CommandContext context(out, err);
  CLI::App app(
      "tributary: change data capture from PostgreSQL and MySQL into Delta Lake bronze, "
      "silver and gold tables.",
      "tributary");
  app.set_version_flag("--version", fmt::format("tributary {}", Version()),
                       "Print the version and exit");
  app.set_help_flag("-h,--help", "Print this help and exit");
  // Subcommands inherit these: global options may follow the subcommand name.
  app.fallthrough();
  app.require_subcommand(0, 1);
  app.footer(
      "Run 'tributary <command> --help' for a command's options. Configuration: "
      "docs/CONFIG.md.");

  GlobalOptions& global = context.global();
  app.add_flag("-v,--verbose", global.verbosity,
               "More log output: -v debug, -vv trace (--log-level wins)");
  app.add_option("--log-level", global.log_level,
                 "Log level (default: [log] level or info)")
      ->check(
          CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_option("--log-format", global.log_format,
                 "Log line format on stderr (default: [log] format or text)")
      ->check(CLI::IsMember({"text", "json"}));

  RegisterAllCommands(app, context);

  // CLI11 wants the arguments last-first.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      return app.exit(e, out, err);  // --help, --version
    }
    std::string message = e.what();
    err << "tributary: error: " << message << "\n"
        << "Run 'tributary --help' for usage." << std::endl;
    return kExitUsage;
  }

  if (!context.runner()) {
    err << app.help() << std::flush;
    err << "tributary: error: a command is required" << std::endl;
    return kExitUsage;
  }
  if (Status status = SetupLogging(context.ResolveLogging(nullptr)); !status.ok()) {
    return context.ReportError(status.error());
  }
  return context.runner()();
}

}  // namespace tributary::cli

#pragma once

#include "cli/command.h"

namespace CLI {
class App;
}  // namespace CLI

/// One registration function per subcommand, each defined in src/cli/cmd_<name>.cc.
/// To add a subcommand: write cmd_<name>.cc defining Register<Name>Command, declare it
/// here and call it from RegisterAllCommands() (commands.cc) in help order.
namespace tributary::cli {

void RegisterQuickstartCommand(CLI::App& app, CommandContext& context);
void RegisterRunCommand(CLI::App& app, CommandContext& context);
void RegisterCaptureCommand(CLI::App& app, CommandContext& context);
void RegisterProcessCommand(CLI::App& app, CommandContext& context);
void RegisterSqlCommand(CLI::App& app, CommandContext& context);
void RegisterScanCommand(CLI::App& app, CommandContext& context);
void RegisterHistoryCommand(CLI::App& app, CommandContext& context);
void RegisterLoadCommand(CLI::App& app, CommandContext& context);
void RegisterOptimizeCommand(CLI::App& app, CommandContext& context);
void RegisterVacuumCommand(CLI::App& app, CommandContext& context);
void RegisterServeCommand(CLI::App& app, CommandContext& context);

/// Registers every subcommand above on `app`, in the order `--help` lists them.
void RegisterAllCommands(CLI::App& app, CommandContext& context);

}  // namespace tributary::cli

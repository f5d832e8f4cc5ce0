#include "cli/commands.h"

namespace tributary::cli {

void RegisterAllCommands(CLI::App& app, CommandContext& context) {
  RegisterQuickstartCommand(app, context);
  RegisterRunCommand(app, context);
  RegisterCaptureCommand(app, context);
  RegisterProcessCommand(app, context);
  RegisterSqlCommand(app, context);
  RegisterScanCommand(app, context);
  RegisterHistoryCommand(app, context);
  RegisterLoadCommand(app, context);
  RegisterOptimizeCommand(app, context);
  RegisterVacuumCommand(app, context);
  RegisterServeCommand(app, context);
}

}  // namespace tributary::cli

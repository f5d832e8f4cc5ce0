#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

// `tributary optimize PATH`: compact small files (dataChange=false).
// TODO(issue 3): implement.
namespace tributary::cli {
namespace {

struct OptimizeOptions {
  std::string path;
};

int RunOptimize(const OptimizeOptions& options, CommandContext& context) {
  (void)options;
  return context.NotImplemented("optimize");
}

}  // namespace

void RegisterOptimizeCommand(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<OptimizeOptions>();
  CLI::App* command =
      app.add_subcommand("optimize", "Compact a Delta table's small files into larger ones");
  command->add_option("PATH", options->path, "Delta table directory")->required();
  OnRun(command, context, [options, &context] { return RunOptimize(*options, context); });
}

}  // namespace tributary::cli

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "lake/delta/optimize.h"
#include "sql/database.h"

// `tributary optimize PATH`: compact small files (dataChange=false), one commit.
namespace tributary::cli {
namespace {

struct OptimizeOptions {
  std::string path;
};

int RunOptimize(const OptimizeOptions& options, CommandContext& context) {
  auto conn = sql::Database::OpenInMemoryConnection();
  if (!conn.ok()) {
    return context.ReportError(conn.status());
  }
  auto result = lake::delta::Optimize(**conn, options.path);
  if (!result.ok()) {
    return context.ReportError(
        std::move(result)
            .WithContext("optimizing Delta table '" + options.path + "'")
            .status());
  }
  if (result->version < 0) {
    context.out() << "optimize " << options.path << ": nothing to compact\n";
    return kExitOk;
  }
  context.out() << "optimize " << options.path << ": committed version "
                << result->version << ", compacted " << result->files_removed
                << " files (" << result->bytes_removed << " bytes) into "
                << result->files_added << " files (" << result->bytes_added
                << " bytes) in " << result->partitions_optimized << " partition(s)\n";
  return kExitOk;
}

}  // namespace

void RegisterOptimizeCommand(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<OptimizeOptions>();
  CLI::App* command = app.add_subcommand(
      "optimize", "Compact a Delta table's small files into larger ones");
  command->add_option("PATH", options->path, "Delta table directory")->required();
  OnRun(command, context, [options, &context] { return RunOptimize(*options, context); });
}

}  // namespace tributary::cli

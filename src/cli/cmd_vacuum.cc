#include <cstdint>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

// `tributary vacuum PATH`: delete files no version within the retention period needs.
// TODO(issue 3): implement.
namespace tributary::cli {
namespace {

struct VacuumOptions {
  std::string path;
  /// Keep files needed by versions newer than this many hours (Delta's default, 7 days).
  int64_t retain_hours = 168;
  /// List what would be deleted, delete nothing.
  bool dry_run = false;
};

int RunVacuum(const VacuumOptions& options, CommandContext& context) {
  (void)options;
  return context.NotImplemented("vacuum");
}

}  // namespace

void RegisterVacuumCommand(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<VacuumOptions>();
  CLI::App* command = app.add_subcommand(
      "vacuum", "Delete files no longer referenced by a Delta table's retained versions");
  command->add_option("PATH", options->path, "Delta table directory")->required();
  command->add_option("--retain", options->retain_hours,
                      "Retention in hours: files removed more recently are kept")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command->add_flag("--dry-run", options->dry_run, "List the files, delete nothing");
  OnRun(command, context, [options, &context] { return RunVacuum(*options, context); });
}

}  // namespace tributary::cli

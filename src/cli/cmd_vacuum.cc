#include <cstdint>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "lake/delta/vacuum.h"

// `tributary vacuum PATH`: delete files no version within the retention period needs.
namespace tributary::cli {
namespace {

struct VacuumOptions {
  std::string path;
  /// Keep files needed by versions newer than this many hours; -1 (not given) means the
  /// table's delta.deletedFileRetentionDuration (Delta's default, 168 hours).
  double retain_hours = -1;
  /// List what would be deleted, delete nothing.
  bool dry_run = false;
  /// Allow a retention shorter than the table's.
  bool force = false;
};

int RunVacuum(const VacuumOptions& options, CommandContext& context) {
  lake::delta::VacuumOptions vacuum;
  if (options.retain_hours >= 0) {
    vacuum.retention_hours = options.retain_hours;
  }
  vacuum.dry_run = options.dry_run;
  vacuum.force = options.force;
  auto result = lake::delta::Vacuum(options.path, vacuum);
  if (!result.ok()) {
    return context.ReportError(
        std::move(result)
            .WithContext("vacuuming Delta table '" + options.path + "'")
            .status());
  }
  for (const auto& file : result->files) {
    context.out() << file << "\n";
  }
  context.out() << "vacuum " << options.path << ": "
                << (result->dry_run ? "would delete " : "deleted ")
                << result->files.size() << " files (" << result->bytes
                << " bytes), retention "
                << static_cast<double>(result->retention_ms) / 3600000.0 << " h\n";
  return kExitOk;
}

}  // namespace

void RegisterVacuumCommand(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<VacuumOptions>();
  CLI::App* command = app.add_subcommand(
      "vacuum", "Delete files no longer referenced by a Delta table's retained versions");
  command->add_option("PATH", options->path, "Delta table directory")->required();
  command
      ->add_option("--retain", options->retain_hours,
                   "Retention in hours (default: the table's "
                   "delta.deletedFileRetentionDuration, 168 h): "
                   "files removed more recently are kept")
      ->check(CLI::NonNegativeNumber);
  command->add_flag("--dry-run", options->dry_run, "List the files, delete nothing");
  command->add_flag(
      "--force", options->force,
      "Allow --retain below the table's delta.deletedFileRetentionDuration");
  OnRun(command, context, [options, &context] { return RunVacuum(*options, context); });
}

}  // namespace tributary::cli

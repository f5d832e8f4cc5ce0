#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/quickstart.h"
#include "datasets/generate.h"

// `tributary quickstart`: local PostgreSQL/MariaDB, sample data, the pipeline, live
// changes (the work itself is in quickstart.cc).
namespace tributary::cli {

void RegisterQuickstartCommand(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<QuickstartOptions>();
  auto work_dir = std::make_shared<std::string>(options->work_dir.string());
  auto models_dir = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand(
      "quickstart",
      "Start local PostgreSQL and MariaDB, load sample data and show changes flowing to "
      "silver and gold");
  command->add_flag(
      "--exit", options->exit,
      "Exit after showing the results (default when stdin is not a terminal)");
  command
      ->add_option("--work-dir", *work_dir,
                   "Directory for the servers, the generated config and the lake")
      ->capture_default_str();
  command->add_option("--scale", options->scale, "Sample dataset size multiplier")
      ->check(CLI::Range(1, datasets::kMaxScale))
      ->capture_default_str();
  command->add_flag("--with-schema-change", options->schema_change,
                    "Add an ALTER TABLE ... ADD COLUMN step to the live changes");
  command->add_option("--models-dir", *models_dir,
                      "Directory holding retail/models.toml (default: found next to the "
                      "binary or in ./models)");
  OnRun(command, context, [options, work_dir, models_dir, &context] {
    options->work_dir = *work_dir;
    options->models_dir = *models_dir;
    return RunQuickstart(*options, context.global().verbosity, context.out(),
                         context.err());
  });
}

}  // namespace tributary::cli

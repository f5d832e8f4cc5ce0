#pragma once

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "core/result.h"

/// `tributary quickstart`: local PostgreSQL 15 and MariaDB 10.11 under a work dir, the
/// retail sample in PostgreSQL (store in MariaDB), the pipeline (snapshot -> bronze ->
/// silver -> gold) into <work dir>/lake, a short script of live changes each shown
/// arriving in silver and gold with its latency, and the gold tables.
namespace tributary::cli {

struct QuickstartOptions {
  /// Servers' data (postgres/, mariadb/), quickstart.toml, quickstart.pids and lake/ go
  /// here. Created if missing; a previous quickstart run in it is replaced. A non-empty
  /// directory that is not a quickstart work dir is refused. Default: ./tributary-quickstart.
  std::filesystem::path work_dir = "tributary-quickstart";
  /// Exit after showing the results; also the behaviour when stdin is not a terminal.
  /// Default: false.
  bool exit = false;
  /// Sample dataset scale (retail: 300 customers, 120 products, 400 orders per unit).
  /// Default: 1.
  int scale = 1;
  /// Directory holding retail/models.toml (the gold models). Empty: searched next to the
  /// binary and in the current directory (see FindModelsDir). Default: empty.
  std::filesystem::path models_dir;
  /// Also run an `ALTER TABLE ... ADD COLUMN` step in the live script. Default: false
  /// (silver schema evolution on live tables is not reliable yet).
  bool schema_change = false;
  /// Longest wait for the snapshot, and for each live change, to reach silver and gold.
  /// Default: 300 s and 60 s.
  int64_t snapshot_timeout_ms = 300000;
  int64_t change_timeout_ms = 60000;
};

/// The directory with retail/models.toml: `explicit_dir` when set, else the first of
/// ./models, <ancestor of the binary>/models and <ancestor of the binary>/share/tributary/
/// models that holds it. Errors: kNotFound listing the places tried.
Result<std::filesystem::path> FindModelsDir(const std::filesystem::path& explicit_dir);

/// The name of the file (in the work dir) listing the pids of the servers the quickstart
/// started, one "<server> <pid>" line each; it stays after exit so callers can check the
/// processes are gone.
inline constexpr const char* kQuickstartPidsFile = "quickstart.pids";

/// Runs the quickstart, writing progress and results to `out` and problems to `err`.
/// SIGINT/SIGTERM stop it cleanly (pipeline stopped, servers stopped by pid); a second
/// signal exits at once (the servers die with us through their parent-death signal).
/// Returns the process exit code (0 on success, also after Ctrl-C in interactive mode).
int RunQuickstart(const QuickstartOptions& options,
                  int verbosity,
                  std::ostream& out,
                  std::ostream& err);

}  // namespace tributary::cli

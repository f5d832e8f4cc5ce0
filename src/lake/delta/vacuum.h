#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace tributary::lake::delta {

struct VacuumOptions {
  /// Keep unreferenced files younger than this many hours. Default: unset, meaning the
  /// table's delta.deletedFileRetentionDuration (168 hours unless set).
  std::optional<double> retention_hours;
  /// List what would be deleted without deleting. Default: false.
  bool dry_run = false;
  /// Allow a retention shorter than the table's delta.deletedFileRetentionDuration
  /// (readers time-travelling to older versions may then fail). Default: false.
  bool force = false;
  /// "Now" in ms since the epoch, for tests; 0 uses the wall clock. Default: 0.
  int64_t now_ms = 0;
};

struct VacuumResult {
  /// Files deleted (or, with dry_run, to be deleted), relative to the table root, sorted.
  std::vector<std::string> files;
  int64_t bytes = 0;
  int64_t retention_ms = 0;  ///< the retention applied
  bool dry_run = false;
};

/// Deletes data files under `table_root` that the latest snapshot does not reference (not a
/// live add, not a remove tombstone newer than the retention) and whose modification time is
/// older than the retention (Delta's VACUUM). Hidden paths (names starting with '.' or '_'
/// that are not partition directories, e.g. _delta_log) and deletion vector files are never
/// touched. Errors: kInvalidArgument when the retention is below the table's and `force` is
/// not set (naming both); kIo; snapshot load errors.
Result<VacuumResult> Vacuum(const std::filesystem::path& table_root,
                            const VacuumOptions& options = {});

}  // namespace tributary::lake::delta

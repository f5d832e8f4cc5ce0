#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/result.h"
#include "lake/delta/writer.h"
#include "sql/database.h"

namespace tributary::lake::delta {

struct OptimizeOptions {
  /// Target size of compacted files in bytes; files at or above it are left alone. The
  /// table property delta.targetFileSize overrides it when set. Default: 128 MiB.
  int64_t target_file_size_bytes = 128LL * 1024 * 1024;
  /// Codec and row groups of the new files, commit retries, checkpointing.
  WriteOptions write;
};

struct OptimizeResult {
  int64_t version = -1;  ///< committed version; -1 when there was nothing to compact
  int64_t files_removed = 0;
  int64_t files_added = 0;
  int64_t bytes_removed = 0;
  int64_t bytes_added = 0;
  int64_t partitions_optimized = 0;
  /// Why the checkpoint due after the commit (or the log cleanup after it) failed; the
  /// compaction stands. Callers log it.
  std::optional<std::string> checkpoint_problem;
};

/// Bin-packing compaction (Delta's OPTIMIZE): per partition, files smaller than the target
/// size are packed greedily into bins of up to the target size; each bin of two or more
/// files is rewritten as one file. All removes and adds carry dataChange=false and go in one
/// commit (operation "OPTIMIZE"), so streaming readers skip it and concurrent blind appends
/// do not conflict; a concurrent commit removing one of the compacted files is kConflict.
/// Files with deletion vectors are left alone.
Result<OptimizeResult> Optimize(sql::Connection& conn, const std::filesystem::path& table_root,
                                const OptimizeOptions& options = {});

}  // namespace tributary::lake::delta

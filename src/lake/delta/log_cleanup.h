#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

#include "core/result.h"
#include "lake/delta/actions.h"

namespace tributary::lake::delta {

/// What CleanUpExpiredLogs did.
struct LogCleanupResult {
  /// False when delta.enableExpiredLogCleanup is false: nothing was looked at.
  bool enabled = true;
  /// now - delta.logRetentionDuration (ms since epoch): commits at or before it expired.
  int64_t cutoff_ms = 0;
  /// The version of the checkpoint kept as the new start of the log (the oldest version
  /// still reconstructable); nullopt when no checkpoint qualified (nothing deleted).
  std::optional<int64_t> oldest_version_kept;
  /// Log files removed (commits, checkpoint files or parts, .crc, compaction files).
  int64_t files_deleted = 0;
};

/// The log retention in milliseconds: delta.logRetentionDuration ("interval 30 days" by
/// default), parsed by ParseIntervalMillis. Errors: kInvalidArgument naming the property.
Result<int64_t> LogRetentionMillis(const Metadata& metadata);

/// delta.enableExpiredLogCleanup ("true" by default; "true"/"false", any case).
/// Errors: kInvalidArgument naming the property and value.
Result<bool> ExpiredLogCleanupEnabled(const Metadata& metadata);

/// Deletes expired `_delta_log` files of the table at `table_root` (PROTOCOL.md
/// "Requirements for Writers" > "Checkpoints" > "Metadata Cleanup"), given the table's
/// current `metadata` (its properties decide) and the wall clock `now_ms`:
///
/// 1. cutoff = now_ms - delta.logRetentionDuration. The cutoff commit is the newest
///    version v such that every listed commit up to v has a timestamp <= cutoff. A
///    commit's timestamp is its commitInfo.inCommitTimestamp when
///    delta.enableInCommitTimestamps is true and the commit carries one, otherwise the
///    commit file's modification time. Unlike Spark, the cutoff is not rounded down to
///    midnight UTC.
/// 2. The cutoff checkpoint is the newest complete checkpoint (classic, multi-part or
///    UUID-named) at or below the cutoff commit. None: nothing is deleted.
/// 3. Every recognised log file of a version below the cutoff checkpoint's is deleted,
///    oldest version first: NNN.json, NNN.crc, NNN.checkpoint*.parquet|json (all
///    layouts, incomplete multi-part parts too) and NNN.MMM.compacted.json with start
///    version NNN below it. The checkpoint, its commit file, everything after it,
///    `_last_checkpoint`, hidden/underscore entries (`_sidecars/`, `_staged_commits/`,
///    temp files) and unrecognised names are never touched. Sidecar files are not
///    cleaned (tributary writes only classic V1 checkpoints).
///
/// Afterwards versions from the cutoff checkpoint on stay readable (latest and time
/// travel); older versions fail to load with kNotFound. The process remembers the oldest
/// commit each cleanup leaves: while that commit file is still the oldest and has not
/// expired, the next cleanup returns at once (step 1 would stop there) without listing
/// the log - a busy table checkpoints every few seconds. No-op (enabled = false) when
/// delta.enableExpiredLogCleanup is false.
/// Errors: kNotFound (no `_delta_log`), kInvalidArgument (bad property value), kIo
/// naming the file that could not be listed, read or deleted. A failed deletion stops
/// the cleanup; since the oldest files go first, the table stays readable.
Result<LogCleanupResult> CleanUpExpiredLogs(const std::filesystem::path& table_root,
                                            const Metadata& metadata,
                                            int64_t now_ms);

}  // namespace tributary::lake::delta

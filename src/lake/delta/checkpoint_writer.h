#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/result.h"
#include "lake/delta/snapshot.h"
#include "sql/database.h"

namespace tributary::lake::delta {

/// A checkpoint that was written.
struct CheckpointInfo {
  int64_t version = 0;
  int64_t num_actions = 0;    ///< rows in the checkpoint ("size" in _last_checkpoint)
  int64_t size_in_bytes = 0;  ///< bytes of the checkpoint file
  int64_t num_add_files = 0;
  /// Expired log files deleted after the checkpoint (log_cleanup.h).
  int64_t log_files_deleted = 0;
  /// The oldest version still reconstructable after that cleanup; nullopt when nothing
  /// was deleted.
  std::optional<int64_t> log_oldest_version_kept;
  /// Why the cleanup failed, if it did. The checkpoint itself is durable and valid then;
  /// callers log this (it does not fail WriteCheckpoint).
  std::optional<std::string> cleanup_error;
};

/// What went wrong with the checkpoint of `version` a write triggered (it failed, or the
/// log cleanup after it did), as one line for a log; nullopt when nothing did.
std::optional<std::string> CheckpointProblem(const Result<CheckpointInfo>& checkpoint,
                                             int64_t version);

/// The table's checkpoint interval: delta.checkpointInterval, default 10.
int64_t CheckpointInterval(const Metadata& metadata);

/// The tombstone retention in milliseconds: delta.deletedFileRetentionDuration
/// ("interval 1 week" by default, 168 hours).
Result<int64_t> DeletedFileRetentionMillis(const Metadata& metadata);

/// Parses a Delta CalendarInterval property value ("interval 7 days", "interval 168 hours",
/// "1 week") to milliseconds. Errors: kInvalidArgument naming the value.
Result<int64_t> ParseIntervalMillis(std::string_view value);

/// Writes a classic single-file Parquet checkpoint of `snapshot`
/// (`_delta_log/<version>.checkpoint.parquet`, PROTOCOL.md "Checkpoints", "Checkpoint
/// Schema"): protocol, metaData, one txn per appId, every add (partitionValues as
/// map<string,string>, stats as a JSON string) and the remove tombstones whose
/// deletionTimestamp is within delta.deletedFileRetentionDuration. Then replaces
/// `_delta_log/_last_checkpoint` ({version, size, sizeInBytes, numOfAddFiles}).
/// The Parquet file is written under a temp name and renamed, so readers never see a
/// partial checkpoint. Finally deletes expired log files with CleanUpExpiredLogs
/// (delta.logRetentionDuration, delta.enableExpiredLogCleanup), as Spark does after a
/// checkpoint; a cleanup failure is reported in CheckpointInfo::cleanup_error, not as
/// an error. Errors: kIo, DuckDB errors.
Result<CheckpointInfo> WriteCheckpoint(sql::Connection& conn, const Snapshot& snapshot);

/// Loads the snapshot at `version` and checkpoints it (WriteCheckpoint).
Result<CheckpointInfo> WriteCheckpointAt(sql::Connection& conn,
                                         const std::filesystem::path& table_root,
                                         int64_t version);

}  // namespace tributary::lake::delta

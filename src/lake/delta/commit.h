#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "lake/delta/actions.h"
#include "lake/delta/conflict.h"
#include "lake/delta/snapshot.h"  // CommitFilePath

namespace tributary::lake::delta {

/// The engineInfo written in every commitInfo.
inline constexpr std::string_view kEngineInfo = "tributary/0.1.0";

/// `<table>/_delta_log`.
std::filesystem::path DeltaLogDir(const std::filesystem::path& table_root);

/// Current time in milliseconds since the epoch (wall clock).
int64_t NowMillis();

/// Writes `content` to `path` only if `path` does not exist, atomically: the bytes go to a
/// hidden temp file in the same directory, which is fsynced, hard-linked to `path`
/// (link(2) fails with EEXIST instead of replacing) and unlinked; then the directory is
/// fsynced. Readers never see a partial file. Errors: kAlreadyExists when `path` exists;
/// kIo for filesystem failures (the temp file is removed).
Status WriteFileIfAbsent(const std::filesystem::path& path, std::string_view content);

/// Writes `content` to `path`, replacing it atomically (temp file + fsync + rename +
/// directory fsync). Used for `_last_checkpoint` and checkpoint files. Errors: kIo.
Status WriteFileReplace(const std::filesystem::path& path, std::string_view content);

/// fsyncs an existing file written by someone else (DuckDB's COPY does not). Errors: kIo
/// (also when the file is missing).
Status FsyncFile(const std::filesystem::path& path);

/// fsyncs the local files the add, cdc and deletion-vector actions among `actions` name
/// (resolved against `table_root`; files that do not exist and non-local URIs are
/// skipped), then the directories holding them up to `table_root`, so a crash after the
/// commit cannot lose them. Commit calls it before writing the log entry. Errors: kIo.
Status SyncDataFiles(const std::filesystem::path& table_root,
                     const std::vector<Action>& actions);

/// One transaction to commit.
struct CommitRequest {
  /// The actions, without commitInfo (Commit adds it first). Protocol and metaData come
  /// first when present.
  std::vector<Action> actions;
  /// Provenance: operation, operationParameters and operationMetrics are taken from here;
  /// timestamp, engineInfo, readVersion, txnId and inCommitTimestamp are filled by Commit.
  CommitInfo commit_info;
  /// What the transaction read (conflict detection on a lost race).
  ReadSet read_set;
  /// Write commitInfo.inCommitTimestamp (table feature inCommitTimestamp enabled).
  bool in_commit_timestamps = false;
};

struct CommitOptions {
  /// How many versions to try before giving up with kConflict. Each lost race whose winner
  /// does not conflict moves the attempt to the next version. Default: 1000.
  int max_attempts = 1000;
};

struct CommitResult {
  int64_t version = 0;  ///< the version written
  int attempts = 0;     ///< 1 when no race was lost
  /// The inCommitTimestamp written, or the commitInfo timestamp (ms since epoch).
  int64_t timestamp = 0;
};

/// Commits `request` at version read_version + 1 with put-if-absent
/// (PROTOCOL.md "Delta Log Entries": a version is written exactly once). On a lost race it
/// reads each winning commit, checks it with CheckConflict and retries at the next version.
/// Errors: kConflict naming the winning version and why; kAlreadyExists when creating a
/// table (read_version -1) whose version 0 exists; kCorruption if a winning commit cannot
/// be parsed; kIo. On error no commit file of this transaction exists.
Result<CommitResult> Commit(const std::filesystem::path& table_root, CommitRequest request,
                            const CommitOptions& options = {});

}  // namespace tributary::lake::delta

#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace tributary::lake::delta {

/// A file in `_delta_log`. ListLog does not stat commit files (a table may have many
/// thousands): their size and modification time are -1 until asked for through
/// LogFileModificationTimeMs(); checkpoint and compaction files are stat'ed.
struct LogFile {
  std::filesystem::path path;
  int64_t size = -1;
  int64_t modification_time_ms = -1;
};

/// The file's modification time in ms since epoch: the listed value when known, else
/// stat'ed now (0 when the file cannot be stat'ed).
int64_t LogFileModificationTimeMs(const LogFile& file);

/// How a checkpoint is laid out (PROTOCOL.md "Checkpoint Naming Scheme").
enum class CheckpointKind {
  kClassic,    ///< N.checkpoint.parquet (V1 or V2 spec content)
  kMultiPart,  ///< N.checkpoint.P.K.parquet, K parts
  kUuid,       ///< N.checkpoint.<uuid>.json|parquet (V2 spec: manifest + sidecars)
};

/// One complete checkpoint: every part present.
struct CheckpointFiles {
  int64_t version = 0;
  CheckpointKind kind = CheckpointKind::kClassic;
  std::vector<LogFile> parts;  ///< 1 file, or K parts in part order
};

/// A log compaction file `X.Y.compacted.json` (PROTOCOL.md "Log Compaction Files"):
/// the reconciled actions of commits X..Y.
struct CompactionFile {
  int64_t start_version = 0;
  int64_t end_version = 0;
  LogFile file;
};

/// What `_delta_log` holds, by kind. Hidden and temporary entries (names starting with
/// '.' or '_' such as `.tmp/`, `_sidecars/`, `_commits/`), `.crc` checksum files and
/// unrecognised names are ignored.
struct LogListing {
  std::map<int64_t, LogFile> commits;
  /// Complete checkpoints by version (several layouts may exist for one version).
  std::map<int64_t, std::vector<CheckpointFiles>> checkpoints;
  /// Incomplete multi-part checkpoints are dropped; their versions are listed here.
  std::vector<int64_t> incomplete_checkpoints;
  std::vector<CompactionFile> compactions;
  /// Version named by `_last_checkpoint`, when that file exists and parses (hint only).
  std::optional<int64_t> last_checkpoint_hint;

  /// Highest version reconstructable from commits or checkpoints, or nullopt if empty.
  std::optional<int64_t> LatestVersion() const;
};

/// The files needed to reconstruct one version: an optional checkpoint plus the
/// contiguous JSON commits after it (PROTOCOL.md "Delta Log Entries", "Checkpoints").
struct LogSegment {
  int64_t version = -1;
  std::optional<CheckpointFiles> checkpoint;
  /// Commits checkpoint.version+1 .. version (or 0 .. version), in order.
  std::vector<std::pair<int64_t, LogFile>> commits;
  /// When compaction files are used: ranges that replace their commits; the commits they
  /// cover are then absent from `commits`. Ordered by start version.
  std::vector<CompactionFile> compactions;
};

/// A 20-digit zero-padded log version (PROTOCOL.md "Delta Log Entries"); nullopt for any
/// other text (also on int64 overflow).
std::optional<int64_t> ParseLogVersion(std::string_view text);

/// commitInfo.inCommitTimestamp from the first line of the commit file `path` (PROTOCOL.md
/// "In-Commit Timestamps": commitInfo is the first action); nullopt when it has none.
/// Errors: kIo when the file cannot be opened, parse errors naming the file.
Result<std::optional<int64_t>> ReadCommitInCommitTimestamp(const std::filesystem::path& path);

/// Lists `<table_root>/_delta_log`. Errors: kNotFound when there is no `_delta_log`
/// directory, kIo on listing failures.
Result<LogListing> ListLog(const std::filesystem::path& table_root);

/// Picks the newest complete checkpoint at or below `version` and the commits after it.
/// Errors: kNotFound when `version` is beyond the log or older than every reachable
/// state (commits cleaned up, no checkpoint); kCorruption when a commit in the needed
/// range is missing ("versions not contiguous: missing version N").
/// `use_compactions` replaces covered commit runs by compaction files.
Result<LogSegment> BuildLogSegment(const LogListing& listing,
                                   int64_t version,
                                   bool use_compactions = false);

/// `<20-digit version>.json`.
std::string CommitFileName(int64_t version);

/// Reads a whole file into a string. Errors: kNotFound, kIo.
Result<std::string> ReadFileToString(const std::filesystem::path& path);

}  // namespace tributary::lake::delta

#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/result.h"
#include "lake/delta/actions.h"
#include "lake/delta/snapshot.h"

namespace tributary::sql {
class Connection;
}  // namespace tributary::sql

namespace tributary::lake::delta {

/// The writers' process-wide cache of the newest snapshot per table root (writer.h uses
/// it for every write; readers keep calling Snapshot::Load).
///
/// A cached snapshot of version v is valid while `_delta_log/<v>.json` is the same file
/// (device, inode, size, modification time in ns) and `<v+1>.json` does not exist. When
/// newer commits exist they are read by name (`<v+1>.json`, `<v+2>.json`, ..., no
/// directory listing, no checkpoint) and applied with Snapshot::ApplyCommit. Anything
/// else - no cached entry, `<v>.json` gone or replaced (the table was deleted and
/// recreated), a gap (`<n+2>.json` without `<n+1>.json`), a commit that does not parse or
/// apply, more than 1000 new commits - falls back to a full Snapshot::Load.
///
/// Thread safety: all functions are thread-safe (one mutex guards the map; loads and
/// commit reads run outside it). Snapshots are immutable and shared.

/// The latest snapshot of the table at `table_root`, from the cache when still valid.
/// `connection` is used for a full load that reads a Parquet checkpoint (may be null:
/// a pooled connection is borrowed). Errors: those of Snapshot::Load.
Result<std::shared_ptr<const Snapshot>> LatestSnapshotForWrite(
    const std::filesystem::path& table_root, sql::Connection* connection);

/// Records that this process committed `actions` (without commitInfo) on top of `base`
/// as `version`, with in-commit timestamp `in_commit_timestamp` when the table has that
/// feature (else the commit file's modification time is the snapshot timestamp). When
/// `version` is base.version() + 1 the new snapshot is built from `base`, cached (unless
/// the cache already holds a newer version) and returned; otherwise returns nullptr
/// (the next LatestSnapshotForWrite reads the commits in between).
std::shared_ptr<const Snapshot> RecordCommittedSnapshot(
    const Snapshot& base, const std::vector<Action>& actions, int64_t version,
    std::optional<int64_t> in_commit_timestamp);

/// Counters since the process started (or the last ClearSnapshotCache), for tests and
/// benchmarks.
struct SnapshotCacheStats {
  int64_t hits = 0;              ///< cached snapshot still the latest
  int64_t advanced_commits = 0;  ///< commits of other writers applied incrementally
  int64_t recorded_commits = 0;  ///< own commits applied by RecordCommittedSnapshot
  int64_t full_loads = 0;        ///< Snapshot::Load calls
};
SnapshotCacheStats GetSnapshotCacheStats();

/// Drops every cached snapshot and resets the counters.
void ClearSnapshotCache();

}  // namespace tributary::lake::delta

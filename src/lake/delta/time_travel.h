#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "lake/delta/actions.h"
#include "lake/delta/log_segment.h"
#include "lake/delta/snapshot.h"

namespace tributary::lake::delta {

/// Commit timestamps of every commit file in the listing, ascending by version.
///
/// A commit's timestamp is its `commitInfo.inCommitTimestamp` when present (PROTOCOL.md
/// "In-Commit Timestamps"; taken as is), otherwise the commit file's modification time.
/// File-time timestamps are made monotonic as Delta's history manager does: one that is
/// <= the previous commit's counts as previous + 1 ms.
/// Errors: kCorruption naming a commit file whose commitInfo cannot be parsed; kIo.
Result<std::vector<CommitTimestamp>> ListCommitTimestamps(const LogListing& listing);

/// The version to read "as of" `timestamp_ms`: the latest version whose commit timestamp
/// is <= it. After the last commit gives the last version.
/// Errors: kInvalidArgument when `timestamp_ms` is before the first commit (naming both).
Result<int64_t> VersionAtTimestamp(const std::vector<CommitTimestamp>& timestamps,
                                   int64_t timestamp_ms);

/// Parses a user timestamp: epoch milliseconds ("1588398451000"), a date ("2020-05-01",
/// midnight UTC), or "YYYY-MM-DD[T| ]HH:MM[:SS[.ffffff]]" with an optional zone "Z",
/// "+HH:MM", "-HH:MM" or "+HHMM" (no zone means UTC). Returns ms since epoch.
/// Errors: kInvalidArgument naming the text.
Result<int64_t> ParseTimestamp(std::string_view text);

/// Formats ms since epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string FormatTimestampMs(int64_t timestamp_ms);

/// One commit of a table's history (`tributary history`).
struct HistoryEntry {
  int64_t version = 0;
  int64_t timestamp_ms = 0;  ///< as ListCommitTimestamps
  std::optional<CommitInfo> commit_info;
  int64_t num_add = 0;     ///< add actions in the commit
  int64_t num_remove = 0;  ///< remove actions in the commit
};

/// The history of the table at `table_root`, newest first, at most `limit` entries
/// (all when unset). Only versions whose commit files still exist are listed.
/// Errors: kNotFound (not a Delta table), kCorruption (unparsable commit, naming it).
Result<std::vector<HistoryEntry>> ReadHistory(const std::filesystem::path& table_root,
                                              std::optional<size_t> limit = std::nullopt);

}  // namespace tributary::lake::delta

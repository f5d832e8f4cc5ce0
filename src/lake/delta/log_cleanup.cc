#include "lake/delta/log_cleanup.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <limits>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "lake/delta/checkpoint_writer.h"
#include "lake/delta/log_segment.h"

namespace tributary::lake::delta {

namespace {

namespace fs = std::filesystem;

constexpr int64_t kDefaultLogRetentionMillis = 30LL * 24 * 3600 * 1000;

std::string Lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool IsDigits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string_view> SplitDots(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (true) {
    const size_t next = s.find('.', pos);
    parts.push_back(s.substr(pos, next == std::string_view::npos ? s.npos : next - pos));
    if (next == std::string_view::npos) {
      break;
    }
    pos = next + 1;
  }
  return parts;
}

// The order in which the files of one version go: the commit and its checksum first, the
// checkpoint last, so an interrupted cleanup leaves that version's checkpoint usable.
enum class ExpiredKind { kCommit = 0, kChecksum = 1, kCompaction = 2, kCheckpoint = 3 };

struct ExpiredFile {
  int64_t version = 0;
  ExpiredKind kind = ExpiredKind::kCommit;
  fs::path path;
};

// Classifies a `_delta_log` entry name as one of the log files the protocol's cleanup
// removes (PROTOCOL.md "Delta Log Entries", "Checkpoint Naming Scheme", "Version Checksum
// File", "Log Compaction Files"); nullopt for anything else.
std::optional<std::pair<int64_t, ExpiredKind>> ClassifyLogFile(std::string_view name) {
  if (name.empty() || name[0] == '.' || name[0] == '_') {
    return std::nullopt;
  }
  const auto parts = SplitDots(name);
  const auto version = ParseLogVersion(parts[0]);
  if (!version) {
    return std::nullopt;
  }
  if (parts.size() == 2 && parts[1] == "json") {
    return std::make_pair(*version, ExpiredKind::kCommit);
  }
  if (parts.size() == 2 && parts[1] == "crc") {
    return std::make_pair(*version, ExpiredKind::kChecksum);
  }
  if (parts.size() == 3 && parts[1] == "checkpoint" && parts[2] == "parquet") {
    return std::make_pair(*version, ExpiredKind::kCheckpoint);
  }
  if (parts.size() == 5 && parts[1] == "checkpoint" && IsDigits(parts[2]) &&
      IsDigits(parts[3]) && parts[4] == "parquet") {
    return std::make_pair(*version, ExpiredKind::kCheckpoint);
  }
  if (parts.size() == 4 && parts[1] == "checkpoint" && !parts[2].empty() &&
      (parts[3] == "json" || parts[3] == "parquet")) {
    return std::make_pair(*version, ExpiredKind::kCheckpoint);
  }
  if (parts.size() == 4 && ParseLogVersion(parts[1]) && parts[2] == "compacted" &&
      parts[3] == "json") {
    return std::make_pair(*version, ExpiredKind::kCompaction);
  }
  return std::nullopt;
}

// A commit's timestamp for expiry: its commitInfo.inCommitTimestamp when the table uses
// in-commit timestamps and the commit carries one, else the file's modification time.
Result<int64_t> CommitTimestampMs(const LogFile& file, bool in_commit_timestamps) {
  if (in_commit_timestamps) {
    TRIB_ASSIGN_OR_RETURN(std::optional<int64_t> timestamp,
                          ReadCommitInCommitTimestamp(file.path));
    if (timestamp) {
      return *timestamp;
    }
  }
  return LogFileModificationTimeMs(file);
}

// The oldest commit each table's last cleanup in this process left, so that the next
// one (after every checkpoint) need not list the whole log while nothing has expired:
// a busy table commits many times a second and keeps its log for days. Only a hint: it
// is used when that commit file still exists and no older one does.
class OldestCommitMemo {
 public:
  std::optional<int64_t> Get(const fs::path& table_root) {
    std::lock_guard lock(mutex_);
    auto found = oldest_.find(table_root.string());
    if (found == oldest_.end()) {
      return std::nullopt;
    }
    return found->second;
  }
  void Set(const fs::path& table_root, std::optional<int64_t> oldest) {
    std::lock_guard lock(mutex_);
    if (!oldest) {
      oldest_.erase(table_root.string());
      return;
    }
    if (oldest_.size() >= kMaxTables) {
      oldest_.clear();  // a hint: forgetting costs one listing per table
    }
    oldest_[table_root.string()] = *oldest;
  }

 private:
  static constexpr size_t kMaxTables = 1024;
  std::mutex mutex_;
  std::unordered_map<std::string, int64_t> oldest_;
};

OldestCommitMemo& TheOldestCommitMemo() {
  static OldestCommitMemo* memo = new OldestCommitMemo();  // used by writers until exit
  return *memo;
}

// Whether the table's oldest commit, known from the memo, is newer than `cutoff_ms`:
// then no commit has expired and the cleanup has nothing to do (step 1 below stops at
// the oldest commit). False when unknown or when the hint does not hold.
Result<bool> OldestCommitIsLive(const fs::path& table_root, bool in_commit_timestamps,
                                int64_t cutoff_ms) {
  auto oldest = TheOldestCommitMemo().Get(table_root);
  if (!oldest) {
    return false;
  }
  std::error_code ec;
  const fs::path path = CommitFilePath(table_root, *oldest);
  if (!fs::is_regular_file(path, ec) ||
      (*oldest > 0 && fs::exists(CommitFilePath(table_root, *oldest - 1), ec))) {
    return false;
  }
  TRIB_ASSIGN_OR_RETURN(int64_t timestamp,
                        CommitTimestampMs(LogFile{path, -1, -1}, in_commit_timestamps));
  return timestamp > cutoff_ms;
}

}  // namespace

Result<int64_t> LogRetentionMillis(const Metadata& metadata) {
  auto value = metadata.Config("delta.logRetentionDuration");
  if (!value) {
    return kDefaultLogRetentionMillis;
  }
  return std::move(ParseIntervalMillis(*value))
      .WithContext("reading table property delta.logRetentionDuration");
}

Result<bool> ExpiredLogCleanupEnabled(const Metadata& metadata) {
  auto value = metadata.Config("delta.enableExpiredLogCleanup");
  if (!value) {
    return true;
  }
  const std::string lower = Lower(*value);
  if (lower == "true") {
    return true;
  }
  if (lower == "false") {
    return false;
  }
  return MakeError(
      ErrorCode::kInvalidArgument,
      "table property delta.enableExpiredLogCleanup is '{}', expected 'true' "
      "or 'false'",
      *value);
}

Result<LogCleanupResult> CleanUpExpiredLogs(const fs::path& table_root,
                                            const Metadata& metadata,
                                            int64_t now_ms) {
  auto cleaned = [&]() -> Result<LogCleanupResult> {
    LogCleanupResult result;
    TRIB_ASSIGN_OR_RETURN(result.enabled, ExpiredLogCleanupEnabled(metadata));
    if (!result.enabled) {
      return result;
    }
    TRIB_ASSIGN_OR_RETURN(int64_t retention, LogRetentionMillis(metadata));
    result.cutoff_ms = now_ms - retention;
    const bool in_commit_timestamps =
        ConfigTrue(metadata.configuration, "delta.enableInCommitTimestamps");
    TRIB_ASSIGN_OR_RETURN(bool live,
                          OldestCommitIsLive(table_root, in_commit_timestamps,
                                             result.cutoff_ms));
    if (live) {
      return result;  // what the listing below would find, without listing
    }
    TRIB_ASSIGN_OR_RETURN(LogListing listing, ListLog(table_root));
    // The oldest commit left unless files are deleted below (then the kept checkpoint's).
    std::optional<int64_t> oldest_commit;
    if (!listing.commits.empty()) {
      oldest_commit = listing.commits.begin()->first;
    }
    TheOldestCommitMemo().Set(table_root, oldest_commit);
    if (listing.checkpoints.empty()) {
      return result;
    }
    const int64_t newest_checkpoint = listing.checkpoints.rbegin()->first;

    // Step 1: the cutoff commit. Walking from the oldest commit and stopping at the first
    // one newer than the cutoff keeps every version whose successors' clocks went
    // backwards, as Spark's monotonic adjustment does, and stats only the expired
    // commits plus one. Commits past the newest checkpoint cannot matter.
    std::optional<int64_t> cutoff_commit;
    for (const auto& [version, file] : listing.commits) {
      if (version > newest_checkpoint) {
        break;
      }
      TRIB_ASSIGN_OR_RETURN(int64_t timestamp,
                            CommitTimestampMs(file, in_commit_timestamps));
      if (timestamp > result.cutoff_ms) {
        break;
      }
      cutoff_commit = version;
    }
    if (!cutoff_commit) {
      return result;
    }
    // Step 2: the newest complete checkpoint at or below it.
    auto checkpoint = listing.checkpoints.upper_bound(*cutoff_commit);
    if (checkpoint == listing.checkpoints.begin()) {
      return result;
    }
    --checkpoint;
    const int64_t keep_from = checkpoint->first;
    result.oldest_version_kept = keep_from;
    // Forgotten until the deletions below are done (a failure leaves older files).
    TheOldestCommitMemo().Set(table_root, std::nullopt);

    // Step 3: every log file below it, oldest first. Listed again by name because
    // ListLog skips checksum files and incomplete multi-part checkpoints.
    const fs::path log_dir = table_root / "_delta_log";
    std::vector<ExpiredFile> expired;
    std::error_code ec;
    fs::directory_iterator it(log_dir, ec);
    if (ec) {
      return MakeError(ErrorCode::kIo, "cannot list '{}': {}", log_dir.string(),
                       ec.message());
    }
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      const std::string name = it->path().filename().string();
      auto kind = ClassifyLogFile(name);
      if (!kind || kind->first >= keep_from) {
        continue;
      }
      std::error_code type_ec;
      if (!it->is_regular_file(type_ec)) {
        continue;
      }
      expired.push_back(ExpiredFile{kind->first, kind->second, it->path()});
    }
    if (ec) {
      return MakeError(ErrorCode::kIo, "cannot list '{}': {}", log_dir.string(),
                       ec.message());
    }
    std::sort(expired.begin(), expired.end(),
              [](const ExpiredFile& a, const ExpiredFile& b) {
                if (a.version != b.version) {
                  return a.version < b.version;
                }
                if (a.kind != b.kind) {
                  return a.kind < b.kind;
                }
                return a.path < b.path;
              });
    for (const auto& file : expired) {
      std::error_code remove_ec;
      const bool removed = fs::remove(file.path, remove_ec);
      if (remove_ec) {
        return MakeError(ErrorCode::kIo,
                         "cannot delete expired log file '{}': {} ({} older files were "
                         "deleted; versions from {} on stay readable)",
                         file.path.string(), remove_ec.message(), result.files_deleted,
                         keep_from);
      }
      // Not removed: another cleaner got there first.
      if (removed) {
        ++result.files_deleted;
      }
    }
    if (listing.commits.count(keep_from) > 0) {
      TheOldestCommitMemo().Set(table_root, keep_from);
    }
    return result;
  }();
  if (!cleaned.ok()) {
    return std::move(cleaned).status().AddContext(fmt::format(
        "cleaning up expired log files of Delta table '{}'", table_root.string()));
  }
  return cleaned;
}

}  // namespace tributary::lake::delta

#include "lake/delta/snapshot_cache.h"

#include <sys/stat.h>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "lake/delta/log_segment.h"

namespace tributary::lake::delta {

namespace {

namespace fs = std::filesystem;

// More new commits than this are read through a full load (which can use a checkpoint).
constexpr int64_t kMaxIncrementalCommits = 1000;
// Tables remembered; the least recently used goes first.
constexpr size_t kMaxTables = 256;

// What identifies one commit file: a deleted and recreated table has new files.
struct FileIdentity {
  uint64_t device = 0;
  uint64_t inode = 0;
  int64_t size = 0;
  int64_t mtime_ns = 0;

  bool operator==(const FileIdentity& other) const {
    return device == other.device && inode == other.inode && size == other.size &&
           mtime_ns == other.mtime_ns;
  }
};

std::optional<FileIdentity> StatFile(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return std::nullopt;
  }
  FileIdentity id;
  id.device = static_cast<uint64_t>(st.st_dev);
  id.inode = static_cast<uint64_t>(st.st_ino);
  id.size = static_cast<int64_t>(st.st_size);
  id.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                static_cast<int64_t>(st.st_mtim.tv_nsec);
  return id;
}

struct Entry {
  std::shared_ptr<const Snapshot> snapshot;
  FileIdentity commit_file;  // of <snapshot version>.json
  uint64_t last_used = 0;
};

struct Cache {
  std::mutex mutex;
  std::map<std::string, Entry> entries;
  uint64_t clock = 0;
  SnapshotCacheStats stats;
};

Cache& TheCache() {
  static Cache* cache = new Cache();  // never destroyed: writers may run during exit
  return *cache;
}

// The root as the writer was given it: a snapshot keeps that path for resolving files
// and committing, so two spellings of one table get separate (each validated) entries.
std::string CacheKey(const fs::path& table_root) { return table_root.string(); }

// Stores `snapshot` unless the cache holds a newer version of the table.
void Store(const std::string& key, std::shared_ptr<const Snapshot> snapshot,
           const FileIdentity& identity) {
  Cache& cache = TheCache();
  std::lock_guard lock(cache.mutex);
  auto it = cache.entries.find(key);
  if (it != cache.entries.end() && it->second.snapshot->version() > snapshot->version()) {
    return;
  }
  if (it == cache.entries.end() && cache.entries.size() >= kMaxTables) {
    auto oldest = cache.entries.begin();
    for (auto e = cache.entries.begin(); e != cache.entries.end(); ++e) {
      if (e->second.last_used < oldest->second.last_used) {
        oldest = e;
      }
    }
    cache.entries.erase(oldest);
  }
  Entry& entry = cache.entries[key];
  entry.snapshot = std::move(snapshot);
  entry.commit_file = identity;
  entry.last_used = ++cache.clock;
}

void Count(int64_t SnapshotCacheStats::*counter, int64_t n = 1) {
  Cache& cache = TheCache();
  std::lock_guard lock(cache.mutex);
  cache.stats.*counter += n;
}

Result<std::shared_ptr<const Snapshot>> FullLoad(const std::string& key,
                                                 const fs::path& table_root,
                                                 sql::Connection* connection) {
  Count(&SnapshotCacheStats::full_loads);
  SnapshotOptions options;
  options.connection = connection;
  TRIB_ASSIGN_OR_RETURN(auto snapshot, Snapshot::Load(table_root, options));
  // A snapshot whose commit file is gone (only a checkpoint left) cannot be validated
  // cheaply: it is not cached.
  if (auto identity = StatFile(CommitFilePath(table_root, snapshot->version()))) {
    Store(key, snapshot, *identity);
  }
  return snapshot;
}

}  // namespace

Result<std::shared_ptr<const Snapshot>> LatestSnapshotForWrite(const fs::path& table_root,
                                                               sql::Connection* connection) {
  const std::string key = CacheKey(table_root);
  std::optional<Entry> cached;
  {
    Cache& cache = TheCache();
    std::lock_guard lock(cache.mutex);
    auto it = cache.entries.find(key);
    if (it != cache.entries.end()) {
      it->second.last_used = ++cache.clock;
      cached = it->second;
    }
  }
  if (!cached) {
    return FullLoad(key, table_root, connection);
  }
  std::shared_ptr<const Snapshot> snapshot = cached->snapshot;
  auto identity = StatFile(CommitFilePath(table_root, snapshot->version()));
  if (!identity || !(*identity == cached->commit_file)) {
    return FullLoad(key, table_root, connection);
  }
  int64_t applied = 0;
  while (true) {
    const int64_t next = snapshot->version() + 1;
    const fs::path path = CommitFilePath(table_root, next);
    auto next_identity = StatFile(path);
    if (!next_identity) {
      // A later commit without this one is a gap in the log: let the full load judge.
      if (StatFile(CommitFilePath(table_root, next + 1))) {
        return FullLoad(key, table_root, connection);
      }
      break;
    }
    if (applied >= kMaxIncrementalCommits) {
      return FullLoad(key, table_root, connection);
    }
    auto text = ReadFileToString(path);
    if (!text.ok()) {
      return FullLoad(key, table_root, connection);
    }
    auto actions = ParseCommitText(*text);
    if (!actions.ok()) {
      return FullLoad(key, table_root, connection);
    }
    auto advanced =
        Snapshot::ApplyCommit(*snapshot, *actions, next_identity->mtime_ns / 1000000);
    if (!advanced.ok()) {
      // Let the full load report what is wrong with the log.
      return FullLoad(key, table_root, connection);
    }
    snapshot = std::move(*advanced);
    identity = next_identity;
    ++applied;
  }
  if (applied > 0) {
    Count(&SnapshotCacheStats::advanced_commits, applied);
    Store(key, snapshot, *identity);
  } else {
    Count(&SnapshotCacheStats::hits);
  }
  return snapshot;
}

std::shared_ptr<const Snapshot> RecordCommittedSnapshot(
    const Snapshot& base, const std::vector<Action>& actions, int64_t version,
    std::optional<int64_t> in_commit_timestamp) {
  if (version != base.version() + 1) {
    return nullptr;
  }
  auto identity = StatFile(CommitFilePath(base.table_root(), version));
  if (!identity) {
    return nullptr;
  }
  std::vector<Action> with_info;
  with_info.reserve(actions.size() + 1);
  if (in_commit_timestamp) {
    CommitInfo info;
    info.in_commit_timestamp = in_commit_timestamp;
    with_info.emplace_back(std::move(info));
  }
  with_info.insert(with_info.end(), actions.begin(), actions.end());
  auto next = Snapshot::ApplyCommit(base, with_info, identity->mtime_ns / 1000000);
  if (!next.ok()) {
    return nullptr;
  }
  Count(&SnapshotCacheStats::recorded_commits);
  Store(CacheKey(base.table_root()), *next, *identity);
  return *next;
}

SnapshotCacheStats GetSnapshotCacheStats() {
  Cache& cache = TheCache();
  std::lock_guard lock(cache.mutex);
  return cache.stats;
}

void ClearSnapshotCache() {
  Cache& cache = TheCache();
  std::lock_guard lock(cache.mutex);
  cache.entries.clear();
  cache.stats = SnapshotCacheStats{};
}

}  // namespace tributary::lake::delta

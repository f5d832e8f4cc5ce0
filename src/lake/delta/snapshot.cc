#include "lake/delta/snapshot.h"

#include <algorithm>
#include <array>
#include <map>
#include <utility>
#include <system_error>

#include "lake/delta/checkpoint_reader.h"
#include "lake/delta/column_mapping.h"
#include "lake/delta/internal/uri.h"
#include "lake/delta/log_segment.h"
#include "lake/delta/replay.h"
#include "lake/delta/time_travel.h"
#include "lake/parquet/shared_connection.h"
#include "sql/database.h"

namespace tributary::lake::delta {

namespace fs = std::filesystem;

namespace {

// Reader features this reader implements (PROTOCOL.md "Table Features",
// "Valid Feature Names in Table Features").
constexpr std::array<std::string_view, 7> kSupportedReaderFeatures = {
    "columnMapping", "deletionVectors",      "timestampNtz",        "v2Checkpoint",
    "typeWidening",  "typeWidening-preview", "vacuumProtocolCheck",
};

constexpr int32_t kMaxReaderVersion = 3;

// PROTOCOL.md "Reader Version Requirements" and "Table Features".
Status CheckReaderProtocol(const Protocol& protocol, int64_t version) {
  if (protocol.min_reader_version < 1 ||
      protocol.min_reader_version > kMaxReaderVersion) {
    return MakeError(ErrorCode::kUnsupported,
                     "unsupported Delta protocol: the table (version {}) requires reader "
                     "version {}, this reader supports reader versions 1 to {}",
                     version, protocol.min_reader_version, kMaxReaderVersion);
  }
  if (protocol.min_reader_version == 3) {
    if (!protocol.reader_features) {
      return MakeError(
          ErrorCode::kCorruption,
          "protocol with reader version 3 has no readerFeatures (version {})", version);
    }
    for (const auto& feature : *protocol.reader_features) {
      if (std::find(kSupportedReaderFeatures.begin(), kSupportedReaderFeatures.end(),
                    feature) == kSupportedReaderFeatures.end()) {
        return MakeError(ErrorCode::kUnsupported,
                         "unsupported Delta reader table feature '{}' (table version {})",
                         feature, version);
      }
    }
  }
  return OkStatus();
}

Result<std::vector<Action>> ReadCommitFile(const LogFile& file, int64_t version) {
  auto text = ReadFileToString(file.path);
  if (!text.ok()) {
    return std::move(text).status().AddContext(fmt::format(
        "reading commit {} (version {})", file.path.filename().string(), version));
  }
  auto actions = ParseCommitText(*text);
  if (!actions.ok()) {
    Error error = std::move(actions).status();
    return Error(ErrorCode::kCorruption,
                 fmt::format("commit file '{}' (version {}) is corrupt: {}",
                             file.path.string(), version, error.ToString()));
  }
  return std::move(*actions);
}

}  // namespace

// Builds snapshots field by field (Snapshot's members are private).
class SnapshotBuilder {
 public:
  // Sets the metaData and what follows from it: the parsed schema and the column mapping
  // mode; checks the partition columns.
  static Status SetMetadata(Snapshot* snapshot, const Metadata& metadata) {
    snapshot->metadata_ = metadata;
    auto schema = ParseSchemaString(snapshot->metadata_.schema_string);
    if (!schema.ok()) {
      return std::move(schema).status().AddContext(
          fmt::format("parsing the schema of version {}", snapshot->version_));
    }
    snapshot->schema_ = std::move(*schema);
    TRIB_ASSIGN_OR_RETURN(snapshot->column_mapping_mode_,
                          GetColumnMappingMode(snapshot->metadata_));
    for (const auto& column : snapshot->metadata_.partition_columns) {
      if (snapshot->schema_.Find(column) == nullptr) {
        return MakeError(ErrorCode::kCorruption,
                         "partition column '{}' is not in the schema (version {})", column,
                         snapshot->version_);
      }
    }
    return OkStatus();
  }

  static Result<std::shared_ptr<const Snapshot>> Apply(const Snapshot& base,
                                                       const std::vector<Action>& actions,
                                                       int64_t commit_mtime_ms) {
    const int64_t version = base.version_ + 1;
    std::shared_ptr<Snapshot> next(new Snapshot());
    next->table_root_ = base.table_root_;
    next->version_ = version;
    next->protocol_ = base.protocol_;
    next->metadata_ = base.metadata_;
    next->schema_ = base.schema_;
    next->column_mapping_mode_ = base.column_mapping_mode_;
    next->app_transactions_ = base.app_transactions_;
    next->domain_metadata_ = base.domain_metadata_;
    next->timestamp_ms_ = commit_mtime_ms;
    using Key = std::pair<std::string, std::string>;
    auto dv_key = [](const std::optional<DeletionVectorDescriptor>& dv) {
      return dv ? dv->UniqueId() : std::string();
    };
    // Same order as LogReplay::ApplyAll: every non-add action, then the adds.
    std::map<Key, const RemoveFile*> removes;
    std::map<Key, const AddFile*> adds;
    const Metadata* metadata = nullptr;
    for (const auto& action : actions) {
      if (const auto* add = std::get_if<AddFile>(&action)) {
        adds[Key(add->path, dv_key(add->deletion_vector))] = add;
      } else if (const auto* remove = std::get_if<RemoveFile>(&action)) {
        removes[Key(remove->path, dv_key(remove->deletion_vector))] = remove;
      } else if (const auto* protocol = std::get_if<Protocol>(&action)) {
        next->protocol_ = *protocol;
      } else if (const auto* meta = std::get_if<Metadata>(&action)) {
        metadata = meta;
      } else if (const auto* txn = std::get_if<SetTransaction>(&action)) {
        next->app_transactions_[txn->app_id] = *txn;
      } else if (const auto* domain = std::get_if<DomainMetadata>(&action)) {
        if (domain->removed) {
          next->domain_metadata_.erase(domain->domain);
        } else {
          next->domain_metadata_[domain->domain] = *domain;
        }
      } else if (const auto* info = std::get_if<CommitInfo>(&action)) {
        if (info->in_commit_timestamp) {
          next->timestamp_ms_ = *info->in_commit_timestamp;
        }
      }
    }
    TRIB_RETURN_IF_ERROR(CheckReaderProtocol(next->protocol_, version));
    if (metadata != nullptr) {
      TRIB_RETURN_IF_ERROR(SetMetadata(next.get(), *metadata));
    }
    // Live files: the base's minus removed or replaced keys, plus the adds, in the
    // replay's (path, dv id) order.
    std::vector<std::pair<Key, const AddFile*>> live;
    live.reserve(base.files_.size() + adds.size());
    for (const auto& file : base.files_) {
      Key key(file.path, dv_key(file.deletion_vector));
      if (removes.count(key) == 0 && adds.count(key) == 0) {
        live.emplace_back(std::move(key), &file);
      }
    }
    for (const auto& [key, add] : adds) {
      live.emplace_back(key, add);
    }
    std::sort(live.begin(), live.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    next->files_.reserve(live.size());
    for (const auto& [key, file] : live) {
      next->files_.push_back(*file);
    }
    // Tombstones: a remove adds or replaces one, a re-add of the key drops it.
    std::vector<std::pair<Key, const RemoveFile*>> dead;
    dead.reserve(base.tombstones_.size() + removes.size());
    for (const auto& tombstone : base.tombstones_) {
      Key key(tombstone.path, dv_key(tombstone.deletion_vector));
      if (removes.count(key) == 0 && adds.count(key) == 0) {
        dead.emplace_back(std::move(key), &tombstone);
      }
    }
    for (const auto& [key, remove] : removes) {
      if (adds.count(key) == 0) {
        dead.emplace_back(key, remove);
      }
    }
    std::sort(dead.begin(), dead.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    next->tombstones_.reserve(dead.size());
    for (const auto& [key, tombstone] : dead) {
      next->tombstones_.push_back(*tombstone);
    }
    return std::shared_ptr<const Snapshot>(std::move(next));
  }
};

Result<std::shared_ptr<const Snapshot>> Snapshot::ApplyCommit(
    const Snapshot& base, const std::vector<Action>& actions, int64_t commit_mtime_ms) {
  auto applied = SnapshotBuilder::Apply(base, actions, commit_mtime_ms);
  if (!applied.ok()) {
    return std::move(applied).status().AddContext(
        fmt::format("applying commit {} of Delta table '{}'", base.version() + 1,
                    base.table_root().string()));
  }
  return applied;
}

fs::path CommitFilePath(const fs::path& table_root, int64_t version) {
  return table_root / "_delta_log" / CommitFileName(version);
}

Result<std::vector<Action>> ReadCommit(const fs::path& table_root, int64_t version) {
  fs::path path = CommitFilePath(table_root, version);
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return MakeError(ErrorCode::kNotFound, "commit {} (version {}) does not exist",
                     path.string(), version);
  }
  LogFile file{path, 0, 0};
  return ReadCommitFile(file, version);
}

Result<std::optional<int64_t>> LatestCommitVersion(const fs::path& table_root) {
  auto listing = ListLog(table_root);
  if (!listing.ok()) {
    if (listing.status().IsNotFound()) {
      return std::optional<int64_t>();
    }
    return std::move(listing).status();
  }
  if (listing->commits.empty()) {
    return std::optional<int64_t>();
  }
  return std::optional<int64_t>(listing->commits.rbegin()->first);
}

Result<std::shared_ptr<const Snapshot>> Snapshot::LoadLatest(const fs::path& table_root) {
  return Load(table_root);
}

Result<std::shared_ptr<const Snapshot>> Snapshot::LoadAtVersion(
    const fs::path& table_root, int64_t version) {
  SnapshotOptions options;
  options.version = version;
  return Load(table_root, options);
}

Result<std::shared_ptr<const Snapshot>> Snapshot::LoadAtTimestamp(
    const fs::path& table_root, int64_t timestamp_ms) {
  SnapshotOptions options;
  options.timestamp_ms = timestamp_ms;
  return Load(table_root, options);
}

Result<std::shared_ptr<const Snapshot>> Snapshot::Load(const fs::path& table_root,
                                                       const SnapshotOptions& options) {
  std::string table = table_root.string();
  if (options.version && options.timestamp_ms) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "give a version or a timestamp to load table '{}', not both", table);
  }
  auto loaded = [&]() -> Result<std::shared_ptr<const Snapshot>> {
    TRIB_ASSIGN_OR_RETURN(LogListing listing, ListLog(table_root));
    auto latest = listing.LatestVersion();
    if (!latest) {
      return MakeError(ErrorCode::kNotFound, "'{}' has an empty _delta_log (no commits)",
                       table);
    }
    int64_t target = *latest;
    std::optional<int64_t> ict_of_target;
    if (options.version) {
      target = *options.version;
    } else if (options.timestamp_ms) {
      TRIB_ASSIGN_OR_RETURN(auto timestamps, ListCommitTimestamps(listing));
      TRIB_ASSIGN_OR_RETURN(target,
                            VersionAtTimestamp(timestamps, *options.timestamp_ms));
    }
    TRIB_ASSIGN_OR_RETURN(LogSegment segment,
                          BuildLogSegment(listing, target, options.use_compaction_files));

    std::optional<parquet::PooledConnection> pooled;
    sql::Connection* connection = options.connection;
    LogReplay replay;
    if (segment.checkpoint) {
      if (connection == nullptr) {
        TRIB_ASSIGN_OR_RETURN(auto borrowed, parquet::AcquireSharedConnection());
        pooled.emplace(std::move(borrowed));
        connection = pooled->get();
      }
      TRIB_ASSIGN_OR_RETURN(auto actions,
                            ReadCheckpoint(*connection, table_root, *segment.checkpoint));
      replay.ApplyAll(actions);
    }
    // Commits and compaction files, in version order.
    size_t commit_idx = 0;
    size_t compaction_idx = 0;
    while (commit_idx < segment.commits.size() ||
           compaction_idx < segment.compactions.size()) {
      bool take_compaction = compaction_idx < segment.compactions.size() &&
                             (commit_idx >= segment.commits.size() ||
                              segment.compactions[compaction_idx].start_version <
                                  segment.commits[commit_idx].first);
      if (take_compaction) {
        const CompactionFile& compaction = segment.compactions[compaction_idx++];
        TRIB_ASSIGN_OR_RETURN(auto actions,
                              ReadCommitFile(compaction.file, compaction.end_version));
        // PROTOCOL.md "Log Compaction Files": the file holds the range's actions as a
        // reverse (newest first) reconciliation writes them, where the first action for a
        // key wins. Applying the lines in reverse order with last-wins gives the same
        // state.
        for (auto it = actions.rbegin(); it != actions.rend(); ++it) {
          replay.Apply(*it);
        }
        continue;
      }
      const auto& [version, file] = segment.commits[commit_idx++];
      TRIB_ASSIGN_OR_RETURN(auto actions, ReadCommitFile(file, version));
      if (version == target) {
        for (const auto& action : actions) {
          if (const auto* info = std::get_if<CommitInfo>(&action)) {
            ict_of_target = info->in_commit_timestamp;
          }
        }
      }
      replay.ApplyAll(actions);
    }

    if (!replay.protocol()) {
      return MakeError(ErrorCode::kCorruption,
                       "no protocol action in the log of '{}' up to version {}", table,
                       target);
    }
    if (!replay.metadata()) {
      return MakeError(ErrorCode::kCorruption,
                       "no metaData action in the log of '{}' up to version {}", table,
                       target);
    }
    TRIB_RETURN_IF_ERROR(CheckReaderProtocol(*replay.protocol(), target));

    std::shared_ptr<Snapshot> snapshot(new Snapshot());
    snapshot->table_root_ = table_root;
    snapshot->version_ = target;
    snapshot->protocol_ = *replay.protocol();
    TRIB_RETURN_IF_ERROR(SnapshotBuilder::SetMetadata(snapshot.get(), *replay.metadata()));
    snapshot->files_ = replay.TakeFiles();
    // The replay keeps files keyed by (path, DV), so they usually come out sorted.
    auto by_path = [](const AddFile& a, const AddFile& b) { return a.path < b.path; };
    if (!std::is_sorted(snapshot->files_.begin(), snapshot->files_.end(), by_path)) {
      std::stable_sort(snapshot->files_.begin(), snapshot->files_.end(), by_path);
    }
    snapshot->tombstones_ = replay.TakeTombstones();
    snapshot->app_transactions_ = replay.app_transactions();
    snapshot->domain_metadata_ = replay.domain_metadata();
    if (ict_of_target) {
      snapshot->timestamp_ms_ = *ict_of_target;
    } else if (auto commit = listing.commits.find(target);
               commit != listing.commits.end()) {
      snapshot->timestamp_ms_ = LogFileModificationTimeMs(commit->second);
    } else if (segment.checkpoint) {
      snapshot->timestamp_ms_ =
          LogFileModificationTimeMs(segment.checkpoint->parts.front());
    }
    return std::shared_ptr<const Snapshot>(std::move(snapshot));
  }();
  if (!loaded.ok()) {
    return std::move(loaded).status().AddContext(
        fmt::format("loading Delta table '{}'", table));
  }
  return loaded;
}

std::optional<int64_t> Snapshot::GetAppTransactionVersion(std::string_view app_id) const {
  auto it = app_transactions_.find(std::string(app_id));
  if (it == app_transactions_.end()) {
    return std::nullopt;
  }
  return it->second.version;
}

int64_t Snapshot::total_size_bytes() const {
  int64_t total = 0;
  for (const auto& file : files_) {
    total += file.size;
  }
  return total;
}

std::optional<int64_t> Snapshot::total_records() const {
  int64_t total = 0;
  for (const auto& file : files_) {
    auto records = file.NumRecords();
    if (!records) {
      return std::nullopt;
    }
    total += *records;
    if (file.deletion_vector) {
      total -= file.deletion_vector->cardinality;
    }
  }
  return total;
}

std::string Snapshot::PhysicalName(const StructField& field) const {
  return delta::PhysicalName(field, column_mapping_mode_);
}

std::optional<std::string> Snapshot::PartitionValue(const AddFile& file,
                                                    std::string_view column) const {
  const StructField* field = schema_.Find(column);
  std::string key = field != nullptr ? PhysicalName(*field) : std::string(column);
  auto it = file.partition_values.find(key);
  if (it == file.partition_values.end() && field != nullptr) {
    it = file.partition_values.find(field->name);
  }
  if (it == file.partition_values.end()) {
    return std::nullopt;
  }
  return it->second;
}

Result<fs::path> Snapshot::ResolvePath(std::string_view log_path) const {
  return internal::ResolveLogPath(table_root_, log_path);
}

}  // namespace tributary::lake::delta

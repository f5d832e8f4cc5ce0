#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "lake/delta/actions.h"
#include "lake/delta/schema.h"

namespace tributary::sql {
class Connection;
}  // namespace tributary::sql

namespace tributary::lake::delta {

/// PROTOCOL.md "Column Mapping": how logical columns map to names in data files.
enum class ColumnMappingMode { kNone, kName, kId };

/// Options for loading a snapshot. At most one of `version` and `timestamp_ms` may be
/// set; neither means the latest version.
struct SnapshotOptions {
  /// Load exactly this version. Errors: kNotFound if the log cannot reconstruct it.
  /// Default: unset (latest).
  std::optional<int64_t> version;
  /// Load the latest version whose commit timestamp is <= this instant (ms since epoch),
  /// per the rules in time_travel.h. Default: unset.
  std::optional<int64_t> timestamp_ms;
  /// Use `_delta_log/_last_checkpoint` as a hint for where to start listing. It is only a
  /// hint: empty, stale or corrupt files fall back to a full listing. Default: true.
  bool use_last_checkpoint_hint = true;
  /// Use log compaction files (`x.y.compacted.json`) in place of the commits they cover.
  /// The result is identical either way. Default: false.
  bool use_compaction_files = false;
  /// Connection used to read Parquet checkpoints and sidecars; when null, a connection
  /// is borrowed from the process-wide pool (lake/parquet/shared_connection.h). Not
  /// owned; must outlive the Load call only.
  /// Default: nullptr.
  sql::Connection* connection = nullptr;
};

/// One commit's timestamp information (time_travel.h explains the rules).
struct CommitTimestamp {
  int64_t version = 0;
  int64_t timestamp_ms = 0;  ///< effective: ICT if enabled, else file mtime; monotonic
  bool from_in_commit_timestamp = false;
};

/// An immutable, fully replayed state of a Delta table at one version
/// (PROTOCOL.md "Delta Table Specification", "Action Reconciliation").
///
/// Loading: lists `_delta_log`, picks the newest complete checkpoint at or below the
/// target version (classic, multi-part or V2 with sidecars), then replays the JSON
/// commits after it in order. Versions must be contiguous. The reader protocol is
/// checked: an unsupported reader version or feature is kUnsupported, naming it.
///
/// Thread safety: immutable after Load; share freely through shared_ptr<const Snapshot>.
class Snapshot {
 public:
  /// Loads a snapshot of the table rooted at `table_root` (the dir holding _delta_log).
  /// Errors: kNotFound (no _delta_log / no commits / version not reconstructable),
  /// kCorruption (malformed commit or checkpoint, missing protocol or metaData,
  /// non-contiguous versions; the message names the file and version), kUnsupported
  /// (reader protocol version or feature), kInvalidArgument (timestamp before the first
  /// commit, or both version and timestamp given), kIo.
  static Result<std::shared_ptr<const Snapshot>> Load(
      const std::filesystem::path& table_root, const SnapshotOptions& options = {});
  /// Load() at the latest version.
  static Result<std::shared_ptr<const Snapshot>> LoadLatest(
      const std::filesystem::path& table_root);
  /// Load() at `version`.
  static Result<std::shared_ptr<const Snapshot>> LoadAtVersion(
      const std::filesystem::path& table_root, int64_t version);
  /// Load() as of `timestamp_ms` (ms since epoch, UTC).
  static Result<std::shared_ptr<const Snapshot>> LoadAtTimestamp(
      const std::filesystem::path& table_root, int64_t timestamp_ms);
  /// The snapshot of version `base.version() + 1` whose commit holds `actions`, built
  /// from `base` without reading the log (PROTOCOL.md "Action Reconciliation": within the
  /// commit removes go before adds; files keyed by (path, deletion vector id); latest
  /// protocol, metaData, txn per appId and domainMetadata win). `commit_mtime_ms` is the
  /// commit file's modification time, the snapshot timestamp unless the commit carries an
  /// inCommitTimestamp. The result equals a fresh Load() of that version except that
  /// files and tombstones keep what the commits said (a checkpoint rewrites dataChange
  /// and drops tombstone stats). Errors: kCorruption (bad schema or partition column in a
  /// new metaData), kUnsupported (a new protocol this reader cannot read).
  static Result<std::shared_ptr<const Snapshot>> ApplyCommit(
      const Snapshot& base, const std::vector<Action>& actions, int64_t commit_mtime_ms);

  /// The table root directory.
  const std::filesystem::path& table_root() const { return table_root_; }
  /// The version this snapshot reflects.
  int64_t version() const { return version_; }
  const Protocol& protocol() const { return protocol_; }
  const Metadata& metadata() const { return metadata_; }
  /// The logical schema (metaData.schemaString parsed).
  const StructType& schema() const { return schema_; }
  /// Partition column names (logical), in metaData order.
  const std::vector<std::string>& partition_columns() const {
    return metadata_.partition_columns;
  }
  /// Table properties (metaData.configuration).
  const std::map<std::string, std::string>& table_properties() const {
    return metadata_.configuration;
  }
  ColumnMappingMode column_mapping_mode() const { return column_mapping_mode_; }

  /// The live data files, sorted by path. partition_values are keyed by physical column
  /// name as in the log (use PartitionValue() to look up by logical name).
  const std::vector<AddFile>& files() const { return files_; }
  /// Remove actions still in the log (tombstones), sorted by path.
  const std::vector<RemoveFile>& tombstones() const { return tombstones_; }
  /// Latest txn per appId.
  const std::map<std::string, SetTransaction>& app_transactions() const {
    return app_transactions_;
  }
  /// The latest `txn.version` committed by `app_id`, or std::nullopt if none
  /// (PROTOCOL.md "Transaction Identifiers").
  std::optional<int64_t> GetAppTransactionVersion(std::string_view app_id) const;
  /// Live (not removed) domain metadata by domain name.
  const std::map<std::string, DomainMetadata>& domain_metadata() const {
    return domain_metadata_;
  }

  /// Commit timestamp of this version (ms): the in-commit timestamp when that feature is
  /// enabled, otherwise the commit file's modification time.
  int64_t timestamp_ms() const { return timestamp_ms_; }
  /// Total bytes and rows of the live files (rows when every file has stats).
  int64_t total_size_bytes() const;
  std::optional<int64_t> total_records() const;

  /// The physical name (name in data files and partitionValues) of a top-level logical
  /// column; the logical name itself when column mapping is off.
  std::string PhysicalName(const StructField& field) const;
  /// The serialized partition value of `file` for logical column `column`; std::nullopt
  /// when null or absent.
  std::optional<std::string> PartitionValue(const AddFile& file,
                                            std::string_view column) const;
  /// Absolute local path of a file named by a log path (add/remove/cdc `path`):
  /// percent-decoded once, resolved against the table root unless absolute
  /// (file:// URIs accepted). Errors: kUnsupported for non-local schemes (s3://...).
  Result<std::filesystem::path> ResolvePath(std::string_view log_path) const;

 private:
  friend class SnapshotBuilder;
  Snapshot() = default;

  std::filesystem::path table_root_;
  int64_t version_ = -1;
  Protocol protocol_;
  Metadata metadata_;
  StructType schema_;
  ColumnMappingMode column_mapping_mode_ = ColumnMappingMode::kNone;
  std::vector<AddFile> files_;
  std::vector<RemoveFile> tombstones_;
  std::map<std::string, SetTransaction> app_transactions_;
  std::map<std::string, DomainMetadata> domain_metadata_;
  int64_t timestamp_ms_ = 0;
};

/// Reads and parses the commit file of `version` (`_delta_log/<version>.json`).
/// Used by writers to inspect winning commits. Errors: kNotFound (no such commit),
/// kCorruption (naming the file and line).
Result<std::vector<Action>> ReadCommit(const std::filesystem::path& table_root,
                                       int64_t version);

/// The latest commit version in `_delta_log` (by listing, ignoring checkpoints), or
/// std::nullopt when the log has no commits. Errors: kIo.
Result<std::optional<int64_t>> LatestCommitVersion(
    const std::filesystem::path& table_root);

/// `_delta_log/<20-digit version>.json` under `table_root`.
std::filesystem::path CommitFilePath(const std::filesystem::path& table_root,
                                     int64_t version);

}  // namespace tributary::lake::delta

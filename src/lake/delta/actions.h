#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace tributary::lake::delta {

/// Partition values of a file: partition column (physical name when column mapping is on)
/// -> serialized value, std::nullopt for a null partition
/// (PROTOCOL.md "Partition Value Serialization").
using PartitionValues = std::map<std::string, std::optional<std::string>>;

/// Free-form string tags on files and checkpoints.
using Tags = std::map<std::string, std::string>;

/// PROTOCOL.md "Deletion Vector Descriptor Schema". `storage_type` is "u" (relative path
/// from a z85-encoded UUID, optional random prefix), "i" (inline z85 bitmap) or "p"
/// (absolute path URI).
struct DeletionVectorDescriptor {
  std::string storage_type;
  std::string path_or_inline_dv;
  std::optional<int32_t> offset;  ///< byte offset of the DV in its file; absent for "i"
  int32_t size_in_bytes = 0;
  int64_t cardinality = 0;  ///< number of deleted rows

  /// The unique id of the DV: storage type + path (+ "@" + offset when present), used to
  /// key (path, dv) pairs in action reconciliation.
  std::string UniqueId() const;
};

/// PROTOCOL.md "Protocol Evolution". Features lists are present only for reader version 3
/// / writer version 7.
struct Protocol {
  int32_t min_reader_version = 1;
  int32_t min_writer_version = 2;
  std::optional<std::vector<std::string>> reader_features;
  std::optional<std::vector<std::string>> writer_features;

  bool HasReaderFeature(std::string_view name) const;
  bool HasWriterFeature(std::string_view name) const;
};

/// PROTOCOL.md "Change Metadata".
struct Format {
  std::string provider = "parquet";
  std::map<std::string, std::string> options;
};

struct Metadata {
  std::string id;
  std::optional<std::string> name;
  std::optional<std::string> description;
  Format format;
  std::string schema_string;  ///< parse with ParseSchemaString (schema.h)
  std::vector<std::string> partition_columns;
  std::optional<int64_t> created_time;  ///< ms since epoch
  std::map<std::string, std::string> configuration;

  /// The configuration value for `key`, if set.
  std::optional<std::string> Config(std::string_view key) const;
};

/// Whether the boolean table property `key` of `configuration` (Metadata::configuration,
/// or the properties of a table being created) is "true", in any case. Unset: false.
bool ConfigTrue(const std::map<std::string, std::string>& configuration,
                std::string_view key);

/// PROTOCOL.md "Add File and Remove File". `path` is a URI as stored in the log
/// (percent-encoded, relative to the table root unless absolute); `stats` is the raw JSON
/// string ("Per-file Statistics"), empty when absent.
struct AddFile {
  std::string path;
  PartitionValues partition_values;
  int64_t size = 0;
  int64_t modification_time = 0;  ///< ms since epoch
  bool data_change = true;
  std::string stats;
  Tags tags;
  std::optional<DeletionVectorDescriptor> deletion_vector;
  std::optional<int64_t> base_row_id;
  std::optional<int64_t> default_row_commit_version;
  std::optional<std::string> clustering_provider;

  /// Number of records from `stats` (numRecords), if stats are present and parse.
  std::optional<int64_t> NumRecords() const;
};

struct RemoveFile {
  std::string path;
  std::optional<int64_t> deletion_timestamp;  ///< ms since epoch
  bool data_change = true;
  std::optional<bool> extended_file_metadata;
  std::optional<PartitionValues> partition_values;
  std::optional<int64_t> size;
  std::optional<std::string> stats;
  std::optional<Tags> tags;
  std::optional<DeletionVectorDescriptor> deletion_vector;
  std::optional<int64_t> base_row_id;
  std::optional<int64_t> default_row_commit_version;
};

/// PROTOCOL.md "Add CDC File".
struct AddCdcFile {
  std::string path;
  PartitionValues partition_values;
  int64_t size = 0;
  bool data_change = false;
  std::optional<Tags> tags;
};

/// PROTOCOL.md "Transaction Identifiers".
struct SetTransaction {
  std::string app_id;
  int64_t version = 0;
  std::optional<int64_t> last_updated;  ///< ms since epoch
};

/// PROTOCOL.md "Commit Provenance Information". The protocol leaves commitInfo free-form;
/// the commonly used fields are typed, everything else is kept in `extra` (a JSON object)
/// and written back verbatim. operationParameters / operationMetrics values that are not
/// JSON strings are kept as their JSON text.
struct CommitInfo {
  std::optional<int64_t> timestamp;            ///< ms since epoch
  std::optional<int64_t> in_commit_timestamp;  ///< feature inCommitTimestamp, ms
  std::optional<std::string> operation;
  std::map<std::string, std::string> operation_parameters;
  std::map<std::string, std::string> operation_metrics;
  std::optional<std::string> engine_info;
  std::optional<bool> is_blind_append;
  std::optional<int64_t> read_version;
  std::optional<std::string> txn_id;
  nlohmann::json extra = nlohmann::json::object();
};

/// PROTOCOL.md "Domain Metadata".
struct DomainMetadata {
  std::string domain;
  std::string configuration;  ///< opaque string (often JSON)
  bool removed = false;
};

/// PROTOCOL.md "Sidecar File Information". `path` is relative to `_delta_log/_sidecars`
/// (or absolute).
struct Sidecar {
  std::string path;
  int64_t size_in_bytes = 0;
  int64_t modification_time = 0;
  std::optional<Tags> tags;
};

/// PROTOCOL.md "Checkpoint Metadata" (V2 checkpoints).
struct CheckpointMetadata {
  int64_t version = 0;
  std::optional<Tags> tags;
};

/// One action of a commit or checkpoint.
using Action = std::variant<Protocol,
                            Metadata,
                            AddFile,
                            RemoveFile,
                            AddCdcFile,
                            SetTransaction,
                            CommitInfo,
                            DomainMetadata,
                            Sidecar,
                            CheckpointMetadata>;

/// The JSON key naming an action's type: "protocol", "metaData", "add", "remove", "cdc",
/// "txn", "commitInfo", "domainMetadata", "sidecar", "checkpointMetadata".
std::string_view ActionKey(const Action& action);

/// Parses one action from its JSON object ({"add": {...}}). Returns std::nullopt for an
/// action type this reader does not know (the protocol lets readers skip them).
/// Errors: kCorruption naming the action key and the missing/mistyped field.
Result<std::optional<Action>> ActionFromJson(const nlohmann::json& json);

/// Parses one line of a commit file. Blank lines give std::nullopt.
/// Errors: kCorruption if the line is not a JSON object or an action is malformed.
Result<std::optional<Action>> ParseActionLine(std::string_view line);

/// Parses a whole newline-delimited commit file body (PROTOCOL.md "Delta Log Entries").
/// Unknown action types are skipped. Errors: kCorruption naming the 1-based line number.
Result<std::vector<Action>> ParseCommitText(std::string_view text);

/// The JSON object of an action: {"<key>": {...}}, fields in the protocol's spelling,
/// optional fields omitted when absent.
nlohmann::json ActionToJson(const Action& action);

/// One line of a commit file (no trailing newline).
std::string SerializeAction(const Action& action);

/// A whole commit body: one action per line, each line terminated by '\n'.
std::string SerializeCommit(const std::vector<Action>& actions);

/// Deletion vector descriptor <-> JSON (as embedded in add/remove).
Result<DeletionVectorDescriptor> DeletionVectorFromJson(const nlohmann::json& json);
nlohmann::json DeletionVectorToJson(const DeletionVectorDescriptor& dv);

}  // namespace tributary::lake::delta

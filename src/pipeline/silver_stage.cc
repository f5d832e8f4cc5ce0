#include "pipeline/silver_stage.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <set>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "lake/delta/commit.h"
#include "lake/delta/optimize.h"
#include "lake/delta/scan.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/writer.h"
#include "pipeline/database_options.h"
#include "pipeline/internal/delta_fields.h"
#include "pipeline/types.h"
#include "sql/row_batch.h"

namespace tributary::pipeline {

namespace delta = lake::delta;
namespace fs = std::filesystem;
using core::ChangeEvent;
using core::Op;
using sql::QuoteIdentifier;
using sql::QuoteLiteral;

namespace {

constexpr std::string_view kQuarantine = "_quarantine";
constexpr std::string_view kDeadLetter = "_dead_letter";

// Metadata columns appended to every silver table.
constexpr std::string_view kPositionColumn = "_source_position";
constexpr std::string_view kCommitTsColumn = "_source_commit_ts";
constexpr std::string_view kProcessedColumn = "_processed_at";
constexpr std::string_view kBronzeVersionColumn = "_bronze_version";

using internal::Field;

delta::StructType QuarantineSchema() {
  using delta::TypeKind;
  delta::StructType schema;
  schema.fields = {Field("source_table", TypeKind::kString),
                   Field("silver_table", TypeKind::kString),
                   Field("key_json", TypeKind::kString),
                   Field("rule", TypeKind::kString),
                   Field("raw_event", TypeKind::kString),
                   Field("source_position", TypeKind::kString),
                   Field("bronze_version", TypeKind::kLong),
                   Field("quarantined_at", TypeKind::kTimestamp)};
  return schema;
}

delta::StructType DeadLetterSchema() {
  using delta::TypeKind;
  delta::StructType schema;
  schema.fields = {Field("source", TypeKind::kString),
                   Field("source_table", TypeKind::kString),
                   Field("error", TypeKind::kString),
                   Field("key_json", TypeKind::kString),
                   Field("raw_event", TypeKind::kString),
                   Field("source_position", TypeKind::kString),
                   Field("bronze_version", TypeKind::kLong),
                   Field("failed_at", TypeKind::kTimestamp)};
  return schema;
}

std::string KeyJson(const std::vector<std::string>& names, const core::Row& key) {
  nlohmann::json out = nlohmann::json::object();
  for (size_t i = 0; i < names.size() && i < key.size(); ++i) {
    out[names[i]] = ValueToJsonText(key[i]);
  }
  return out.dump();
}

int ColumnIndex(const core::TableSchema& schema, std::string_view name) {
  for (size_t idx = 0; idx < schema.columns.size(); ++idx) {
    if (schema.columns[idx].name == name) {
      return static_cast<int>(idx);
    }
  }
  return -1;
}

// The key values of `row` for `key_names`; nullopt when a key column is missing,
// unavailable or null.
std::optional<core::Row> KeyOf(const core::TableSchema& schema,
                               const core::Row& row,
                               const std::vector<std::string>& key_names) {
  core::Row key;
  for (const auto& name : key_names) {
    int idx = ColumnIndex(schema, name);
    if (idx < 0 || static_cast<size_t>(idx) >= row.size()) {
      return std::nullopt;
    }
    const core::Value& value = row[static_cast<size_t>(idx)];
    if (value.is_null() || value.is_unavailable()) {
      return std::nullopt;
    }
    key.push_back(value);
  }
  return key;
}

// The collapsed state of one key: its last change in the batch.
// Indices of `key_names` in `schema` (-1 when missing).
std::vector<int> KeyIndices(const core::TableSchema& schema,
                            const std::vector<std::string>& key_names) {
  std::vector<int> out;
  out.reserve(key_names.size());
  for (const auto& name : key_names) {
    out.push_back(ColumnIndex(schema, name));
  }
  return out;
}

// Writes an injective text of the key values of `row` into `out` (integers as 8 raw
// bytes, other values as their text; short keys stay within std::string's inline
// buffer). False when a key column is missing, unavailable or null.
bool KeyTextOf(const core::Row& row,
               const std::vector<int>& key_indices,
               std::string& out) {
  out.clear();
  for (int idx : key_indices) {
    if (idx < 0 || static_cast<size_t>(idx) >= row.size()) {
      return false;
    }
    const core::Value& value = row[static_cast<size_t>(idx)];
    if (value.is_null() || value.is_unavailable()) {
      return false;
    }
    switch (value.kind()) {
      case core::ValueKind::kInt8:
      case core::ValueKind::kInt16:
      case core::ValueKind::kInt32:
      case core::ValueKind::kInt64:
      case core::ValueKind::kUInt8:
      case core::ValueKind::kUInt16:
      case core::ValueKind::kUInt32: {
        const int64_t number = *value.ToInt64();
        char bytes[sizeof(number)];
        std::memcpy(bytes, &number, sizeof(number));
        out.push_back('i');
        out.append(bytes, sizeof(bytes));
        break;
      }
      case core::ValueKind::kString: {
        const std::string& text = value.AsString();
        const auto size = static_cast<uint32_t>(text.size());
        char bytes[sizeof(size)];
        std::memcpy(bytes, &size, sizeof(size));
        out.push_back('s');
        out.append(bytes, sizeof(bytes));
        out.append(text);
        break;
      }
      default:
        out.push_back('v');
        out += value.ToString();
        out.push_back('\x1f');
        break;
    }
  }
  return true;
}

// The key values of `row` (KeyTextOf() returned true for it).
core::Row KeyValuesOf(const core::Row& row, const std::vector<int>& key_indices) {
  core::Row out;
  out.reserve(key_indices.size());
  for (int idx : key_indices) {
    out.push_back(row[static_cast<size_t>(idx)]);
  }
  return out;
}

struct Pending {
  bool deleted = false;
  /// The winning change (schema, position, commit time); points into the applied records.
  const ChangeEvent* event = nullptr;
  /// The interned schema equal to event->schema (SilverStage::Impl::Intern).
  const core::TableSchema* schema = nullptr;
  /// The row when values were carried over from an earlier change of the batch
  /// (unchanged TOAST); otherwise event->after is the row.
  std::optional<core::Row> carried;
  /// The key values of a delete (unused for upserts: the row holds them).
  core::Row key;
  /// For a row moved by a primary-key change: its old key, where values unavailable in
  /// the new image (unchanged TOAST) are read from.
  std::optional<core::Row> old_key;

  const core::Row& row() const { return carried ? *carried : *event->after; }
};

// A table's pending changes by key text, iterated in the order their keys first
// appeared: source order, so silver's files hold rows in that order and consecutive rows
// mostly share a transaction (and its position prefix).
class PendingChanges {
 public:
  void reserve(size_t count) {
    entries_.reserve(count);
    index_.reserve(count);
  }
  bool empty() const { return entries_.empty(); }
  void clear() {
    entries_.clear();
    index_.clear();
  }
  /// The change pending for `key`, null when there is none; valid until the next
  /// Assign or Clear.
  Pending* Find(const std::string& key) {
    auto found = index_.find(key);
    return found == index_.end() ? nullptr : &entries_[found->second];
  }
  /// Sets the change pending for `key` (a key seen before keeps its place).
  void Assign(const std::string& key, Pending&& change) {
    auto [found, inserted] = index_.try_emplace(key, entries_.size());
    if (inserted) {
      entries_.push_back(std::move(change));
    } else {
      entries_[found->second] = std::move(change);
    }
  }
  std::vector<Pending>::const_iterator begin() const { return entries_.begin(); }
  std::vector<Pending>::const_iterator end() const { return entries_.end(); }

 private:
  std::vector<Pending> entries_;
  std::unordered_map<std::string, size_t> index_;  // key text -> entries_ index
};

struct QuarantineRow {
  std::string source_table;
  std::string silver_table;
  std::string key_json;
  std::string rule;
  std::string raw_event;
  std::string position;
};

struct DeadLetterRow {
  std::string source;
  std::string source_table;
  std::string error;
  std::optional<std::string> key_json;
  std::string raw_event;
  std::string position;
};

// A snapshot that ended in the version being applied.
struct SnapshotEnd {
  std::string source;
  /// The _source_position prefix of the snapshot's rows.
  std::string position_prefix;
};

// One table's changes of one bronze version, collapsed per key.
struct TableBatch {
  std::vector<std::string> key_names;
  PendingChanges pending;
  bool truncated = false;
  int64_t last_commit_us = 0;
  /// The distinct (interned) schemas of the batch's changes.
  std::vector<const core::TableSchema*> schemas;
};

// What a staged row's table column is filled from. _processed_at and _bronze_version
// are the same for every row of a commit: constants of the query, not staged columns.
enum class Role : uint8_t { kData, kPosition, kCommitTs, kProcessed, kBronzeVersion };

// What WriteBatch derives from a table's Delta schema and key columns, kept between
// commits until either changes (TableState::plan), with the in-memory row batch the rows
// go through (read in place by the stage's BatchScan; emptied after each commit).
struct WritePlan {
  std::vector<std::string> key_names;
  /// Per table field.
  std::vector<Role> roles;
  /// Per table field: its index in key_names, -1 when it is not a key column.
  std::vector<int> key_positions;
  /// Per key column: its field index in the table schema.
  std::vector<size_t> key_fields;
  /// The staged rows: a column per staged field (in field order), then __trib_del,
  /// __trib_unavail (",<field>,<field>,": the fields with unavailable values; null when
  /// none) and __trib_old_<k> (the old key of a moved row).
  std::optional<sql::RowBatch> batch;
  /// The `SELECT` list of the merge query per field except _processed_at and
  /// _bronze_version, for batches without and with unavailable (TOAST) values.
  std::vector<std::string> select_plain;
  std::vector<std::string> select_unavailable;
  /// The merge query's columns (every field, then __trib_del), as Merge checks them.
  std::vector<delta::InputColumn> input_columns;
  /// Table field -> column of an (interned, never freed) event schema, -1 when absent.
  std::unordered_map<const core::TableSchema*, std::vector<int>> column_maps;

  bool staged(size_t f) const {
    return roles[f] != Role::kProcessed && roles[f] != Role::kBronzeVersion;
  }
};

struct TableState {
  std::string name;
  core::TableId source_id;
  fs::path root;
  int64_t position = -1;
  int64_t commits_since_check = 0;
  /// The table's kSourceNameProperty: the capture source (Debezium source.name) whose
  /// changes it holds, kSeveralSources when more than one source wrote it; unset for a
  /// table created before the property existed and not routed a change since (it gets
  /// the property, durably, from the first change routed to it).
  std::optional<std::string> source_name;
  /// The table's Delta schema as of its last commit by this stage (unset: read it).
  std::optional<delta::StructType> schema;
  /// Derived from `schema` and the key columns; reset with `schema`.
  std::unique_ptr<WritePlan> plan;
  /// At least the number of the table's files below CompactionOptions::small_file_bytes
  /// (counted at the last compaction check, plus the files written since); unset: not
  /// known. A compaction check loads the table's snapshot only when it reaches
  /// min_files.
  std::optional<int64_t> small_files_bound;
};

}  // namespace

Result<std::shared_ptr<const delta::Snapshot>> LoadSnapshot(sql::Connection& conn,
                                                            const fs::path& table_root) {
  delta::SnapshotOptions options;
  options.connection = &conn;
  return delta::Snapshot::Load(table_root, options);
}

namespace {

// What a compaction check did.
struct CompactionCheck {
  bool compacted = false;
  /// At least the number of small files the table has now.
  int64_t small_files_bound = 0;
};

// MaybeCompact, also returning a bound of the small files left.
Result<CompactionCheck> CheckCompaction(sql::Connection& conn,
                                        const fs::path& table_root,
                                        const CompactionOptions& options) {
  CompactionCheck check;
  if (options.min_files <= 0) {
    return check;
  }
  TRIB_ASSIGN_OR_RETURN(auto snapshot, LoadSnapshot(conn, table_root));
  int64_t small = 0;
  int64_t medium = 0;  // not small, below the target size: Optimize may take them too
  for (const auto& add : snapshot->files()) {
    if (add.size < options.small_file_bytes) {
      ++small;
    } else if (add.size < options.target_file_bytes) {
      ++medium;
    }
  }
  check.small_files_bound = small;
  if (small < options.min_files) {
    return check;
  }
  delta::OptimizeOptions optimize;
  optimize.target_file_size_bytes = options.target_file_bytes;
  TRIB_ASSIGN_OR_RETURN(auto result, delta::Optimize(conn, table_root, optimize));
  WarnCheckpointProblem(result.checkpoint_problem, table_root.string());
  if (result.version >= 0) {
    spdlog::info("compacted {}: {} files -> {} (version {})", table_root.string(),
                 result.files_removed, result.files_added, result.version);
    check.compacted = true;
    // Of the removed files, all but at most `medium` were small.
    const int64_t small_removed = std::max<int64_t>(0, result.files_removed - medium);
    check.small_files_bound =
        std::max<int64_t>(0, small - small_removed) + result.files_added;
  }
  return check;
}

}  // namespace

Result<bool> MaybeCompact(sql::Connection& conn,
                          const fs::path& table_root,
                          const CompactionOptions& options) {
  TRIB_ASSIGN_OR_RETURN(auto check, CheckCompaction(conn, table_root, options));
  return check.compacted;
}

class SilverStage::Impl {
 public:
  Impl(SilverOptions options, PipelineMetrics* metrics)
      : options_(std::move(options)), metrics_(metrics) {}

  Status Open() {
    TRIB_ASSIGN_OR_RETURN(db_, sql::Database::Open(StageDatabaseOptions("silver")));
    TRIB_ASSIGN_OR_RETURN(conn_, db_->Connect());
    TRIB_ASSIGN_OR_RETURN(batch_scan_, conn_->CreateBatchScan("__trib_silver_batch"));
    for (const auto& table : options_.tables) {
      TRIB_RETURN_IF_ERROR(table.rules.Validate().WithContext(
          fmt::format("validation rules of silver table {}", table.table)));
    }
    std::error_code ec;
    fs::create_directories(options_.silver_root, ec);
    if (ec) {
      return MakeError(ErrorCode::kIo, "cannot create {}: {}",
                       options_.silver_root.string(), ec.message());
    }
    std::vector<fs::path> dirs;
    for (const auto& entry : fs::directory_iterator(options_.silver_root, ec)) {
      if (entry.is_directory() && fs::exists(entry.path() / "_delta_log")) {
        dirs.push_back(entry.path());
      }
    }
    if (ec) {
      return MakeError(ErrorCode::kIo, "cannot list {}: {}",
                       options_.silver_root.string(), ec.message());
    }
    std::sort(dirs.begin(), dirs.end());
    std::optional<int64_t> min_position;
    for (const auto& dir : dirs) {
      std::string name = dir.filename().string();
      auto snapshot = LoadSnapshot(*conn_, dir);
      if (!snapshot.ok()) {
        if (snapshot.status().IsNotFound()) {
          continue;  // created directory without a commit yet
        }
        return std::move(snapshot).status().AddContext(
            fmt::format("opening silver table {}", dir.string()));
      }
      int64_t position = -1;
      auto created = (*snapshot)->metadata().Config(kCreatedAtProperty);
      if (created) {
        position = std::stoll(*created) - 1;
      }
      auto txn = (*snapshot)->GetAppTransactionVersion(kSilverAppId);
      if (txn) {
        position = std::max(position, *txn);
      }
      if (name == kDeadLetter) {
        // Its kSilverAppId txn is the progress marker; dead letters themselves carry
        // kDeadLetterAppId (lakes written before that carried kSilverAppId, and only
        // after their version was fully applied).
        progress_recorded_ = position;
        dead_letter_position_ = position;
        auto written = (*snapshot)->GetAppTransactionVersion(kDeadLetterAppId);
        if (written) {
          dead_letter_position_ = std::max(position, *written);
        }
        continue;
      }
      if (name == kQuarantine) {
        quarantine_position_ = position;
        continue;
      }
      auto source = (*snapshot)->metadata().Config(kSourceTableProperty);
      if (!source) {
        continue;  // not ours
      }
      TableState state;
      state.name = name;
      state.root = dir;
      state.position = position;
      state.source_id = ParseTableId(*source);
      auto source_name = (*snapshot)->metadata().Config(kSourceNameProperty);
      if (source_name) {
        state.source_name = *source_name;
      }
      min_position = min_position ? std::min(*min_position, position) : position;
      by_source_[state.source_id.ToString()] = name;
      tables_[name] = std::move(state);
    }
    position_ = min_position.value_or(-1);
    if (quarantine_position_) {
      position_ = std::min(position_, *quarantine_position_);
    }
    if (progress_recorded_) {
      position_ = std::max(position_, *progress_recorded_);
    }
    if (metrics_ != nullptr) {
      metrics_->silver_bronze_version = position_;
    }
    return OkStatus();
  }

  static core::TableId ParseTableId(const std::string& text) {
    core::TableId id;
    auto dot = text.find('.');
    if (dot == std::string::npos) {
      id.table = text;
    } else {
      id.schema = text.substr(0, dot);
      id.table = text.substr(dot + 1);
    }
    return id;
  }

  int64_t position() const { return position_; }

  Status CatchUp(int64_t bronze_version) {
    for (int64_t version = position_ + 1; version <= bronze_version; ++version) {
      auto rows = ReadBronzeVersion(*conn_, options_.bronze_root, version);
      if (!rows.ok()) {
        return std::move(rows).status().AddContext(
            fmt::format("silver replaying bronze version {}", version));
      }
      TRIB_RETURN_IF_ERROR(Apply(version, rows->records, rows->undecodable));
    }
    return OkStatus();
  }

  Status ApplyCommit(const BronzeCommit& commit) {
    if (commit.version < 0) {
      return OkStatus();
    }
    if (commit.version - 1 > position_) {
      TRIB_RETURN_IF_ERROR(CatchUp(commit.version - 1));
    }
    if (commit.events_dropped) {
      return CatchUp(commit.version);
    }
    return Apply(commit.version, commit.records, {});
  }

  const SilverTableOptions* FindTableOptions(const ChangeEvent& event) const {
    std::string id = event.table.ToString();
    for (const auto& table : options_.tables) {
      if ((table.table == id || table.table == event.table.table) &&
          (table.source.empty() || table.source == event.source.name)) {
        return &table;
      }
    }
    return nullptr;
  }

  // The silver table name of a source table (existing, or a new unique one).
  std::string TargetName(const ChangeEvent& event,
                         const SilverTableOptions* table_options) {
    std::string id = event.table.ToString();
    auto it = by_source_.find(id);
    if (it != by_source_.end()) {
      return it->second;
    }
    std::string name;
    if (table_options != nullptr && !table_options->target.empty()) {
      name = table_options->target;
    } else {
      name = event.table.table;
      bool taken = tables_.find(name) != tables_.end() ||
                   std::any_of(by_source_.begin(), by_source_.end(),
                               [&](const auto& entry) { return entry.second == name; });
      if (taken || name == kQuarantine || name == kDeadLetter) {
        name = event.table.schema.empty()
                   ? event.table.database + "__" + event.table.table
                   : event.table.schema + "__" + event.table.table;
      }
    }
    by_source_[id] = name;  // reserved, so that a second schema's table gets another name
    return name;
  }

  Status CreateSilverTable(const std::string& name,
                           const ChangeEvent& event,
                           int64_t version,
                           const std::vector<std::string>& key_names) {
    TableState state;
    state.name = name;
    state.root = options_.silver_root / name;
    state.source_id = event.table;
    state.position = version - 1;
    delta::CreateTableOptions create;
    for (const auto& column : event.schema->columns) {
      bool is_key =
          std::find(key_names.begin(), key_names.end(), column.name) != key_names.end();
      create.schema.fields.push_back(
          Field(column.name, SilverDeltaType(column.type), !is_key));
    }
    AddMetadataFields(create.schema);
    create.properties["delta.checkpointInterval"] =
        std::to_string(options_.checkpoint_interval);
    create.properties[std::string(kSourceTableProperty)] = event.table.ToString();
    create.properties[std::string(kCreatedAtProperty)] = std::to_string(version);
    if (!event.source.name.empty()) {
      create.properties[std::string(kSourceNameProperty)] = event.source.name;
      state.source_name = event.source.name;
    }
    create.name = name;
    create.description =
        fmt::format("tributary silver: current state of {}", event.table.ToString());
    auto created = delta::CreateTable(state.root, create);
    if (!created.ok() && !created.status().IsAlreadyExists()) {
      return std::move(created).status().AddContext(
          fmt::format("creating silver table {} for {}", name, event.table.ToString()));
    }
    spdlog::info("silver: created table {} for source table {}", name,
                 event.table.ToString());
    by_source_[event.table.ToString()] = name;
    tables_[name] = std::move(state);
    return OkStatus();
  }

  static void AddMetadataFields(delta::StructType& schema) {
    schema.fields.push_back(Field(kPositionColumn, delta::TypeKind::kString));
    schema.fields.push_back(Field(kCommitTsColumn, delta::TypeKind::kTimestamp));
    schema.fields.push_back(Field(kProcessedColumn, delta::TypeKind::kTimestamp));
    schema.fields.push_back(Field(kBronzeVersionColumn, delta::TypeKind::kLong));
  }

  std::vector<std::string> KeyNames(const ChangeEvent& event,
                                    const SilverTableOptions* table_options) const {
    if (table_options != nullptr && !table_options->key.empty()) {
      return table_options->key;
    }
    std::vector<std::string> names;
    if (event.schema) {
      for (size_t idx : event.schema->primary_key) {
        names.push_back(event.schema->columns[idx].name);
      }
    }
    return names;
  }

  Status Apply(int64_t version,
               const std::vector<BronzeRecord>& records,
               const std::vector<BronzeVersionRows::Undecodable>& undecodable) {
    struct Group {
      const SilverTableOptions* options = nullptr;
      std::vector<std::string> key_names;
      std::vector<const BronzeRecord*> records;
      const ChangeEvent* first = nullptr;
    };
    std::map<std::string, Group> groups;
    std::vector<QuarantineRow> quarantine;
    std::vector<DeadLetterRow> dead_letter;
    std::vector<SnapshotEnd> snapshot_ends;
    canonical_.clear();  // keyed by pointers into `records`, alive during this call
    struct Route {
      const core::TableSchema* schema = nullptr;
      core::TableId table;
      std::string source;
      const SilverTableOptions* options = nullptr;
      std::vector<std::string> key_names;
      std::string name;
      Group* group = nullptr;
    } route;
    for (const auto& bad : undecodable) {
      dead_letter.push_back(DeadLetterRow{bad.source, bad.source_table, bad.error,
                                          bad.key_json, bad.value_json, bad.position});
    }
    for (const auto& record : records) {
      const ChangeEvent& event = record.event;
      if (event.snapshot == core::SnapshotMarker::kLast) {
        NoteSnapshotEnd(event, snapshot_ends);
      }
      if (event.op == Op::kMessage || event.table.table.empty()) {
        continue;
      }
      auto dead = [&](std::string error) {
        dead_letter.push_back(
            DeadLetterRow{event.source.name, event.table.ToString(), std::move(error),
                          record.key_json, BronzeValueJson(record),
                          event.position.ToString()});
      };
      if (record.value_json.rfind("{\"event\"", 0) == 0 &&
          record.value_json.find("\"tributary_error\"") != std::string::npos) {
        dead(record.value_json);
        continue;
      }
      if (event.op != Op::kTruncate && !event.schema) {
        dead("event has no table schema");
        continue;
      }
      if (event.op == Op::kTruncate &&
          by_source_.find(event.table.ToString()) == by_source_.end() && !event.schema) {
        continue;  // truncate of a table silver never saw: nothing to empty
      }
      // Consecutive changes of a table share its schema (equal schemas, e.g. one per
      // record when replaying bronze, are interned into one): look its options, key and
      // silver table up once.
      const core::TableSchema* schema = event.schema ? Intern(event.schema) : nullptr;
      if (event.op == Op::kTruncate || route.schema != schema ||
          route.source != event.source.name || route.table != event.table) {
        route = Route{};
        route.options = FindTableOptions(event);
        route.key_names = KeyNames(event, route.options);
        if (event.op != Op::kTruncate) {
          route.schema = schema;
          route.table = event.table;
          route.source = event.source.name;
        }
      }
      const SilverTableOptions* table_options = route.options;
      const std::vector<std::string>& key_names = route.key_names;
      if (event.op != Op::kTruncate && key_names.empty()) {
        dead(fmt::format("table {} has no primary key; configure [[silver.tables]] key",
                         event.table.ToString()));
        continue;
      }
      if (route.name.empty()) {
        route.name = TargetName(event, table_options);
      }
      if (table_options != nullptr) {
        if (auto failed = CheckRules(table_options->rules, event)) {
          core::Row key;
          if (event.after) {
            key = KeyOf(*event.schema, *event.after, key_names).value_or(core::Row{});
          }
          quarantine.push_back(
              QuarantineRow{event.table.ToString(), route.name, KeyJson(key_names, key),
                            *failed, BronzeValueJson(record), event.position.ToString()});
          continue;
        }
      }
      if (route.group == nullptr) {
        route.group = &groups[route.name];
      }
      Group& group = *route.group;
      group.options = table_options;
      if (group.key_names.empty()) {
        group.key_names = key_names;
      }
      if (group.first == nullptr && event.schema) {
        group.first = &event;
      }
      group.records.push_back(&record);
    }
    // 2. Create missing tables before any data commit of this version, and record in
    // each routed table's properties which source writes it (or that several do).
    for (auto& [name, group] : groups) {
      auto it = tables_.find(name);
      if (it == tables_.end() && group.first != nullptr) {
        TRIB_RETURN_IF_ERROR(
            CreateSilverTable(name, *group.first, version, group.key_names));
        it = tables_.find(name);
      }
      if (it != tables_.end()) {
        TRIB_RETURN_IF_ERROR(NoteSources(it->second, group.records)
                                 .WithContext(fmt::format(
                                     "silver table {} at bronze version {}", name, version)));
      }
    }
    // 3. Collapse per table. A table that already has this version is collapsed too when
    // the version's dead letters are not written yet: its rows may produce some.
    const bool dead_letters_due = dead_letter_position_.value_or(-1) < version;
    std::map<std::string, TableBatch> batches;
    for (auto& [name, group] : groups) {
      auto it = tables_.find(name);
      if (it == tables_.end()) {
        continue;
      }
      const bool apply = it->second.position < version;
      if (!apply && !dead_letters_due) {
        continue;
      }
      TableBatch batch = Collapse(group.key_names, group.records, dead_letter);
      if (apply) {
        batch.key_names = group.key_names;
        batches.emplace(name, std::move(batch));
      }
    }
    // 4. Quarantine and dead letters, before the data: a table's commit of this version
    // makes a replay skip it, so whatever it produced for the side tables must already
    // be durable (each side table skips a version it has).
    if (!quarantine.empty() && quarantine_position_.value_or(-1) < version) {
      TRIB_RETURN_IF_ERROR(WriteQuarantine(quarantine, version));
    }
    if (!dead_letter.empty() && dead_letters_due) {
      TRIB_RETURN_IF_ERROR(WriteDeadLetter(dead_letter, version));
    }
    // 5. Per-table commits; at a snapshot's end also in the source's other tables.
    for (auto& [name, batch] : batches) {
      TableState& table = tables_.at(name);
      TRIB_RETURN_IF_ERROR(
          WriteTable(table, batch, version, SnapshotPrefixFor(table, snapshot_ends))
              .WithContext(
                  fmt::format("silver table {} at bronze version {}", name, version)));
    }
    for (auto& [name, table] : tables_) {
      auto prefix = SnapshotPrefixFor(table, snapshot_ends);
      if (!prefix || table.position >= version || batches.count(name) > 0) {
        continue;
      }
      TRIB_RETURN_IF_ERROR(
          RemoveRowsOutsideSnapshot(table, *prefix, version)
              .WithContext(
                  fmt::format("silver table {} at bronze version {}", name, version)));
    }
    position_ = std::max(position_, version);
    if (metrics_ != nullptr) {
      metrics_->silver_bronze_version = position_;
    }
    if (!progress_due_since_ &&
        position_ - progress_recorded_.value_or(-1) >= options_.progress_every_versions) {
      progress_due_since_ = version;
    }
    return MaintainInApply(version);
  }

  // After a commit of `table` for bronze version `version` that added `files_added`
  // files: counts it towards the table's next compaction check.
  void NoteCommit(TableState& table, int64_t version, int64_t files_added) {
    if (table.small_files_bound) {
      *table.small_files_bound += files_added;
    }
    if (++table.commits_since_check >= options_.compaction.check_every_commits) {
      table.commits_since_check = 0;
      compaction_due_.emplace(table.name, version);  // keeps an earlier due version
    }
  }

  // The end of Apply(version): the maintenance that is due (maintain_in_apply), or only
  // what waited max_maintenance_delay_versions (the caller runs the rest when idle).
  Status MaintainInApply(int64_t version) {
    const int64_t overdue = options_.maintain_in_apply
                                ? std::numeric_limits<int64_t>::max()
                                : version - options_.max_maintenance_delay_versions;
    for (auto it = compaction_due_.begin(); it != compaction_due_.end();) {
      if (it->second > overdue) {
        ++it;
        continue;
      }
      const std::string name = it->first;
      it = compaction_due_.erase(it);
      CompactTable(name);
    }
    if (progress_due_since_ && *progress_due_since_ <= overdue) {
      TRIB_RETURN_IF_ERROR(RecordProgress());
    }
    return OkStatus();
  }

  bool maintenance_due() const {
    return !compaction_due_.empty() || progress_due_since_.has_value();
  }

  // One step of the maintenance that is due: the table whose compaction check has waited
  // longest, else the progress commit.
  Result<bool> RunMaintenance() {
    if (!compaction_due_.empty()) {
      auto oldest = std::min_element(
          compaction_due_.begin(), compaction_due_.end(),
          [](const auto& a, const auto& b) { return a.second < b.second; });
      const std::string name = oldest->first;
      compaction_due_.erase(oldest);
      CompactTable(name);
      return true;
    }
    if (progress_due_since_) {
      TRIB_RETURN_IF_ERROR(RecordProgress());
      return true;
    }
    return false;
  }

  // The compaction check of silver table `name`: compacts it when it has
  // CompactionOptions::min_files small files. The snapshot is read only when the
  // table's small-file bound reaches min_files. A failure (e.g. a conflict) is logged:
  // the table is checked again after check_every_commits more commits.
  void CompactTable(const std::string& name) {
    auto found = tables_.find(name);
    const CompactionOptions& options = options_.compaction;
    if (found == tables_.end() || options.min_files <= 0) {
      return;
    }
    TableState& table = found->second;
    if (table.small_files_bound && *table.small_files_bound < options.min_files) {
      return;
    }
    auto checked = CheckCompaction(*conn_, table.root, options);
    if (!checked.ok()) {
      table.small_files_bound.reset();
      spdlog::warn("silver: compacting {} failed: {}", table.name,
                   checked.status().ToString());
      return;
    }
    table.small_files_bound = checked->small_files_bound;
    if (checked->compacted && metrics_ != nullptr) {
      ++metrics_->compactions;
    }
  }

  // The one schema object this stage uses for schemas equal to `schema` (replayed bronze
  // records each carry their own copy): pointer-keyed caches then hit for every record.
  // Pointers of the records being applied are remembered in canonical_ (cleared per
  // Apply, while they are alive); equal contents map to one object kept in interned_.
  const core::TableSchema* Intern(const std::shared_ptr<const core::TableSchema>& schema) {
    auto known = canonical_.find(schema.get());
    if (known != canonical_.end()) {
      return known->second;
    }
    std::string text = schema->id.ToString();
    for (const auto& column : schema->columns) {
      text += '\x1f';
      text += column.name;
      text += '\x1e';
      text += column.type.ToString();
    }
    const core::TableSchema* interned = nullptr;
    auto& candidates = interned_[std::move(text)];
    for (const auto& candidate : candidates) {
      if (*candidate == *schema) {
        interned = candidate.get();
        break;
      }
    }
    if (interned == nullptr) {
      candidates.push_back(schema);
      interned = schema.get();
    }
    canonical_.emplace(schema.get(), interned);
    return interned;
  }

  // A snapshot's last row (SnapshotMarker::kLast): every row of the source's tables that
  // this snapshot did not write is gone from the source. The snapshot's rows share its
  // position's commit LSN (the slot's consistent point), so their _source_position starts
  // with "pg:<consistent point>:".
  void NoteSnapshotEnd(const ChangeEvent& event, std::vector<SnapshotEnd>& ends) {
    const core::PostgresPosition* pg = event.position.postgres();
    if (pg == nullptr) {
      spdlog::warn(
          "silver: end of a snapshot of source {} at {}: rows deleted before it are only "
          "removed for PostgreSQL positions",
          event.source.name, event.position.ToString());
      return;
    }
    SnapshotEnd end;
    end.source = event.source.name;
    end.position_prefix = core::PostgresPositionPrefix(pg->commit_lsn);
    spdlog::info(
        "silver: snapshot of source {} ended at {}; removing rows it did not hold",
        end.source, event.position.ToString());
    ends.push_back(std::move(end));
  }

  // Makes `table`'s kSourceNameProperty say which source writes it, given the changes
  // routed to it: the source when the property is unset (a table created before it
  // existed), kSeveralSources when another source writes it too. A metadata-only
  // commit, made before any data commit relying on it; nothing when it already says so
  // (a replay).
  Status NoteSources(TableState& table, const std::vector<const BronzeRecord*>& records) {
    if (table.source_name == kSeveralSources) {
      return OkStatus();
    }
    std::optional<std::string> source = table.source_name;
    std::set<std::string> sources;
    if (source) {
      sources.insert(*source);
    }
    for (const BronzeRecord* record : records) {
      const std::string& name = record->event.source.name;
      if (!name.empty()) {
        sources.insert(name);
      }
    }
    if (sources.empty() || (sources.size() == 1 && source)) {
      return OkStatus();
    }
    const std::string value =
        sources.size() == 1 ? *sources.begin() : std::string(kSeveralSources);
    if (value == kSeveralSources) {
      spdlog::warn(
          "silver: table {} holds changes of several sources ({}): the end of a snapshot "
          "of one of them will not delete rows from it",
          table.name, fmt::join(sources, ", "));
    } else {
      spdlog::info("silver: table {} lacked property {}: set to source {}", table.name,
                   kSourceNameProperty, value);
    }
    TRIB_ASSIGN_OR_RETURN(auto snapshot, LoadSnapshot(*conn_, table.root));
    delta::Metadata metadata = snapshot->metadata();
    auto& configured = metadata.configuration[std::string(kSourceNameProperty)];
    if (configured != value) {
      configured = value;
      delta::CommitRequest request;
      request.actions.push_back(metadata);
      request.commit_info.operation = "SET TBLPROPERTIES";
      request.read_set.read_version = snapshot->version();
      request.read_set.scope = delta::ReadSet::Scope::kAll;
      TRIB_ASSIGN_OR_RETURN(auto committed, delta::Commit(table.root, request));
      (void)committed;
    }
    table.source_name = value;
    return OkStatus();
  }

  // The _source_position prefix of the rows to keep when a snapshot in `ends` replaces
  // `table`'s rows; nullopt when none does. Tables of several sources, and tables no
  // change reached since the source property existed, are never cleaned (logged once).
  std::optional<std::string> SnapshotPrefixFor(const TableState& table,
                                               const std::vector<SnapshotEnd>& ends) {
    if (ends.empty()) {
      return std::nullopt;
    }
    if (!table.source_name || *table.source_name == kSeveralSources) {
      if (not_cleaned_.insert(table.name).second) {
        spdlog::warn(
            "silver: table {} is not cleaned at the end of a snapshot of source {}: {}",
            table.name, ends.front().source,
            table.source_name ? "several sources write it"
                              : "its source is unknown (no change reached it yet)");
      }
      return std::nullopt;
    }
    for (const auto& end : ends) {
      if (*table.source_name == end.source) {
        return end.position_prefix;
      }
    }
    return std::nullopt;
  }

  // The rows of `table` not written by the snapshot whose positions start with `prefix`.
  static std::string OutsideSnapshotPredicate(std::string_view prefix) {
    return fmt::format("NOT coalesce(starts_with({}, {}), false)",
                       QuoteIdentifier(kPositionColumn), QuoteLiteral(prefix));
  }

  // A snapshot ended in `version` and `table` had no changes in it: deletes the rows the
  // snapshot did not write, in one commit with the version's txn (none when there are
  // none: replaying the version finds the same answer).
  Status RemoveRowsOutsideSnapshot(TableState& table,
                                   const std::string& prefix,
                                   int64_t version) {
    TRIB_ASSIGN_OR_RETURN(auto snapshot, LoadSnapshot(*conn_, table.root));
    TRIB_ASSIGN_OR_RETURN(std::string scan, delta::BuildScanQuery(*snapshot, *conn_));
    const std::string predicate = OutsideSnapshotPredicate(prefix);
    TRIB_ASSIGN_OR_RETURN(
        auto counted,
        conn_->Query(fmt::format("SELECT count(*) FROM ({}) WHERE {}", scan, predicate)));
    const int64_t outside = counted.GetInt64(0, 0);
    if (outside == 0) {
      return OkStatus();
    }
    delta::WriteOptions write;
    write.txn = delta::SetTransaction{std::string(kSilverAppId), version, std::nullopt};
    TRIB_ASSIGN_OR_RETURN(auto written,
                          delta::DeleteWhere(*conn_, table.root, predicate, write));
    spdlog::info("silver: {} rows of {} were not in the snapshot: deleted (version {})",
                 written.rows_deleted, table.name, written.version);
    table.position = version;
    if (metrics_ != nullptr) {
      ++metrics_->silver_commits;
      metrics_->silver_rows_deleted += written.rows_deleted;
      metrics_->silver_last_applied_time_us = NowMicros();
    }
    NoteCommit(table, version, written.files_added);
    return OkStatus();
  }

  // Collapses a table's changes of one version per key in source order; changes that
  // cannot be applied go to `dead_letter`. Depends only on `records`, so a replay
  // computes the same result.
  TableBatch Collapse(const std::vector<std::string>& key_names,
                      const std::vector<const BronzeRecord*>& records,
                      std::vector<DeadLetterRow>& dead_letter) {
    TableBatch batch;
    auto& pending = batch.pending;
    pending.reserve(records.size());
    // Key column indices per interned event schema (one entry unless the schema
    // changed).
    std::unordered_map<const core::TableSchema*, std::vector<int>> key_columns;
    auto key_indices = [&](const core::TableSchema* schema) -> const std::vector<int>& {
      auto found = key_columns.find(schema);
      if (found == key_columns.end()) {
        found = key_columns.emplace(schema, KeyIndices(*schema, key_names)).first;
      }
      return found->second;
    };
    // A primary-key change may arrive as a delete followed by an insert of the new key in
    // the same transaction (Debezium's form): values unavailable in that insert come from
    // the deleted key's row.
    std::optional<core::Row> last_delete_key;
    uint64_t last_delete_commit = 0;
    auto value_of = [](const Pending& p, std::string_view column) -> const core::Value* {
      int idx = ColumnIndex(*p.event->schema, column);
      const core::Row& row = p.row();
      if (idx < 0 || static_cast<size_t>(idx) >= row.size()) {
        return nullptr;
      }
      return &row[static_cast<size_t>(idx)];
    };
    std::string key_text;
    std::string old_text;
    for (const BronzeRecord* record : records) {
      const ChangeEvent& event = record->event;
      auto dead = [&](std::string error) {
        dead_letter.push_back(DeadLetterRow{
            event.source.name, event.table.ToString(), std::move(error), record->key_json,
            BronzeValueJson(*record), event.position.ToString()});
      };
      batch.last_commit_us = std::max(batch.last_commit_us, event.commit_time_us);
      if (event.op == Op::kTruncate) {
        pending.clear();
        batch.truncated = true;
        continue;
      }
      const core::TableSchema* schema = Intern(event.schema);
      if (key_columns.find(schema) == key_columns.end()) {
        batch.schemas.push_back(schema);  // a schema new to this batch
      }
      const std::vector<int>& key_idx = key_indices(schema);
      if (event.op == Op::kDelete) {
        if (!event.before) {
          dead("delete without a before image");
          continue;
        }
        if (!KeyTextOf(*event.before, key_idx, key_text)) {
          dead("delete whose before image lacks the key columns");
          continue;
        }
        Pending p;
        p.deleted = true;
        p.event = &event;
        p.schema = schema;
        p.key = KeyValuesOf(*event.before, key_idx);
        last_delete_key = p.key;
        pending.Assign(key_text, std::move(p));
        last_delete_commit = event.position.postgres() != nullptr
                                 ? event.position.postgres()->commit_lsn
                                 : 0;
        continue;
      }
      std::optional<core::Row> deleted_before;
      if (last_delete_key && event.op == Op::kCreate &&
          event.position.postgres() != nullptr &&
          event.position.postgres()->commit_lsn == last_delete_commit) {
        deleted_before = std::move(last_delete_key);
      }
      last_delete_key.reset();
      if (!event.after) {
        dead("change without an after image");
        continue;
      }
      if (!KeyTextOf(*event.after, key_idx, key_text)) {
        dead("row lacks a value for a key column");
        continue;
      }
      std::optional<Pending> moved_from;
      std::optional<core::Row> moved_key;
      if (event.op == Op::kUpdate && event.before &&
          KeyTextOf(*event.before, key_idx, old_text) && old_text != key_text) {
        moved_key = KeyValuesOf(*event.before, key_idx);
        Pending* old = pending.Find(old_text);
        if (old != nullptr && !old->deleted) {
          moved_from = std::move(*old);
        }
        Pending p;
        p.deleted = true;
        p.event = &event;
        p.schema = schema;
        p.key = *moved_key;
        pending.Assign(old_text, std::move(p));
      }
      const Pending* found = pending.Find(key_text);
      const Pending* previous = nullptr;
      if (moved_from) {
        previous = &*moved_from;
      } else if (found != nullptr && !found->deleted) {
        previous = found;
      }
      Pending p;
      p.event = &event;
      p.schema = schema;
      // Unchanged TOAST: the value from earlier in this batch when there is one.
      // Otherwise resolved in SQL from the current silver row (by the old key for a
      // moved row). The before image is not used: a key-only image holds nulls there.
      const core::Row& after = *event.after;
      if (previous != nullptr) {
        for (size_t idx = 0; idx < after.size() && idx < event.schema->columns.size();
             ++idx) {
          if (after[idx].is_unavailable()) {
            const core::Value* prior =
                value_of(*previous, event.schema->columns[idx].name);
            if (prior != nullptr) {
              if (!p.carried) {
                p.carried = after;
              }
              (*p.carried)[idx] = *prior;
            }
          }
        }
      }
      if (!moved_key && deleted_before) {
        moved_key = std::move(deleted_before);
      }
      if (moved_key && !moved_from) {
        p.old_key = std::move(moved_key);
      } else if (previous != nullptr && previous->old_key) {
        p.old_key = previous->old_key;
      }
      pending.Assign(key_text, std::move(p));
    }
    return batch;
  }

  // Commits a collapsed batch to `table` with txn `version`. With `snapshot_prefix` (a
  // snapshot ended in this version), rows the snapshot did not write are deleted in the
  // same commit.
  Status WriteTable(TableState& table,
                    const TableBatch& batch,
                    int64_t version,
                    const std::optional<std::string>& snapshot_prefix) {
    if (batch.pending.empty() && !batch.truncated) {
      if (snapshot_prefix) {
        return RemoveRowsOutsideSnapshot(table, *snapshot_prefix, version);
      }
      return OkStatus();
    }
    Status written = WriteBatch(table, batch, version, snapshot_prefix);
    if (!written.ok()) {
      SetSchema(table, std::nullopt);  // read the table again before the next attempt
    }
    return written;
  }

  // Sets the cached Delta schema of `table`; the write plan derived from the previous
  // one goes.
  void SetSchema(TableState& table, std::optional<delta::StructType> schema) {
    table.plan.reset();
    table.schema = std::move(schema);
  }

  // The write plan of `table` (whose schema is set) for key columns `key_names`: the
  // cached one, else a new one.
  Result<WritePlan*> PlanFor(TableState& table, const std::vector<std::string>& key_names) {
    if (table.plan && table.plan->key_names == key_names) {
      return table.plan.get();
    }
    SetSchema(table, std::move(table.schema));
    const delta::StructType& schema = *table.schema;
    auto plan = std::make_unique<WritePlan>();
    plan->key_names = key_names;
    plan->roles.reserve(schema.fields.size());
    plan->key_positions.reserve(schema.fields.size());
    for (const auto& field : schema.fields) {
      plan->roles.push_back(field.name == kPositionColumn        ? Role::kPosition
                            : field.name == kCommitTsColumn      ? Role::kCommitTs
                            : field.name == kProcessedColumn     ? Role::kProcessed
                            : field.name == kBronzeVersionColumn ? Role::kBronzeVersion
                                                                 : Role::kData);
      auto key = std::find(key_names.begin(), key_names.end(), field.name);
      plan->key_positions.push_back(
          key == key_names.end() ? -1 : static_cast<int>(key - key_names.begin()));
    }
    for (const auto& key : key_names) {
      const delta::StructField* field = schema.Find(key);
      if (field == nullptr) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "key column '{}' is not in silver table {}", key, table.name);
      }
      plan->key_fields.push_back(static_cast<size_t>(field - schema.fields.data()));
    }
    std::vector<sql::BatchColumn> columns;
    for (size_t f = 0; f < schema.fields.size(); ++f) {
      const auto& field = schema.fields[f];
      const std::string column = QuoteIdentifier(field.name);
      const std::string type = delta::DuckDbTypeOf(field.type);
      plan->input_columns.push_back({field.name, type});
      if (plan->staged(f)) {
        columns.push_back(DeltaBatchColumn(field.name, field.type));
      }
      // Types the batch has no column type for are staged as text and cast here.
      const std::string staged =
          IsNativeBatchColumn(field.type) ? fmt::format("s.{}", column)
                                          : fmt::format("CAST(s.{} AS {})", column, type);
      plan->select_plain.push_back(fmt::format("{} AS {}, ", staged, column));
      plan->select_unavailable.push_back(
          plan->roles[f] == Role::kData
              ? fmt::format(
                    "CASE WHEN s.__trib_unavail LIKE '%,{},%' THEN c.{} ELSE {} END "
                    "AS {}, ",
                    f, column, staged, column)
              : plan->select_plain.back());
    }
    plan->input_columns.push_back({"__trib_del", "BOOLEAN"});
    columns.push_back(sql::BatchColumn{"__trib_del", sql::BatchType::kBoolean});
    columns.push_back(sql::BatchColumn{"__trib_unavail", sql::BatchType::kVarchar});
    for (size_t k = 0; k < plan->key_fields.size(); ++k) {
      columns.push_back(DeltaBatchColumn(fmt::format("__trib_old_{}", k),
                                          schema.fields[plan->key_fields[k]].type));
    }
    plan->batch.emplace(std::move(columns));
    table.plan = std::move(plan);
    return table.plan.get();
  }

  Status WriteBatch(TableState& table,
                    const TableBatch& batch,
                    int64_t version,
                    const std::optional<std::string>& snapshot_prefix) {
    const auto& pending = batch.pending;
    const bool truncated = batch.truncated;
    // The table's snapshot is loaded only when needed; its schema is cached between
    // commits (Merge and Overwrite read the log themselves).
    std::shared_ptr<const delta::Snapshot> snapshot;
    auto load = [&]() -> Status {
      if (!snapshot) {
        TRIB_ASSIGN_OR_RETURN(snapshot, LoadSnapshot(*conn_, table.root));
      }
      return OkStatus();
    };
    if (!table.schema) {
      TRIB_RETURN_IF_ERROR(load());
      SetSchema(table, snapshot->schema());
    }
    // Schema evolution: add source columns the table lacks (nullable). A batch's event
    // schema the write plan has mapped has all its columns in the table already.
    bool missing = false;
    for (const auto& event_schema : batch.schemas) {
      if (table.plan && table.plan->column_maps.count(event_schema) > 0) {
        continue;
      }
      for (const auto& column : event_schema->columns) {
        missing = missing || table.schema->Find(column.name) == nullptr;
      }
    }
    if (missing) {
      snapshot.reset();
      TRIB_RETURN_IF_ERROR(load());
      SetSchema(table, snapshot->schema());
      delta::StructType evolved = *table.schema;
      bool added = false;
      for (const auto& event_schema : batch.schemas) {
        for (const auto& column : event_schema->columns) {
          if (evolved.Find(column.name) == nullptr) {
            // Before the metadata columns would be nicer, but Delta appends new columns.
            evolved.fields.push_back(
                Field(column.name, SilverDeltaType(column.type), true));
            added = true;
          }
        }
      }
      if (added) {
        // Files written before the change lack the new columns; the lake reads them as
        // null (delta scan and every rewrite path), so the schema change is one commit.
        TRIB_RETURN_IF_ERROR(EvolveSchema(*snapshot, evolved));
        snapshot.reset();
        TRIB_RETURN_IF_ERROR(load());
        SetSchema(table, snapshot->schema());
      }
    }
    // From here on the schema stays as it is (a later load() only reads the rows).
    TRIB_ASSIGN_OR_RETURN(WritePlan * plan, PlanFor(table, batch.key_names));
    const delta::StructType& schema = *table.schema;
    const std::vector<std::string>& key_names = plan->key_names;
    sql::RowBatch& rows = *plan->batch;
    // The batch is emptied after the commit, also when it fails; the scan forgets it.
    struct EmptyBatch {
      sql::RowBatch& rows;
      sql::BatchScan& scan;
      ~EmptyBatch() {
        scan.Reset();
        rows.Clear();
      }
    } empty_batch{rows, *batch_scan_};
    const std::vector<sql::BatchColumn>& batch_columns = rows.columns();
    bool any_unavailable = false;
    int64_t upserts = 0;
    int64_t deletes = 0;
    {
      auto column_map =
          [&](const core::TableSchema* event_schema) -> const std::vector<int>& {
        auto found = plan->column_maps.find(event_schema);
        if (found == plan->column_maps.end()) {
          std::vector<int> map;
          map.reserve(schema.fields.size());
          for (const auto& field : schema.fields) {
            map.push_back(ColumnIndex(*event_schema, field.name));
          }
          found = plan->column_maps.emplace(event_schema, std::move(map)).first;
        }
        return found->second;
      };
      std::string unavailable;
      for (const Pending& p : pending) {
        const ChangeEvent& event = *p.event;
        const std::vector<int>& map = column_map(p.schema);
        unavailable.clear();
        size_t c = 0;  // the batch column of field f
        for (size_t f = 0; f < schema.fields.size(); ++f) {
          if (!plan->staged(f)) {
            continue;
          }
          const sql::BatchColumn& column = batch_columns[c++];
          switch (plan->roles[f]) {
            case Role::kProcessed:
            case Role::kBronzeVersion:
              continue;
            case Role::kPosition:
              if (column.type == sql::BatchType::kVarchar) {
                rows.AppendString(positions_.Format(event.position));
              } else {
                rows.AppendNull();
              }
              continue;
            case Role::kCommitTs:
              if (event.commit_time_us == 0) {
                rows.AppendNull();
              } else if (column.type == sql::BatchType::kTimestampTz ||
                         column.type == sql::BatchType::kTimestamp) {
                rows.AppendInt64(event.commit_time_us);
              } else {
                TRIB_RETURN_IF_ERROR(AppendBatchValue(
                    rows, column, core::Value::TimestampTz(event.commit_time_us)));
              }
              continue;
            case Role::kData:
              break;
          }
          if (p.deleted) {
            // Only the key matters for a delete.
            int kidx = plan->key_positions[f];
            if (kidx >= 0 && static_cast<size_t>(kidx) < p.key.size()) {
              TRIB_RETURN_IF_ERROR(
                  AppendBatchValue(rows, column, p.key[static_cast<size_t>(kidx)]));
            } else {
              rows.AppendNull();
            }
            continue;
          }
          const core::Row& row = p.row();
          int idx = map[f];
          if (idx < 0 || static_cast<size_t>(idx) >= row.size()) {
            rows.AppendNull();
            continue;
          }
          const core::Value& value = row[static_cast<size_t>(idx)];
          if (value.is_unavailable()) {
            unavailable += unavailable.empty() ? "," : "";
            unavailable += std::to_string(f) + ",";
            any_unavailable = true;
          }
          auto appended = AppendBatchValue(rows, column, value);
          if (!appended.ok()) {
            return std::move(appended).status().AddContext(fmt::format(
                "column {} ({}) of key {}", schema.fields[f].name,
                schema.fields[f].type.ToString(),
                KeyJson(key_names,
                        KeyOf(*event.schema, row, key_names).value_or(core::Row{}))));
          }
        }
        rows.AppendBool(p.deleted);
        if (unavailable.empty()) {
          rows.AppendNull();
        } else {
          rows.AppendString(unavailable);
        }
        for (size_t k = 0; k < plan->key_fields.size(); ++k) {
          const sql::BatchColumn& column = batch_columns[c + 2 + k];
          if (p.old_key && k < p.old_key->size()) {
            TRIB_RETURN_IF_ERROR(AppendBatchValue(rows, column, (*p.old_key)[k]));
          } else {
            rows.AppendNull();
          }
        }
        rows.EndRow();
        if (p.deleted) {
          ++deletes;
        } else {
          ++upserts;
        }
      }
    }
    batch_scan_->Set(&rows);
    const std::string batch_relation = fmt::format("{}()", batch_scan_->function_name());
    std::string staged = batch_relation;
    // Temp tables of this write, dropped after it.
    struct DropTables {
      sql::Connection& conn;
      std::vector<std::string> names;
      ~DropTables() {
        for (const auto& name : names) {
          (void)conn.Execute(fmt::format("DROP TABLE IF EXISTS {}", QuoteIdentifier(name)));
        }
      }
    } temps{*conn_, {}};
    if (snapshot_prefix && !truncated) {
      // Rows the ended snapshot did not write, and no change of this version touches,
      // are gone from the source: they become deletes of this merge.
      TRIB_RETURN_IF_ERROR(load());
      TRIB_ASSIGN_OR_RETURN(std::string current,
                            delta::BuildScanQuery(*snapshot, *conn_));
      std::string keys;
      std::string match;
      for (size_t k = 0; k < key_names.size(); ++k) {
        const std::string key = QuoteIdentifier(key_names[k]);
        keys += fmt::format("{}{}", k == 0 ? "" : ", ", key);
        match += fmt::format("{}p.{} = g.{}", k == 0 ? "" : " AND ", key, key);
      }
      temps.names.push_back(fmt::format("silver_outside_{}", ++stage_counter_));
      const std::string outside = QuoteIdentifier(temps.names.back());
      TRIB_RETURN_IF_ERROR(conn_->Execute(fmt::format(
          "CREATE TEMP TABLE {} AS SELECT {} FROM ({}) AS g WHERE {} AND NOT EXISTS "
          "(SELECT 1 FROM {} AS p WHERE {})",
          outside, keys, current, OutsideSnapshotPredicate(*snapshot_prefix),
          batch_relation, match)));
      TRIB_ASSIGN_OR_RETURN(auto counted,
                            conn_->Query(fmt::format("SELECT count(*) FROM {}", outside)));
      const int64_t outside_rows = counted.GetInt64(0, 0);
      if (outside_rows > 0) {
        spdlog::info("silver: {} rows of {} were not in the snapshot: deleting them",
                     outside_rows, table.name);
        // The batch's rows, then a delete row (key only) per outside key.
        std::string batch_list;
        std::string outside_list;
        for (size_t c = 0; c < batch_columns.size(); ++c) {
          const std::string name = QuoteIdentifier(batch_columns[c].name);
          batch_list += fmt::format("{}{}", c == 0 ? "" : ", ", name);
          const bool is_key = std::find(key_names.begin(), key_names.end(),
                                        batch_columns[c].name) != key_names.end();
          outside_list += fmt::format(
              "{}{} AS {}", c == 0 ? "" : ", ",
              is_key ? "o." + name
                     : (batch_columns[c].name == "__trib_del" ? std::string("true")
                                                               : std::string("NULL")),
              name);
        }
        staged = fmt::format("(SELECT {} FROM {} UNION ALL SELECT {} FROM {} AS o)",
                             batch_list, batch_relation, outside_list, outside);
      }
      deletes += outside_rows;
    }
    std::string select_list;
    for (size_t f = 0; f < schema.fields.size(); ++f) {
      if (plan->roles[f] == Role::kProcessed) {
        select_list += fmt::format("CAST({} AS TIMESTAMPTZ) AS {}, ",
                                   QuoteLiteral(TimestampTzText(NowMicros())),
                                   QuoteIdentifier(schema.fields[f].name));
      } else if (plan->roles[f] == Role::kBronzeVersion) {
        select_list += fmt::format("CAST({} AS BIGINT) AS {}, ", version,
                                   QuoteIdentifier(schema.fields[f].name));
      } else {
        select_list +=
            any_unavailable ? plan->select_unavailable[f] : plan->select_plain[f];
      }
    }
    std::string from = fmt::format("{} AS s", staged);
    if (any_unavailable && !truncated) {
      TRIB_RETURN_IF_ERROR(load());
      TRIB_ASSIGN_OR_RETURN(std::string scan, delta::BuildScanQuery(*snapshot, *conn_));
      std::string on;
      for (size_t k = 0; k < key_names.size(); ++k) {
        const std::string key = QuoteIdentifier(key_names[k]);
        on += fmt::format("{}c.{} = coalesce(s.__trib_old_{}, s.{})",
                          on.empty() ? "" : " AND ", key, k, key);
      }
      from += fmt::format(" LEFT JOIN ({}) AS c ON {}", scan, on);
    } else if (any_unavailable) {
      // After a truncate there is no previous row: unavailable values become null.
      std::string nulls;
      for (size_t f = 0; f < schema.fields.size(); ++f) {
        nulls += fmt::format("{}CAST(NULL AS {}) AS {}", f == 0 ? "" : ", ",
                             delta::DuckDbTypeOf(schema.fields[f].type),
                             QuoteIdentifier(schema.fields[f].name));
      }
      from += fmt::format(" LEFT JOIN (SELECT {}) AS c ON false", nulls);
    }
    delta::WriteOptions write;
    write.txn = delta::SetTransaction{std::string(kSilverAppId), version, std::nullopt};
    // The batch is read in place: cheap to read again, unlike a join with the table.
    write.repeatable_input = !any_unavailable;
    int64_t files_added = 0;
    if (truncated) {
      std::string query = fmt::format(
          "SELECT {} s.__trib_del FROM {} WHERE NOT s.__trib_del", select_list, from);
      query = fmt::format("SELECT * EXCLUDE (__trib_del) FROM ({})", query);
      write.input_columns.assign(plan->input_columns.begin(),
                                 plan->input_columns.end() - 1);
      TRIB_ASSIGN_OR_RETURN(auto written,
                            delta::Overwrite(*conn_, table.root, query, write));
      WarnCheckpointProblem(written.checkpoint_problem, table.root.string());
      files_added = written.files_added;
      // Every earlier file is gone.
      table.small_files_bound = files_added;
    } else {
      delta::MergeOptions merge;
      merge.key_columns = key_names;
      merge.delete_flag_column = "__trib_del";
      write.input_columns = plan->input_columns;
      merge.write = std::move(write);
      std::string query =
          fmt::format("SELECT {} s.__trib_del FROM {}", select_list, from);
      TRIB_ASSIGN_OR_RETURN(auto written, delta::Merge(*conn_, table.root, query, merge));
      WarnCheckpointProblem(written.checkpoint_problem, table.root.string());
      files_added = written.files_added;
    }
    table.position = version;
    if (metrics_ != nullptr) {
      ++metrics_->silver_commits;
      metrics_->silver_rows_upserted += upserts;
      metrics_->silver_rows_deleted += deletes;
      metrics_->silver_last_commit_time_us = batch.last_commit_us;
      metrics_->silver_last_applied_time_us = NowMicros();
    }
    NoteCommit(table, version, truncated ? 0 : files_added);
    return OkStatus();
  }

  Status EvolveSchema(const delta::Snapshot& snapshot, const delta::StructType& schema) {
    delta::Metadata metadata = snapshot.metadata();
    metadata.schema_string = delta::SerializeSchema(schema);
    delta::CommitRequest request;
    TRIB_ASSIGN_OR_RETURN(auto protocol,
                          delta::MinimalProtocol(schema, metadata.configuration));
    const auto& current = snapshot.protocol();
    if (protocol.min_reader_version > current.min_reader_version ||
        protocol.min_writer_version > current.min_writer_version ||
        (protocol.writer_features && !current.writer_features)) {
      request.actions.push_back(protocol);
    }
    request.actions.push_back(metadata);
    request.commit_info.operation = "ADD COLUMNS";
    request.read_set.read_version = snapshot.version();
    request.read_set.scope = delta::ReadSet::Scope::kAll;
    TRIB_ASSIGN_OR_RETURN(auto committed, delta::Commit(snapshot.table_root(), request));
    spdlog::info("silver: evolved schema of {} at version {}",
                 snapshot.table_root().string(), committed.version);
    return OkStatus();
  }

  Status EnsureTable(const fs::path& root,
                     const delta::StructType& schema,
                     std::string_view description,
                     int64_t created_at) {
    TRIB_ASSIGN_OR_RETURN(auto latest, delta::LatestCommitVersion(root));
    if (latest) {
      return OkStatus();
    }
    delta::CreateTableOptions create;
    create.schema = schema;
    create.properties["delta.checkpointInterval"] =
        std::to_string(options_.checkpoint_interval);
    create.properties[std::string(kCreatedAtProperty)] = std::to_string(created_at);
    create.description = std::string(description);
    auto created = delta::CreateTable(root, create);
    if (!created.ok() && !created.status().IsAlreadyExists()) {
      return std::move(created).status();
    }
    return OkStatus();
  }

  Status WriteQuarantine(const std::vector<QuarantineRow>& rows, int64_t version) {
    const fs::path root = options_.silver_root / std::string(kQuarantine);
    TRIB_RETURN_IF_ERROR(EnsureTable(root, QuarantineSchema(),
                                     "tributary: rows that failed validation", version));
    TRIB_RETURN_IF_ERROR(conn_->Execute(
        "CREATE OR REPLACE TEMP TABLE q_stage (source_table VARCHAR, silver_table "
        "VARCHAR, "
        "key_json VARCHAR, rule VARCHAR, raw_event VARCHAR, source_position VARCHAR, "
        "bronze_version BIGINT, quarantined_at TIMESTAMPTZ)"));
    {
      TRIB_ASSIGN_OR_RETURN(auto appender, conn_->CreateAppender("", "q_stage"));
      const int64_t now_us = NowMicros();
      for (const auto& row : rows) {
        TRIB_RETURN_IF_ERROR(appender->AppendString(row.source_table));
        TRIB_RETURN_IF_ERROR(appender->AppendString(row.silver_table));
        TRIB_RETURN_IF_ERROR(appender->AppendString(row.key_json));
        TRIB_RETURN_IF_ERROR(appender->AppendString(row.rule));
        TRIB_RETURN_IF_ERROR(appender->AppendString(row.raw_event));
        TRIB_RETURN_IF_ERROR(appender->AppendString(row.position));
        TRIB_RETURN_IF_ERROR(appender->AppendInt64(version));
        TRIB_RETURN_IF_ERROR(AppendTimestampMicros(*appender, now_us));
        TRIB_RETURN_IF_ERROR(appender->EndRow());
      }
      TRIB_RETURN_IF_ERROR(appender->Close());
    }
    delta::WriteOptions write;
    write.txn = delta::SetTransaction{std::string(kSilverAppId), version, std::nullopt};
    TRIB_ASSIGN_OR_RETURN(auto written,
                          delta::Append(*conn_, root, "SELECT * FROM q_stage", write));
    (void)written;
    TRIB_RETURN_IF_ERROR(conn_->Execute("DROP TABLE IF EXISTS q_stage"));
    quarantine_position_ = version;
    if (metrics_ != nullptr) {
      metrics_->quarantined_rows += static_cast<int64_t>(rows.size());
    }
    return OkStatus();
  }

  // Appends dead letters with txn {kDeadLetterAppId, version}.
  Status WriteDeadLetter(const std::vector<DeadLetterRow>& rows, int64_t version) {
    const fs::path root = options_.silver_root / std::string(kDeadLetter);
    TRIB_RETURN_IF_ERROR(EnsureTable(root, DeadLetterSchema(),
                                     "tributary: events that could not be applied",
                                     version));
    delta::WriteOptions write;
    write.txn =
        delta::SetTransaction{std::string(kDeadLetterAppId), version, std::nullopt};
    TRIB_RETURN_IF_ERROR(conn_->Execute(
        "CREATE OR REPLACE TEMP TABLE d_stage (source VARCHAR, source_table VARCHAR, "
        "error VARCHAR, key_json VARCHAR, raw_event VARCHAR, source_position VARCHAR, "
        "bronze_version BIGINT, failed_at TIMESTAMPTZ)"));
    {
      TRIB_ASSIGN_OR_RETURN(auto appender, conn_->CreateAppender("", "d_stage"));
      const int64_t now_us = NowMicros();
      for (const auto& row : rows) {
        TRIB_RETURN_IF_ERROR(appender->AppendString(row.source));
        TRIB_RETURN_IF_ERROR(appender->AppendString(row.source_table));
        TRIB_RETURN_IF_ERROR(appender->AppendString(row.error));
        if (row.key_json) {
          TRIB_RETURN_IF_ERROR(appender->AppendString(*row.key_json));
        } else {
          TRIB_RETURN_IF_ERROR(appender->AppendNull());
        }
        TRIB_RETURN_IF_ERROR(appender->AppendString(row.raw_event));
        TRIB_RETURN_IF_ERROR(appender->AppendString(row.position));
        TRIB_RETURN_IF_ERROR(appender->AppendInt64(version));
        TRIB_RETURN_IF_ERROR(AppendTimestampMicros(*appender, now_us));
        TRIB_RETURN_IF_ERROR(appender->EndRow());
      }
      TRIB_RETURN_IF_ERROR(appender->Close());
    }
    TRIB_ASSIGN_OR_RETURN(auto written,
                          delta::Append(*conn_, root, "SELECT * FROM d_stage", write));
    (void)written;
    TRIB_RETURN_IF_ERROR(conn_->Execute("DROP TABLE IF EXISTS d_stage"));
    if (metrics_ != nullptr) {
      metrics_->dead_letter_rows += static_cast<int64_t>(rows.size());
    }
    for (const auto& row : rows) {
      spdlog::warn("silver: dead letter for {} at {}: {}", row.source_table, row.position,
                   row.error);
    }
    dead_letter_position_ = version;
    return OkStatus();
  }

  // The progress marker: a commit on silver/_dead_letter with just the txn
  // {kSilverAppId, position_}, saying every version up to it is fully applied.
  Status RecordProgress() {
    progress_due_since_.reset();
    if (position_ < 0 || progress_recorded_.value_or(-1) >= position_) {
      return OkStatus();
    }
    const int64_t version = position_;
    const fs::path root = options_.silver_root / std::string(kDeadLetter);
    TRIB_RETURN_IF_ERROR(EnsureTable(root, DeadLetterSchema(),
                                     "tributary: events that could not be applied",
                                     version));
    TRIB_ASSIGN_OR_RETURN(auto snapshot, LoadSnapshot(*conn_, root));
    delta::CommitRequest request;
    request.actions.push_back(
        delta::SetTransaction{std::string(kSilverAppId), version, delta::NowMillis()});
    request.commit_info.operation = "SET TRANSACTION";
    request.read_set.read_version = snapshot->version();
    TRIB_ASSIGN_OR_RETURN(auto committed, delta::Commit(root, request));
    (void)committed;
    progress_recorded_ = version;
    dead_letter_position_ = std::max(dead_letter_position_.value_or(-1), version);
    return OkStatus();
  }

  std::map<std::string, core::TableId> tables() const {
    std::map<std::string, core::TableId> out;
    for (const auto& [name, state] : tables_) {
      out[name] = state.source_id;
    }
    return out;
  }

 private:
  SilverOptions options_;
  PipelineMetrics* metrics_;
  std::unique_ptr<sql::Database> db_;
  std::unique_ptr<sql::Connection> conn_;
  // Reads the write plan's row batch of the commit being written.
  std::unique_ptr<sql::BatchScan> batch_scan_;
  // _source_position texts of the rows being staged.
  PositionFormatter positions_;
  std::map<std::string, TableState> tables_;
  std::map<std::string, std::string> by_source_;  // TableId::ToString() -> silver name
  std::set<std::string> not_cleaned_;  // tables SnapshotPrefixFor logged as skipped
  // Intern(): schema content -> the schemas of that content (equal ones share one).
  std::unordered_map<std::string, std::vector<std::shared_ptr<const core::TableSchema>>>
      interned_;
  // Intern() within one Apply: a record's schema pointer -> its interned schema.
  std::unordered_map<const core::TableSchema*, const core::TableSchema*> canonical_;
  std::optional<int64_t> quarantine_position_;
  std::optional<int64_t> dead_letter_position_;
  std::optional<int64_t> progress_recorded_;
  // Set when a progress commit fell due: the version of it.
  std::optional<int64_t> progress_due_since_;
  // Silver tables whose compaction check is due -> the bronze version it fell due at.
  std::map<std::string, int64_t> compaction_due_;
  int64_t position_ = -1;
  int64_t stage_counter_ = 0;
};

SilverStage::SilverStage(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SilverStage::~SilverStage() = default;

Result<std::unique_ptr<SilverStage>> SilverStage::Open(SilverOptions options,
                                                       PipelineMetrics* metrics) {
  auto impl = std::make_unique<Impl>(std::move(options), metrics);
  TRIB_RETURN_IF_ERROR(impl->Open());
  return std::unique_ptr<SilverStage>(new SilverStage(std::move(impl)));
}

int64_t SilverStage::position() const {
  return impl_->position();
}
Status SilverStage::CatchUp(int64_t bronze_version) {
  return impl_->CatchUp(bronze_version);
}
Status SilverStage::Apply(
    int64_t version,
    const std::vector<BronzeRecord>& records,
    const std::vector<BronzeVersionRows::Undecodable>& undecodable) {
  return impl_->Apply(version, records, undecodable);
}
Status SilverStage::ApplyCommit(const BronzeCommit& commit) {
  return impl_->ApplyCommit(commit);
}
Status SilverStage::RecordProgress() {
  return impl_->RecordProgress();
}
Result<bool> SilverStage::RunMaintenance() {
  return impl_->RunMaintenance();
}
bool SilverStage::maintenance_due() const {
  return impl_->maintenance_due();
}
std::map<std::string, core::TableId> SilverStage::tables() const {
  return impl_->tables();
}

}  // namespace tributary::pipeline

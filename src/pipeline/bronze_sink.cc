#include "pipeline/bronze_sink.h"

#include <algorithm>
#include <compare>
#include <functional>
#include <iterator>
#include <limits>
#include <mutex>
#include <set>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/check.h"
#include "core/debezium_json.h"
#include "core/value.h"
#include "lake/delta/commit.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/writer.h"
#include "pipeline/bronze_schemas.h"
#include "pipeline/database_options.h"
#include "pipeline/internal/delta_fields.h"
#include "pipeline/types.h"
#include "sql/row_batch.h"

namespace tributary::pipeline {

namespace delta = lake::delta;
namespace fs = std::filesystem;
using core::ChangeEvent;
using core::SourcePosition;
using sql::QuoteIdentifier;
using sql::QuoteLiteral;

namespace {

using internal::Field;

constexpr int64_t kMaxResumeScan = 100000;

// The table function reading the staged rows in the stage database.
constexpr std::string_view kScanFunction = "bronze_rows";

// The partition columns' places in BronzeSchema() (and so in the staged rows).
constexpr size_t kSourceTableColumn = 1;
constexpr size_t kIngestDateColumn = 2;

// The staged row columns: BronzeSchema() in order, typed as the table's columns
// (DeltaBatchColumn), so the append needs no casts.
std::vector<sql::BatchColumn> BronzeRowColumns() {
  std::vector<sql::BatchColumn> columns;
  for (const auto& field : BronzeSchema().fields) {
    TRIB_CHECK(IsNativeBatchColumn(field.type), "bronze column '{}' has no staged type",
               field.name);
    columns.push_back(DeltaBatchColumn(field.name, field.type));
  }
  return columns;
}

std::string PercentDecode(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size()) {
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') {
          return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
          return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
          return c - 'A' + 10;
        }
        return -1;
      };
      int hi = hex(path[i + 1]);
      int lo = hex(path[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(path[i]);
  }
  return out;
}

// Whether a replayed event at `event` is already held by bronze, which holds everything
// up to `durable` (ADR 0003: drop events at or before the committed position).
bool AlreadyDurable(const SourcePosition& event, const SourcePosition& durable) {
  const auto* e = event.postgres();
  const auto* d = durable.postgres();
  if (e != nullptr && d != nullptr) {
    bool durable_partial_snapshot = d->event_lsn == 0 && d->txid == 0;
    if (durable_partial_snapshot && e->commit_lsn == d->commit_lsn) {
      return e->event_index <= d->event_index;
    }
    // Every event of a transaction shares its commit LSN; the durable position is the
    // resume point of a whole transaction.
    return e->commit_lsn <= d->commit_lsn;
  }
  auto order = event <=> durable;
  return order == std::partial_ordering::less ||
         order == std::partial_ordering::equivalent;
}

}  // namespace

delta::StructType BronzeSchema() {
  using delta::TypeKind;
  delta::StructType schema;
  schema.fields = {
      Field("source", TypeKind::kString, false),
      Field("source_table", TypeKind::kString),
      Field("ingest_date", TypeKind::kDate),
      Field("topic", TypeKind::kString),
      Field("op", TypeKind::kString, false),
      Field("key_json", TypeKind::kString),
      Field("value_json", TypeKind::kString),
      Field("position", TypeKind::kString, false),
      Field("position_lsn", TypeKind::kLong),
      Field("event_index", TypeKind::kLong),
      Field("commit_seq", TypeKind::kLong),
      Field("txid", TypeKind::kString),
      Field("source_commit_ts", TypeKind::kTimestamp),
      Field("ingested_at", TypeKind::kTimestamp),
      // ADR 0005; last, so that tables created before it evolve to the same order.
      Field("key_schema_id", TypeKind::kString),
      Field("value_schema_id", TypeKind::kString),
  };
  return schema;
}

std::string BronzeAppId(std::string_view source) {
  return fmt::format("bronze:{}", source);
}

std::string BronzeResumeParameter(std::string_view source) {
  return fmt::format("tributary.resume.{}", source);
}

namespace {

// The value_json of an event that could not be encoded: the error and the event as text
// (silver's dead-letter table takes rows starting {"event" that hold "tributary_error").
std::string UnencodableValueJson(const Error& error, const ChangeEvent& event) {
  nlohmann::json text = {{"tributary_error", error.ToString()}, {"event", event.ToString()}};
  return text.dump();
}

}  // namespace

Result<int64_t> PositionVersion(const SourcePosition& position) {
  if (const auto* pg = position.postgres()) {
    return static_cast<int64_t>(pg->commit_lsn);
  }
  return MakeError(ErrorCode::kUnsupported,
                   "bronze txn versions for position {} are not supported yet (ADR 0003: "
                   "PostgreSQL commit LSNs only)",
                   position.ToString());
}

class BronzeSink::Impl {
 public:
  Impl(BronzeOptions options, PipelineMetrics* metrics)
      : options_(std::move(options)), metrics_(metrics) {}

  Status Open() {
    TRIB_ASSIGN_OR_RETURN(auto latest, delta::LatestCommitVersion(options_.table_root));
    if (!latest) {
      delta::CreateTableOptions create;
      create.schema = BronzeSchema();
      create.partition_columns = {"source_table", "ingest_date"};
      create.properties["delta.checkpointInterval"] =
          std::to_string(options_.checkpoint_interval);
      create.properties["delta.appendOnly"] = "true";
      create.name = "all_events";
      create.description = "tributary bronze: every change event as received";
      auto created = delta::CreateTable(options_.table_root, create);
      if (!created.ok() && !created.status().IsAlreadyExists()) {
        return std::move(created).status().AddContext(
            fmt::format("creating bronze table {}", options_.table_root.string()));
      }
    }
    TRIB_RETURN_IF_ERROR(EvolveSchemaIfNeeded());
    TRIB_RETURN_IF_ERROR(ReadDurablePosition());
    TRIB_ASSIGN_OR_RETURN(db_, sql::Database::Open(StageDatabaseOptions("bronze")));
    TRIB_ASSIGN_OR_RETURN(conn_, db_->Connect());
    TRIB_ASSIGN_OR_RETURN(registry_,
                          BronzeSchemaRegistry::Open(
                              *conn_, BronzeSchemaRegistryRoot(options_.table_root)));
    TRIB_ASSIGN_OR_RETURN(scan_, conn_->CreateBatchScan(kScanFunction));
    TRIB_CHECK(rows_.columns()[kSourceTableColumn].name == "source_table" &&
                   rows_.columns()[kIngestDateColumn].name == "ingest_date",
               "bronze partition columns moved in BronzeSchema()");
    for (const auto& column : rows_.columns()) {
      input_columns_.push_back(delta::InputColumn{column.name, sql::BatchTypeName(column)});
    }
    return OkStatus();
  }

  // A table created before ADR 0005 lacks the schema id columns: add them (nullable, at
  // the end) in a metadata-only commit. Its old rows keep their inline schemas.
  Status EvolveSchemaIfNeeded() {
    TRIB_ASSIGN_OR_RETURN(auto snapshot, delta::Snapshot::LoadLatest(options_.table_root));
    const delta::StructType& current = snapshot->schema();
    delta::StructType evolved = current;
    for (const auto& field : BronzeSchema().fields) {
      bool present = std::any_of(current.fields.begin(), current.fields.end(),
                                 [&](const delta::StructField& have) {
                                   return have.name == field.name;
                                 });
      if (!present) {
        delta::StructField added = field;
        added.nullable = true;
        evolved.fields.push_back(std::move(added));
      }
    }
    if (evolved.fields.size() == current.fields.size()) {
      return OkStatus();
    }
    delta::Metadata metadata = snapshot->metadata();
    metadata.schema_string = delta::SerializeSchema(evolved);
    delta::CommitRequest request;
    request.actions.push_back(metadata);
    request.commit_info.operation = "ADD COLUMNS";
    request.read_set.read_version = snapshot->version();
    request.read_set.scope = delta::ReadSet::Scope::kAll;
    auto committed = delta::Commit(options_.table_root, request);
    if (!committed.ok()) {
      return std::move(committed).status().AddContext(fmt::format(
          "adding the schema id columns (ADR 0005) to bronze table {}",
          options_.table_root.string()));
    }
    spdlog::info("bronze: added key_schema_id, value_schema_id to {} at version {}",
                 options_.table_root.string(), committed->version);
    return OkStatus();
  }

  Status ReadDurablePosition() {
    TRIB_ASSIGN_OR_RETURN(auto latest, delta::LatestCommitVersion(options_.table_root));
    if (!latest) {
      return OkStatus();
    }
    TRIB_ASSIGN_OR_RETURN(auto txn,
                          delta::ReadAppTransactionVersion(options_.table_root,
                                                           BronzeAppId(options_.source)));
    if (!txn) {
      return OkStatus();
    }
    const std::string parameter = BronzeResumeParameter(options_.source);
    for (int64_t version = *latest; version >= 0 && *latest - version < kMaxResumeScan;
         --version) {
      auto actions = delta::ReadCommit(options_.table_root, version);
      if (!actions.ok()) {
        if (actions.status().IsNotFound()) {
          break;  // cleaned-up log: fall back to the txn version below
        }
        return std::move(actions).status();
      }
      for (const auto& action : *actions) {
        const auto* info = std::get_if<delta::CommitInfo>(&action);
        if (info == nullptr) {
          continue;
        }
        auto it = info->operation_parameters.find(parameter);
        if (it == info->operation_parameters.end()) {
          continue;
        }
        auto position = SourcePosition::Parse(it->second);
        if (!position.ok()) {
          return std::move(position).status().AddContext(
              fmt::format("bronze table {} version {}: commitInfo {}",
                          options_.table_root.string(), version, parameter));
        }
        std::lock_guard<std::mutex> lock(durable_mutex_);
        durable_ = *position;
        spdlog::info("bronze: source {} resumes after {} (bronze version {})",
                     options_.source, durable_->ToString(), version);
        return OkStatus();
      }
    }
    // Only the txn version is known: a whole-transaction PostgreSQL position at that LSN.
    uint64_t lsn = static_cast<uint64_t>(*txn);
    std::lock_guard<std::mutex> lock(durable_mutex_);
    durable_ = core::PostgresPosition{lsn, lsn, 0, 0};
    return OkStatus();
  }

  // The schema ids of one (table schema version, source, connector, op class): what
  // core's encoder keys its rendered schemas by. Entries hold the TableSchema alive, so a
  // pointer match means the same version.
  struct SchemaIds {
    std::shared_ptr<const core::TableSchema> schema;
    std::string source_name;
    core::TableId table;
    core::Connector connector = core::Connector::kPostgres;
    std::string version;
    bool with_origin = false;
    bool message = false;
    std::optional<std::string> value_id;
    std::optional<std::string> key_id;
  };

  // The ids of `event`'s value and key schemas; a new schema goes to pending_schemas_
  // (registered before the commit that first holds it). A schema that cannot be rendered
  // gets no id (its row cannot be encoded either and is kept as an error record).
  const SchemaIds& IdsFor(const ChangeEvent& event) {
    bool with_origin =
        event.source.origin.has_value() || event.source.origin_lsn.has_value();
    bool message = event.op == core::Op::kMessage;
    auto matches = [&](const SchemaIds& ids) {
      return ids.schema.get() == event.schema.get() &&
             ids.connector == event.source.connector && ids.with_origin == with_origin &&
             ids.message == message && ids.source_name == event.source.name &&
             ids.table == event.table && ids.version == event.source.version;
    };
    if (last_ids_ != nullptr && matches(*last_ids_)) {
      return *last_ids_;
    }
    for (auto& ids : schema_ids_) {
      if (matches(*ids)) {
        last_ids_ = ids.get();
        return *ids;
      }
    }
    if (schema_ids_.size() >= kMaxSchemaIds) {
      schema_ids_.clear();
    }
    auto ids = std::make_unique<SchemaIds>();
    ids->schema = event.schema;
    ids->source_name = event.source.name;
    ids->table = event.table;
    ids->connector = event.source.connector;
    ids->version = event.source.version;
    ids->with_origin = with_origin;
    ids->message = message;
    const std::string table_text = event.table.table.empty() ? "" : event.table.ToString();
    if (auto value = core::DebeziumValueSchema(event); value.ok()) {
      ids->value_id = NoteSchema(table_text, "value", std::move(*value));
    }
    if (auto key = core::DebeziumKeySchema(event); key.ok() && key->has_value()) {
      ids->key_id = NoteSchema(table_text, "key", std::move(**key));
    }
    last_ids_ = ids.get();
    schema_ids_.push_back(std::move(ids));
    return *last_ids_;
  }

  std::string NoteSchema(const std::string& table_text, std::string kind, std::string json) {
    std::string id = BronzeSchemaId(json);
    if (!registry_->Contains(id) && pending_ids_.insert(id).second) {
      pending_schemas_.push_back(BronzeSchemaEntry{id, options_.source, table_text,
                                                   std::move(kind), std::move(json)});
    }
    return id;
  }

  // The topic and table text of `event`'s table, formatted once per table.
  const std::pair<std::string, std::string>& TableTexts(const ChangeEvent& event) {
    if (!table_texts_valid_ || texts_source_ != event.source.name ||
        texts_connector_ != event.source.connector || !(texts_table_ == event.table)) {
      texts_source_ = event.source.name;
      texts_connector_ = event.source.connector;
      texts_table_ = event.table;
      table_texts_.first = event.Topic();
      table_texts_.second = event.table.table.empty() ? "" : event.table.ToString();
      table_texts_valid_ = true;
    }
    return table_texts_;
  }

  // Stages `events`; moves them into the kept records when `movable`.
  template <typename Events>
  Status StageEvents(Events& events, bool movable) {
    if (events.empty()) {
      return OkStatus();
    }
    std::optional<SourcePosition> durable = DurablePosition();
    const int64_t now_us = options_.clock ? options_.clock() : NowMicros();
    const int32_t today = static_cast<int32_t>(now_us / core::kMicrosPerDay);
    core::DebeziumEncodeOptions encode;
    encode.schemas_enable = false;
    for (auto& event : events) {
      if (durable && !event.position.empty() &&
          AlreadyDurable(event.position, *durable)) {
        if (metrics_ != nullptr) {
          ++metrics_->bronze_replayed_events_dropped;
        }
        continue;
      }
      const bool keep = !open_dropped_;
      // Encoded into reused buffers (no growth per row); the kept record copies them once.
      const SchemaIds* ids = nullptr;
      std::optional<std::string_view> value_id;
      value_text_.clear();
      bool value_encoded = false;
      if (Status value = core::AppendDebeziumValue(event, encode, value_text_); value.ok()) {
        value_encoded = true;
        ids = &IdsFor(event);
        if (ids->value_id) {
          value_id = *ids->value_id;
        }
      } else {
        // Kept as received; silver sends it to the dead-letter table.
        value_text_ = UnencodableValueJson(value.status(), event);
      }
      std::optional<std::string_view> key_id;
      key_text_.clear();
      bool has_key = false;
      {
        auto key = core::AppendDebeziumKey(event, encode, key_text_);
        if (key.ok() && *key) {
          has_key = true;
          if (ids == nullptr) {
            ids = &IdsFor(event);
          }
          if (ids->key_id) {
            key_id = *ids->key_id;
          }
        }
      }
      const auto* pg = event.position.postgres();
      const auto& texts = TableTexts(event);
      // Columns in BronzeSchema() order (BronzeRowColumns).
      rows_.AppendString(options_.source);
      if (event.table.table.empty()) {
        rows_.AppendNull();
      } else {
        rows_.AppendString(texts.second);
      }
      rows_.AppendInt64(today);
      rows_.AppendString(texts.first);
      const char op_code = core::OpCode(event.op);
      rows_.AppendString(std::string_view(&op_code, 1));
      if (has_key) {
        rows_.AppendString(key_text_);
      } else {
        rows_.AppendNull();
      }
      rows_.AppendString(value_text_);
      rows_.AppendString(position_formatter_.Format(event.position));
      rows_.AppendInt64(pg != nullptr ? static_cast<int64_t>(pg->commit_lsn) : 0);
      rows_.AppendInt64(pg != nullptr ? static_cast<int64_t>(pg->event_index) : 0);
      rows_.AppendInt64(next_seq_++);
      if (event.transaction) {
        rows_.AppendString(event.transaction->id);
      } else if (pg != nullptr && pg->txid != 0) {
        if (pg->txid != txid_value_) {
          txid_value_ = pg->txid;
          txid_text_ = std::to_string(pg->txid);
        }
        rows_.AppendString(txid_text_);
      } else {
        rows_.AppendNull();
      }
      if (event.commit_time_us != 0) {
        rows_.AppendInt64(event.commit_time_us);
      } else {
        rows_.AppendNull();
      }
      rows_.AppendInt64(now_us);
      if (key_id) {
        rows_.AppendString(*key_id);
      } else {
        rows_.AppendNull();
      }
      if (value_id) {
        rows_.AppendString(*value_id);
      } else {
        rows_.AppendNull();
      }
      rows_.EndRow();
      open_bytes_ += static_cast<int64_t>(value_text_.size() + key_text_.size());
      ++open_rows_;
      if (keep) {
        if (static_cast<int64_t>(records_.size()) >= options_.max_events_kept) {
          open_dropped_ = true;
          records_.resize(complete_records_);
        } else {
          BronzeRecord record;
          if (!value_encoded) {
            record.value_json = value_text_;  // else BronzeValueJson encodes it again
          }
          if (has_key) {
            record.key_json = key_text_;
          }
          if (movable) {
            record.event = std::move(event);
          } else {
            record.event = event;
          }
          records_.push_back(std::move(record));
        }
      }
      if (!first_event_time_) {
        first_event_time_ = std::chrono::steady_clock::now();
      }
      if (metrics_ != nullptr) {
        ++metrics_->bronze_events;
      }
    }
    return OkStatus();
  }

  void EndTransaction(const SourcePosition& resume) {
    complete_rows_ += open_rows_;
    complete_bytes_ += open_bytes_;
    if (open_dropped_ || complete_dropped_) {
      complete_dropped_ = true;
      records_.clear();
      complete_records_ = 0;
    } else {
      complete_records_ = records_.size();
    }
    open_dropped_ = false;
    open_rows_ = 0;
    open_bytes_ = 0;
    if (!resume.empty()) {
      complete_resume_ = resume;
    }
  }

  // `movable`: the events may be moved out of `batch` (the caller's rvalue).
  template <typename Batch>
  Status WriteBatch(Batch& batch, bool movable) {
    SourcePosition resume;
    if (batch.ends_transaction) {
      resume = batch.resume_position;
      if (resume.empty() && !batch.events.empty()) {
        resume = batch.events.back().position;
      }
    }
    TRIB_RETURN_IF_ERROR(StageEvents(batch.events, movable));
    if (batch.ends_transaction) {
      if (!resume.empty()) {
        auto durable = DurablePosition();
        if (durable && AlreadyDurable(resume, *durable) && open_rows_ == 0) {
          return OkStatus();  // a replayed transaction, or an empty one already covered
        }
      }
      EndTransaction(resume);
    }
    return OkStatus();
  }

  void set_max_interval(std::chrono::milliseconds interval) {
    options_.max_interval = interval;
  }

  bool CommitDue() const {
    if (complete_rows_ == 0 && complete_resume_.empty()) {
      return false;
    }
    if (complete_rows_ >= options_.max_rows || complete_bytes_ >= options_.max_bytes) {
      return true;
    }
    if (!first_event_time_) {
      return !complete_resume_.empty();
    }
    return std::chrono::steady_clock::now() - *first_event_time_ >= options_.max_interval;
  }

  Result<std::optional<BronzeCommit>> Commit() {
    if (complete_rows_ == 0) {
      if (!complete_resume_.empty()) {
        // Transactions without events for us: nothing to write; the position is durable
        // as far as bronze is concerned once everything before it is.
        BronzeCommit commit;
        commit.resume_position = complete_resume_;
        complete_resume_ = SourcePosition();
        if (open_rows_ == 0) {
          first_event_time_.reset();
        }
        return std::optional<BronzeCommit>(std::move(commit));
      }
      return std::optional<BronzeCommit>();
    }
    TRIB_ASSIGN_OR_RETURN(int64_t txn_version, PositionVersion(complete_resume_));
    if (!pending_schemas_.empty()) {
      // ADR 0005: the registry holds every schema before a bronze row references it.
      TRIB_RETURN_IF_ERROR(registry_->Register(*conn_, pending_schemas_));
      pending_schemas_.clear();
      pending_ids_.clear();
    }
    delta::WriteOptions write;
    write.txn =
        delta::SetTransaction{BronzeAppId(options_.source), txn_version, std::nullopt};
    write.operation_parameters[BronzeResumeParameter(options_.source)] =
        complete_resume_.ToString();
    // The scan reads the whole transactions staged, rows [0, complete_rows_) of `rows_`,
    // which nothing changes while the append runs; the typed columns are the table's
    // (no DESCRIBE). Bronze knows each row's partition, so the append gets its input
    // split by partition (no DISTINCT over partition values, no filter per partition):
    // the scan reads one partition's rows per data file. Source order without a sort:
    // the scan returns the rows in batch (or selection) order and the stage database
    // runs one thread with preserve_insertion_order, so each file holds its rows in
    // source order (BronzeSinkTest checks the files).
    write.repeatable_input = true;
    write.input_columns = input_columns_;
    SplitByPartition(&write);
    const std::string query = fmt::format("SELECT * FROM {}()", QuoteIdentifier(kScanFunction));
    auto written = delta::Append(*conn_, options_.table_root, query, write);
    scan_->Reset();
    if (!written.ok()) {
      return std::move(written).status().AddContext(
          fmt::format("appending {} events of source {} to {}", complete_rows_,
                      options_.source, options_.table_root.string()));
    }
    WarnCheckpointProblem(written->checkpoint_problem, options_.table_root.string());
    // The rows of a transaction still open move to the front and stay staged.
    rows_.EraseFront(static_cast<size_t>(complete_rows_));
    BronzeCommit commit;
    commit.version = written->version;
    commit.event_count = complete_rows_;
    commit.records = TakeCompleteRecords();
    commit.events_dropped = complete_dropped_;
    commit.resume_position = complete_resume_;
    {
      std::lock_guard<std::mutex> lock(durable_mutex_);
      durable_ = complete_resume_;
    }
    if (metrics_ != nullptr) {
      ++metrics_->bronze_commits;
      metrics_->bronze_version = written->version;
    }
    complete_dropped_ = false;
    complete_rows_ = 0;
    complete_bytes_ = 0;
    complete_resume_ = SourcePosition();
    if (open_rows_ == 0) {
      first_event_time_.reset();
    } else {
      first_event_time_ = std::chrono::steady_clock::now();
    }
    return std::optional<BronzeCommit>(std::move(commit));
  }

  std::optional<SourcePosition> DurablePosition() const {
    std::lock_guard<std::mutex> lock(durable_mutex_);
    return durable_;
  }

  int64_t staged_rows() const { return complete_rows_ + open_rows_; }

 private:
  // Moves the records of the whole transactions out of `records_`; the open
  // transaction's stay.
  std::vector<BronzeRecord> TakeCompleteRecords() {
    std::vector<BronzeRecord> complete;
    if (complete_records_ == records_.size()) {
      complete.swap(records_);
    } else {
      std::vector<BronzeRecord> open;
      open.reserve(records_.size() - complete_records_);
      std::move(records_.begin() + static_cast<std::ptrdiff_t>(complete_records_),
                records_.end(), std::back_inserter(open));
      records_.resize(complete_records_);
      complete.swap(records_);
      records_.swap(open);
    }
    complete_records_ = 0;
    // The next commit is likely as large: no regrowth (each moving every record).
    records_.reserve(complete.size());
    return complete;
  }

  // A bronze partition: source_table (null or text) and ingest_date (days since epoch).
  // `table` views the staged bytes of `rows_`, valid until rows_ changes.
  struct PartitionKey {
    bool null_table = false;
    std::string_view table;
    int64_t day = 0;
    bool operator==(const PartitionKey&) const = default;
  };
  struct PartitionKeyHash {
    size_t operator()(const PartitionKey& key) const {
      return std::hash<std::string_view>()(key.table) ^
             (std::hash<int64_t>()(key.day) * 31) ^ (key.null_table ? 0x9e3779b9 : 0);
    }
  };

  PartitionKey KeyOf(size_t row) const {
    PartitionKey key;
    key.null_table = rows_.IsNull(kSourceTableColumn, row);
    if (!key.null_table) {
      key.table = rows_.GetString(kSourceTableColumn, row);
    }
    key.day = rows_.GetInt64(kIngestDateColumn, row);
    return key;
  }

  // The partition values the writer would derive from the rows (PROTOCOL.md "Partition
  // Value Serialization": the string as is, the date as YYYY-MM-DD).
  static delta::PartitionValues ValuesOf(const PartitionKey& key) {
    delta::PartitionValues values;
    values["source_table"] =
        key.null_table ? std::nullopt : std::optional<std::string>(key.table);
    values["ingest_date"] = core::FormatDate(static_cast<int32_t>(key.day));
    return values;
  }

  // Sets `write->input_partitions` to the staged rows [0, complete_rows_) split by
  // partition: one range read when they share one partition (the common case), else one
  // row selection per partition in order of first appearance, each in source order.
  void SplitByPartition(delta::WriteOptions* write) {
    const size_t rows = static_cast<size_t>(complete_rows_);
    TRIB_CHECK(rows > 0 && rows <= std::numeric_limits<uint32_t>::max(),
               "bronze commit of {} rows", rows);
    const PartitionKey first = KeyOf(0);
    size_t same = 1;
    while (same < rows && KeyOf(same) == first) {
      ++same;
    }
    if (same == rows) {
      write->input_partitions.push_back({ValuesOf(first), [this, rows]() -> Status {
                                           scan_->Set(&rows_, 0, rows);
                                           return OkStatus();
                                         }});
      return;
    }
    // Row vectors are reused across commits (capacity kept).
    for (auto& selection : partition_rows_) {
      selection.clear();
    }
    size_t groups = 0;
    auto new_group = [&](const PartitionKey& key) {
      if (groups == partition_rows_.size()) {
        partition_rows_.emplace_back();
      }
      write->input_partitions.push_back(
          {ValuesOf(key), [this, group = groups]() -> Status {
             scan_->SetRows(&rows_, partition_rows_[group]);
             return OkStatus();
           }});
      return groups++;
    };
    std::unordered_map<PartitionKey, size_t, PartitionKeyHash> group_of;
    group_of.emplace(first, new_group(first));
    std::vector<uint32_t>& leading = partition_rows_[0];
    for (size_t row = 0; row < same; ++row) {
      leading.push_back(static_cast<uint32_t>(row));
    }
    PartitionKey last = first;
    size_t last_group = 0;
    for (size_t row = same; row < rows; ++row) {
      PartitionKey key = KeyOf(row);
      if (!(key == last)) {
        auto [it, inserted] = group_of.emplace(key, groups);
        if (inserted) {
          new_group(key);
        }
        last = key;
        last_group = it->second;
      }
      partition_rows_[last_group].push_back(static_cast<uint32_t>(row));
    }
  }

  BronzeOptions options_;
  PipelineMetrics* metrics_;
  std::unique_ptr<sql::Database> db_;
  std::unique_ptr<sql::Connection> conn_;
  // The staged rows (BronzeRowColumns): the whole transactions first (complete_rows_
  // of them), then the open one. `scan_` reads them in the commit's append.
  sql::RowBatch rows_{BronzeRowColumns()};
  std::unique_ptr<sql::BatchScan> scan_;
  // A commit's rows per partition (SplitByPartition), read by `scan_`.
  std::vector<std::vector<uint32_t>> partition_rows_;
  // What the scan returns, declared to the append (no DESCRIBE).
  std::vector<delta::InputColumn> input_columns_;
  // commit_seq of the next row (increasing over the process's commits).
  int64_t next_seq_ = 0;
  int64_t complete_rows_ = 0;
  int64_t complete_bytes_ = 0;
  // The kept records: those of the whole transactions first (complete_records_ of
  // them), then the open transaction's (appended in place: ending a transaction moves
  // nothing).
  std::vector<BronzeRecord> records_;
  size_t complete_records_ = 0;
  bool complete_dropped_ = false;
  SourcePosition complete_resume_;
  // The open (unfinished) transaction.
  int64_t open_rows_ = 0;
  int64_t open_bytes_ = 0;
  bool open_dropped_ = false;
  std::optional<std::chrono::steady_clock::time_point> first_event_time_;
  // ADR 0005: the registry, the schema ids per table schema version, and the schemas
  // first seen since the last commit (registered before it).
  std::unique_ptr<BronzeSchemaRegistry> registry_;
  static constexpr size_t kMaxSchemaIds = 1024;
  std::vector<std::unique_ptr<SchemaIds>> schema_ids_;
  SchemaIds* last_ids_ = nullptr;
  std::vector<BronzeSchemaEntry> pending_schemas_;
  std::set<std::string> pending_ids_;
  // Per-row text formatted once: the last table's topic and name, the last PostgreSQL
  // txid; reused buffers for the position and the encoded value and key.
  bool table_texts_valid_ = false;
  std::string texts_source_;
  core::Connector texts_connector_ = core::Connector::kPostgres;
  core::TableId texts_table_;
  std::pair<std::string, std::string> table_texts_;
  uint64_t txid_value_ = 0;
  std::string txid_text_;
  // `position` column text; reuses the commit LSN part across a transaction's rows.
  PositionFormatter position_formatter_;
  std::string value_text_;
  std::string key_text_;
  mutable std::mutex durable_mutex_;
  std::optional<SourcePosition> durable_;
};

BronzeSink::BronzeSink(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BronzeSink::~BronzeSink() = default;

Result<std::unique_ptr<BronzeSink>> BronzeSink::Open(BronzeOptions options,
                                                     PipelineMetrics* metrics) {
  if (options.source.empty() || options.table_root.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "bronze sink needs a source name and a table root");
  }
  auto impl = std::make_unique<Impl>(std::move(options), metrics);
  TRIB_RETURN_IF_ERROR(impl->Open());
  return std::unique_ptr<BronzeSink>(new BronzeSink(std::move(impl)));
}

std::optional<SourcePosition> BronzeSink::ResumePosition() const {
  return impl_->DurablePosition();
}

Status BronzeSink::WriteBatch(const core::ChangeBatch& batch) {
  return impl_->WriteBatch(batch, false);
}

Status BronzeSink::WriteBatch(core::ChangeBatch&& batch) {
  return impl_->WriteBatch(batch, true);
}

Status BronzeSink::Write(std::span<const ChangeEvent> events) {
  core::ChangeBatch batch;
  batch.events.assign(events.begin(), events.end());
  batch.ends_transaction = true;
  return impl_->WriteBatch(batch, true);
}

Status BronzeSink::Flush() {
  TRIB_ASSIGN_OR_RETURN(auto commit, impl_->Commit());
  (void)commit;
  return OkStatus();
}

std::optional<SourcePosition> BronzeSink::DurablePosition() const {
  return impl_->DurablePosition();
}

bool BronzeSink::CommitDue() const {
  return impl_->CommitDue();
}
void BronzeSink::set_max_interval(std::chrono::milliseconds interval) {
  impl_->set_max_interval(interval);
}
int64_t BronzeSink::staged_rows() const {
  return impl_->staged_rows();
}
Result<std::optional<BronzeCommit>> BronzeSink::Commit() {
  return impl_->Commit();
}

std::string BronzeValueJson(const BronzeRecord& record) {
  if (!record.value_json.empty()) {
    return record.value_json;
  }
  core::DebeziumEncodeOptions encode;
  encode.schemas_enable = false;
  std::string text;
  if (Status status = core::AppendDebeziumValue(record.event, encode, text); !status.ok()) {
    // Not reached for a sink's records (an event that did not encode keeps its text).
    return UnencodableValueJson(status.status(), record.event);
  }
  return text;
}

Result<BronzeVersionRows> ReadBronzeVersion(sql::Connection& conn,
                                            const fs::path& table_root,
                                            int64_t version) {
  TRIB_ASSIGN_OR_RETURN(auto actions, delta::ReadCommit(table_root, version));
  std::vector<std::pair<fs::path, std::optional<std::string>>> files;
  for (const auto& action : actions) {
    const auto* add = std::get_if<delta::AddFile>(&action);
    if (add == nullptr || !add->data_change) {
      continue;
    }
    fs::path file =
        add->path.find("://") == std::string::npos
            ? table_root / PercentDecode(add->path)
            : fs::path(PercentDecode(add->path.substr(add->path.find("://") + 3)));
    std::optional<std::string> source_table;
    auto it = add->partition_values.find("source_table");
    if (it != add->partition_values.end()) {
      source_table = it->second;
    }
    files.emplace_back(std::move(file), std::move(source_table));
  }
  BronzeVersionRows out;
  if (files.empty()) {
    return out;
  }
  // The files of one commit share the schema they were written with: those written
  // before ADR 0005 have no schema id columns.
  TRIB_ASSIGN_OR_RETURN(
      auto id_columns,
      conn.Query(fmt::format("SELECT count(*) FROM parquet_schema({}) WHERE name IN "
                             "('key_schema_id', 'value_schema_id')",
                             QuoteLiteral(files.front().first.string()))));
  const bool with_ids = id_columns.GetInt64(0, 0) == 2;
  std::string union_sql;
  for (const auto& [file, source_table] : files) {
    union_sql += fmt::format(
        "{}SELECT source, {} AS source_table, key_json, value_json, position, commit_seq, "
        "{} FROM read_parquet({})",
        union_sql.empty() ? "" : " UNION ALL ",
        source_table ? QuoteLiteral(*source_table) : std::string("CAST(NULL AS VARCHAR)"),
        with_ids ? "key_schema_id, value_schema_id"
                 : "CAST(NULL AS VARCHAR) AS key_schema_id, "
                   "CAST(NULL AS VARCHAR) AS value_schema_id",
        QuoteLiteral(file.string()));
  }
  TRIB_ASSIGN_OR_RETURN(
      auto rows,
      conn.Query(fmt::format("SELECT * FROM ({}) ORDER BY commit_seq", union_sql)));
  const fs::path registry_root = BronzeSchemaRegistryRoot(table_root);
  // Per call: no lock per row for the common case of a few schemas per version.
  std::map<std::string, std::shared_ptr<const core::ConnectSchema>, std::less<>> schemas;
  auto schema_for = [&](const std::optional<std::string>& id)
      -> Result<std::shared_ptr<const core::ConnectSchema>> {
    if (!id) {
      return std::shared_ptr<const core::ConnectSchema>();
    }
    if (auto it = schemas.find(*id); it != schemas.end()) {
      return it->second;
    }
    TRIB_ASSIGN_OR_RETURN(auto schema, LookupBronzeSchema(conn, registry_root, *id));
    schemas.emplace(*id, schema);
    return schema;
  };
  for (size_t row = 0; row < rows.row_count(); ++row) {
    std::optional<std::string> key = rows.GetOptionalString(2, row);
    std::string value = rows.GetString(3, row);
    std::string position_text = rows.GetString(4, row);
    auto fail = [&](std::string error) {
      BronzeVersionRows::Undecodable bad;
      bad.source = rows.GetString(0, row);
      bad.source_table = rows.GetString(1, row);
      bad.position = position_text;
      bad.key_json = key;
      bad.value_json = value;
      bad.error = std::move(error);
      out.undecodable.push_back(std::move(bad));
    };
    auto key_schema = schema_for(rows.GetOptionalString(6, row));
    if (!key_schema.ok()) {
      if (!key_schema.status().IsNotFound()) {
        return std::move(key_schema).status();
      }
      fail(key_schema.status().ToString());
      continue;
    }
    auto value_schema = schema_for(rows.GetOptionalString(7, row));
    if (!value_schema.ok()) {
      if (!value_schema.status().IsNotFound()) {
        return std::move(value_schema).status();
      }
      fail(value_schema.status().ToString());
      continue;
    }
    auto decoded = core::DecodeDebeziumRecord(
        key ? std::optional<std::string_view>(*key) : std::nullopt, key_schema->get(),
        value, value_schema->get());
    if (!decoded.ok()) {
      fail(decoded.status().ToString());
      continue;
    }
    if (!decoded->event) {
      fail("tombstone (null value) in bronze");
      continue;
    }
    auto position = SourcePosition::Parse(position_text);
    if (!position.ok()) {
      fail(position.status().ToString());
      continue;
    }
    BronzeRecord record;
    record.event = std::move(*decoded->event);
    record.event.position = *position;
    record.key_json = key;
    record.value_json = std::move(value);
    out.records.push_back(std::move(record));
  }
  return out;
}

}  // namespace tributary::pipeline

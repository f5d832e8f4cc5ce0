#include "pipeline/bronze_sink.h"

#include <algorithm>
#include <compare>
#include <mutex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/debezium_json.h"
#include "lake/delta/commit.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/writer.h"
#include "pipeline/database_options.h"
#include "pipeline/types.h"

namespace tributary::pipeline {

namespace delta = lake::delta;
namespace fs = std::filesystem;
using core::ChangeEvent;
using core::SourcePosition;
using sql::QuoteIdentifier;
using sql::QuoteLiteral;

namespace {

delta::StructField Field(std::string name, delta::TypeKind kind, bool nullable = true) {
  delta::StructField field;
  field.name = std::move(name);
  field.type = delta::DataType::Primitive(kind);
  field.nullable = nullable;
  return field;
}

constexpr int64_t kMaxResumeScan = 100000;

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
  };
  return schema;
}

std::string BronzeAppId(std::string_view source) {
  return fmt::format("bronze:{}", source);
}

std::string BronzeResumeParameter(std::string_view source) {
  return fmt::format("tributary.resume.{}", source);
}

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
    TRIB_RETURN_IF_ERROR(ReadDurablePosition());
    TRIB_ASSIGN_OR_RETURN(db_, sql::Database::Open(StageDatabaseOptions("bronze")));
    TRIB_ASSIGN_OR_RETURN(conn_, db_->Connect());
    std::string columns = "seq BIGINT";
    for (const auto& field : BronzeSchema().fields) {
      if (field.name == "commit_seq") {
        continue;
      }
      columns += fmt::format(", {} {}", QuoteIdentifier(field.name),
                             delta::DuckDbTypeOf(field.type));
    }
    TRIB_RETURN_IF_ERROR(conn_->Execute(fmt::format("CREATE TABLE stage ({})", columns)));
    return OkStatus();
  }

  // Removes the committed rows from `stage` by rebuilding it from the rows still open.
  // A DELETE would only mark them: an in-memory DuckDB database never checkpoints, so
  // deleted rows keep their memory and the process would grow with every commit.
  Status DropCommittedRows() {
    TRIB_RETURN_IF_ERROR(conn_->Execute(
        fmt::format("CREATE TABLE stage_open AS SELECT * FROM stage WHERE seq >= {}",
                    complete_seq_end_)));
    TRIB_RETURN_IF_ERROR(conn_->Execute("DROP TABLE stage"));
    return conn_->Execute("ALTER TABLE stage_open RENAME TO stage");
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

  Status StageEvents(std::span<const ChangeEvent> events) {
    if (events.empty()) {
      return OkStatus();
    }
    std::optional<SourcePosition> durable = DurablePosition();
    // One appender for all batches until the next commit: closing an appender per batch
    // (often one small transaction) cost more than encoding the events.
    if (!appender_) {
      TRIB_ASSIGN_OR_RETURN(appender_, conn_->CreateAppender("", "stage"));
    }
    sql::Appender* appender = appender_.get();
    const int64_t now_us = NowMicros();
    const int32_t today = static_cast<int32_t>(now_us / core::kMicrosPerDay);
    for (const ChangeEvent& event : events) {
      if (durable && !event.position.empty() &&
          AlreadyDurable(event.position, *durable)) {
        if (metrics_ != nullptr) {
          ++metrics_->bronze_replayed_events_dropped;
        }
        continue;
      }
      BronzeRecord record;
      record.event = event;
      core::DebeziumEncodeOptions encode;
      encode.schemas_enable = true;
      auto value = core::EncodeDebeziumValue(event, encode);
      if (value.ok()) {
        record.value_json = std::move(*value);
      } else {
        // Kept as received; silver sends it to the dead-letter table.
        nlohmann::json error = {{"tributary_error", value.status().ToString()},
                                {"event", event.ToString()}};
        record.value_json = error.dump();
      }
      auto key = core::EncodeDebeziumKey(event, encode);
      if (key.ok()) {
        record.key_json = std::move(*key);
      }
      const auto* pg = event.position.postgres();
      std::optional<std::string> txid;
      if (event.transaction) {
        txid = event.transaction->id;
      } else if (pg != nullptr && pg->txid != 0) {
        txid = std::to_string(pg->txid);
      }
      TRIB_RETURN_IF_ERROR(appender->AppendInt64(next_seq_++));
      TRIB_RETURN_IF_ERROR(appender->AppendString(options_.source));
      if (event.table.table.empty()) {
        TRIB_RETURN_IF_ERROR(appender->AppendNull());
      } else {
        TRIB_RETURN_IF_ERROR(appender->AppendString(event.table.ToString()));
      }
      TRIB_RETURN_IF_ERROR(appender->AppendString(core::FormatDate(today)));
      TRIB_RETURN_IF_ERROR(appender->AppendString(event.Topic()));
      TRIB_RETURN_IF_ERROR(
          appender->AppendString(std::string(1, core::OpCode(event.op))));
      if (record.key_json) {
        TRIB_RETURN_IF_ERROR(appender->AppendString(*record.key_json));
      } else {
        TRIB_RETURN_IF_ERROR(appender->AppendNull());
      }
      TRIB_RETURN_IF_ERROR(appender->AppendString(record.value_json));
      TRIB_RETURN_IF_ERROR(appender->AppendString(event.position.ToString()));
      TRIB_RETURN_IF_ERROR(appender->AppendInt64(
          pg != nullptr ? static_cast<int64_t>(pg->commit_lsn) : 0));
      TRIB_RETURN_IF_ERROR(appender->AppendInt64(
          pg != nullptr ? static_cast<int64_t>(pg->event_index) : 0));
      if (txid) {
        TRIB_RETURN_IF_ERROR(appender->AppendString(*txid));
      } else {
        TRIB_RETURN_IF_ERROR(appender->AppendNull());
      }
      if (event.commit_time_us != 0) {
        TRIB_RETURN_IF_ERROR(AppendTimestampMicros(*appender, event.commit_time_us));
      } else {
        TRIB_RETURN_IF_ERROR(appender->AppendNull());
      }
      TRIB_RETURN_IF_ERROR(AppendTimestampMicros(*appender, now_us));
      TRIB_RETURN_IF_ERROR(appender->EndRow());
      open_bytes_ += static_cast<int64_t>(
          record.value_json.size() + (record.key_json ? record.key_json->size() : 0));
      ++open_rows_;
      if (!open_dropped_) {
        if (static_cast<int64_t>(complete_records_.size() + open_records_.size()) >=
            options_.max_events_kept) {
          open_dropped_ = true;
          open_records_.clear();
        } else {
          open_records_.push_back(std::move(record));
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
    complete_seq_end_ = next_seq_;
    if (open_dropped_ || complete_dropped_) {
      complete_dropped_ = true;
      complete_records_.clear();
    } else {
      for (auto& record : open_records_) {
        complete_records_.push_back(std::move(record));
      }
    }
    open_records_.clear();
    open_dropped_ = false;
    open_rows_ = 0;
    open_bytes_ = 0;
    if (!resume.empty()) {
      complete_resume_ = resume;
    }
  }

  Status WriteBatch(const core::ChangeBatch& batch) {
    TRIB_RETURN_IF_ERROR(StageEvents(batch.events));
    if (batch.ends_transaction) {
      SourcePosition resume = batch.resume_position;
      if (resume.empty() && !batch.events.empty()) {
        resume = batch.events.back().position;
      }
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
    return std::chrono::steady_clock::now() - *first_event_time_ >=
           std::max(options_.max_interval, batch_window_);
  }

  void SetBatchWindow(std::chrono::milliseconds window) {
    batch_window_ = std::clamp(window, std::chrono::milliseconds(0), kMaxBatchWindow);
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
    if (appender_) {
      // The staged rows become visible to the query below.
      Status closed = appender_->Close();
      appender_.reset();
      TRIB_RETURN_IF_ERROR(closed);
    }
    delta::WriteOptions write;
    write.txn =
        delta::SetTransaction{BronzeAppId(options_.source), txn_version, std::nullopt};
    write.operation_parameters[BronzeResumeParameter(options_.source)] =
        complete_resume_.ToString();
    // `stage` does not change while the append runs.
    write.repeatable_input = true;
    std::string query = fmt::format(
        "SELECT * EXCLUDE (seq), seq AS commit_seq FROM stage WHERE seq < {} ORDER BY "
        "seq",
        complete_seq_end_);
    auto written = delta::Append(*conn_, options_.table_root, query, write);
    if (!written.ok()) {
      return std::move(written).status().AddContext(
          fmt::format("appending {} events of source {} to {}", complete_rows_,
                      options_.source, options_.table_root.string()));
    }
    TRIB_RETURN_IF_ERROR(DropCommittedRows());
    BronzeCommit commit;
    commit.version = written->version;
    commit.event_count = complete_rows_;
    commit.records = std::move(complete_records_);
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
    complete_records_.clear();
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
  BronzeOptions options_;
  PipelineMetrics* metrics_;
  std::unique_ptr<sql::Database> db_;
  std::unique_ptr<sql::Connection> conn_;
  // Open between commits; rows appended are visible in `stage` only after it is closed.
  std::unique_ptr<sql::Appender> appender_;
  int64_t next_seq_ = 0;
  // Whole transactions staged (rows with seq < complete_seq_end_).
  int64_t complete_seq_end_ = 0;
  int64_t complete_rows_ = 0;
  int64_t complete_bytes_ = 0;
  std::vector<BronzeRecord> complete_records_;
  bool complete_dropped_ = false;
  SourcePosition complete_resume_;
  // The open (unfinished) transaction.
  int64_t open_rows_ = 0;
  int64_t open_bytes_ = 0;
  std::vector<BronzeRecord> open_records_;
  bool open_dropped_ = false;
  std::optional<std::chrono::steady_clock::time_point> first_event_time_;
  std::chrono::milliseconds batch_window_{0};
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
  return impl_->WriteBatch(batch);
}

Status BronzeSink::Write(std::span<const ChangeEvent> events) {
  core::ChangeBatch batch;
  batch.events.assign(events.begin(), events.end());
  batch.ends_transaction = true;
  return impl_->WriteBatch(batch);
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
void BronzeSink::SetBatchWindow(std::chrono::milliseconds window) {
  impl_->SetBatchWindow(window);
}
int64_t BronzeSink::staged_rows() const {
  return impl_->staged_rows();
}
Result<std::optional<BronzeCommit>> BronzeSink::Commit() {
  return impl_->Commit();
}

Result<BronzeVersionRows> ReadBronzeVersion(sql::Connection& conn,
                                            const fs::path& table_root,
                                            int64_t version) {
  TRIB_ASSIGN_OR_RETURN(auto actions, delta::ReadCommit(table_root, version));
  std::string union_sql;
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
    union_sql += fmt::format(
        "{}SELECT source, {} AS source_table, key_json, value_json, position, commit_seq "
        "FROM read_parquet({})",
        union_sql.empty() ? "" : " UNION ALL ",
        source_table ? QuoteLiteral(*source_table) : std::string("CAST(NULL AS VARCHAR)"),
        QuoteLiteral(file.string()));
  }
  BronzeVersionRows out;
  if (union_sql.empty()) {
    return out;
  }
  TRIB_ASSIGN_OR_RETURN(
      auto rows,
      conn.Query(fmt::format("SELECT * FROM ({}) ORDER BY commit_seq", union_sql)));
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
    auto decoded = core::DecodeDebeziumRecord(
        key ? std::optional<std::string_view>(*key) : std::nullopt, value);
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

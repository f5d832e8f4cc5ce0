#include "capture/postgres/postgres_capture.h"

#include <algorithm>
#include <cstdio>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "capture/postgres/internal/change_assembler.h"
#include "capture/postgres/internal/pg_conn.h"
#include "capture/postgres/internal/pg_types.h"
#include "capture/postgres/internal/wire.h"
#include "capture/postgres/pgoutput_decoder.h"

namespace tributary::capture::postgres {

using core::ChangeBatch;
using core::ChangeEvent;
using core::PostgresPosition;
using core::SourcePosition;
using internal::AsBytes;
using internal::ChangeAssembler;
using internal::PgConnection;
using internal::QueryResult;
using internal::QuoteIdentifier;
using internal::QuoteLiteral;
using internal::QuoteQualified;
using internal::RelationInfo;

namespace {

using Clock = std::chrono::steady_clock;

int64_t NowPostgresMicros() {
  auto since_unix = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  return since_unix - internal::kPostgresEpochOffsetUs;
}

int64_t NowUnixMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const std::string& Cell(const QueryResult& result, size_t row, size_t column) {
  static const std::string kEmpty;
  const auto& cell = result.rows[row][column];
  return cell ? *cell : kEmpty;
}

bool IsNull(const QueryResult& result, size_t row, size_t column) {
  return !result.rows[row][column].has_value();
}

// Splits a name[] text output ("{a,\"b c\"}") into names.
std::vector<std::string> ParseNameArray(std::string_view text) {
  std::vector<std::string> out;
  if (text.size() < 2) {
    return out;
  }
  std::string current;
  bool quoted = false;
  bool any = false;
  for (size_t pos = 1; pos + 1 < text.size(); ++pos) {
    char c = text[pos];
    if (quoted) {
      if (c == '\\' && pos + 2 < text.size()) {
        current += text[++pos];
      } else if (c == '"') {
        quoted = false;
      } else {
        current += c;
      }
    } else if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      out.push_back(std::move(current));
      current.clear();
      any = false;
    } else {
      current += c;
      any = true;
    }
  }
  if (any || !current.empty()) {
    out.push_back(std::move(current));
  }
  return out;
}

// One published table, as the snapshot reads it.
struct SnapshotTable {
  uint32_t relation_id = 0;
  std::string schema;
  std::string table;
  std::string row_filter;  // empty: all rows
  RelationInfo relation;
  std::vector<std::string> columns;
  uint64_t estimate = 0;
};

}  // namespace

class PostgresCapture::Impl {
 public:
  explicit Impl(PostgresCaptureOptions options) : options_(std::move(options)) {
    if (options_.spill_dir.empty()) {
      std::error_code ec;
      auto tmp = std::filesystem::temp_directory_path(ec);
      if (ec) {
        tmp = "/tmp";
      }
      options_.spill_dir = tmp / fmt::format("tributary-pg-{}-{}", options_.slot_name,
                                             static_cast<long>(getpid()));
    }
  }

  ~Impl() {
    static_cast<void>(Close());
    std::error_code ec;
    std::filesystem::remove_all(options_.spill_dir, ec);
  }

  std::string name() const { return options_.name; }

  Status Start(const std::optional<SourcePosition>& resume_after);
  Result<ChangeBatch> Poll(std::chrono::milliseconds timeout);
  Status Acknowledge(const SourcePosition& position);
  Status Close();
  Result<uint64_t> ServerWalLsn();
  bool ReachedLsn(uint64_t lsn);

  bool done() const { return phase_ == Phase::kDone; }
  uint64_t emitted_lsn() const { return emitted_lsn_; }
  PostgresCaptureMetrics metrics() const {
    std::lock_guard<std::mutex> lock(metrics_mutex_);
    return metrics_;
  }

 private:
  enum class Phase { kCreated, kSnapshot, kStreaming, kDone, kClosed };

  Status EnsureSql();
  Status CheckServer();
  Status EnsurePublication();
  Result<std::vector<SnapshotTable>> PublishedTables(bool for_snapshot);
  Status StartStreaming();
  Status BeginSnapshot(const std::string& snapshot_name, uint64_t consistent_point);
  Result<ChangeBatch> SnapshotPoll();
  // The commit time, source block and processing time of a snapshot event.
  void SetSnapshotSource(ChangeEvent& event) const;
  Status FinishSnapshot();
  std::string TemporarySlotName() const;
  std::string PendingSlotName() const;
  Status RecoverPendingSlot(const PostgresPosition* resume);
  Status CopySlot(const std::string& from, const std::string& to);
  Status DropSlotIfExists(const std::string& slot);
  Status MakeSlotPermanent();
  void DropConnection();
  Status EnsureHeartbeatTable();
  Result<ChangeBatch> StreamPoll(Clock::time_point deadline);
  Status HandleFrame(std::string_view frame);
  Status SendStatus(bool reply_requested);
  /// `now`: the current time, when the caller has it (one clock read per loop round).
  Status MaybeSendStatus(Clock::time_point now = Clock::now());
  void MaybeHeartbeat(Clock::time_point now = Clock::now());
  Status HandleDisconnect(const Error& error);
  Status Reconnect();
  Result<std::optional<std::vector<std::string>>> LookupKey(uint32_t relation_id);
  Result<internal::PgTypeRow> LookupType(uint32_t oid);
  void UpdateMetrics();
  ChangeBatch NoteEmitted(ChangeBatch batch);

  PostgresCaptureOptions options_;
  std::unique_ptr<ChangeAssembler> assembler_;
  std::unique_ptr<PgConnection> sql_;
  std::unique_ptr<PgConnection> repl_;
  Phase phase_ = Phase::kCreated;
  std::string database_;

  // Snapshot.
  std::vector<SnapshotTable> snapshot_tables_;
  size_t snapshot_table_idx_ = 0;
  bool cursor_open_ = false;
  uint64_t consistent_point_ = 0;
  uint64_t snapshot_index_ = 0;
  std::optional<ChangeEvent> held_event_;
  int64_t snapshot_time_us_ = 0;
  bool progress_tty_ = false;

  // Slots. A new snapshot is read from a TEMPORARY slot's exported snapshot, and
  // streaming starts on that slot; it is copied to the permanent slot_name once the
  // downstream acknowledges the snapshot's end. A capture killed before that leaves no
  // slot behind (the server drops temporary slots with their session), so the next start
  // takes the snapshot again instead of streaming from a slot whose snapshot never became
  // durable.
  std::string stream_slot_;         // the slot START_REPLICATION names
  bool permanent_pending_ = false;  // stream_slot_ is the temporary snapshot slot

  // Positions.
  uint64_t start_lsn_ = 0;
  uint64_t emitted_lsn_ = 0;
  // Highest commit LSN of an event Poll() returned in this session: the slot may follow
  // idle keepalives only while everything returned is acknowledged.
  uint64_t returned_lsn_ = 0;
  // After a dropped or switched connection: transactions ending at or before this LSN
  // were received already and are dropped when the server resends them. Applied once the
  // transaction being returned (if any) is finished, so its rest is not dropped with
  // them.
  std::optional<uint64_t> deferred_skip_lsn_;
  uint64_t acked_lsn_ = 0;  // from Acknowledge()
  uint64_t flush_lsn_ = 0;  // what we report (acked or idle keepalive position)
  uint64_t server_wal_end_ = 0;
  bool caught_up_ = false;     // the last frame was a keepalive with nothing pending
  uint64_t idle_wal_end_ = 0;  // keepalive WAL end seen with nothing pending
  Clock::time_point last_probe_{};
  Clock::time_point last_status_{};
  // While frames arrive back to back, the timers (status update, heartbeat, Poll
  // deadline) are checked every kFramesPerTimerCheck frames instead of per frame: the
  // clock reads were a few percent of the capture's CPU.
  static constexpr int kFramesPerTimerCheck = 64;
  int frames_since_timer_check_ = 0;
  bool last_read_had_frame_ = false;
  Clock::time_point last_heartbeat_{};
  bool status_dirty_ = false;

  // Reconnects.
  bool connected_ = false;
  Clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_{0};
  int failed_attempts_ = 0;

  mutable std::mutex metrics_mutex_;
  PostgresCaptureMetrics metrics_;
};

Status PostgresCapture::Impl::EnsureSql() {
  if (sql_ != nullptr) {
    return OkStatus();
  }
  TRIB_ASSIGN_OR_RETURN(
      sql_, PgConnection::Connect(options_.dsn, false, options_.application_name,
                                  internal::kSessionOptions));
  return OkStatus();
}

Result<internal::PgTypeRow> PostgresCapture::Impl::LookupType(uint32_t oid) {
  TRIB_RETURN_IF_ERROR(EnsureSql());
  TRIB_ASSIGN_OR_RETURN(QueryResult result, sql_->QueryParams(internal::kTypeLookupSql,
                                                              {std::to_string(oid)}));
  if (result.rows.empty()) {
    return MakeError(ErrorCode::kNotFound, "type OID {} is not in pg_type", oid);
  }
  internal::PgTypeRow row;
  row.oid = oid;
  row.name = Cell(result, 0, 1);
  row.typtype = Cell(result, 0, 2).empty() ? 'b' : Cell(result, 0, 2)[0];
  row.category = Cell(result, 0, 3).empty() ? 'U' : Cell(result, 0, 3)[0];
  row.element = static_cast<uint32_t>(std::stoul(Cell(result, 0, 4)));
  row.base_type = static_cast<uint32_t>(std::stoul(Cell(result, 0, 5)));
  row.typmod = std::stoi(Cell(result, 0, 6));
  if (!IsNull(result, 0, 7)) {
    std::string labels = Cell(result, 0, 7);
    size_t start = 0;
    while (true) {
      size_t sep = labels.find('\x01', start);
      row.enum_labels.push_back(labels.substr(start, sep - start));
      if (sep == std::string::npos) {
        break;
      }
      start = sep + 1;
    }
  }
  return row;
}

Result<std::optional<std::vector<std::string>>> PostgresCapture::Impl::LookupKey(
    uint32_t relation_id) {
  TRIB_RETURN_IF_ERROR(EnsureSql());
  // The primary key, else the replica identity index, in index column order.
  TRIB_ASSIGN_OR_RETURN(
      QueryResult result,
      sql_->QueryParams(
          "SELECT a.attname, i.indisprimary FROM pg_catalog.pg_index i "
          "CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) "
          "JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = "
          "k.attnum WHERE i.indrelid = $1 AND (i.indisprimary OR i.indisreplident) "
          "ORDER BY i.indisprimary DESC, k.ord",
          {std::to_string(relation_id)}));
  if (result.rows.empty()) {
    return std::optional<std::vector<std::string>>();
  }
  std::vector<std::string> names;
  std::string first_kind = Cell(result, 0, 1);
  for (size_t row = 0; row < result.rows.size(); ++row) {
    if (Cell(result, row, 1) != first_kind) {
      break;  // only the primary key's columns when there is one
    }
    names.push_back(Cell(result, row, 0));
  }
  return std::optional<std::vector<std::string>>(std::move(names));
}

Status PostgresCapture::Impl::CheckServer() {
  TRIB_ASSIGN_OR_RETURN(QueryResult level, sql_->Query("SHOW wal_level"));
  std::string wal_level = level.rows.empty() ? "" : Cell(level, 0, 0);
  if (wal_level != "logical") {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "PostgreSQL at {} has wal_level = '{}': logical replication needs "
        "wal_level = logical (set it in postgresql.conf or with ALTER SYSTEM "
        "SET wal_level = logical, then restart the server)",
        sql_->description(), wal_level);
  }
  TRIB_ASSIGN_OR_RETURN(QueryResult role,
                        sql_->Query("SELECT current_user, rolreplication OR rolsuper, "
                                    "current_database() FROM pg_catalog.pg_roles "
                                    "WHERE rolname = current_user"));
  if (role.rows.empty()) {
    return MakeError(ErrorCode::kInternal, "cannot read the current role from pg_roles");
  }
  database_ = Cell(role, 0, 2);
  if (Cell(role, 0, 1) != "t") {
    return MakeError(ErrorCode::kInvalidArgument,
                     "role {} lacks the REPLICATION attribute needed for logical "
                     "replication: run ALTER ROLE {} REPLICATION as a superuser",
                     QuoteIdentifier(Cell(role, 0, 0)),
                     QuoteIdentifier(Cell(role, 0, 0)));
  }
  return OkStatus();
}

Status PostgresCapture::Impl::EnsurePublication() {
  TRIB_ASSIGN_OR_RETURN(QueryResult existing,
                        sql_->QueryParams("SELECT 1 FROM pg_catalog.pg_publication WHERE "
                                          "pubname = $1",
                                          {options_.publication_name}));
  if (!existing.rows.empty()) {
    return OkStatus();
  }
  if (!options_.create_publication) {
    return MakeError(
        ErrorCode::kNotFound,
        "publication {} does not exist in database {} and create_publication "
        "is off: run CREATE PUBLICATION {} FOR ALL TABLES",
        QuoteIdentifier(options_.publication_name), database_,
        QuoteIdentifier(options_.publication_name));
  }
  std::string sql = "CREATE PUBLICATION " + QuoteIdentifier(options_.publication_name);
  if (options_.tables.empty()) {
    sql += " FOR ALL TABLES";
  } else {
    sql += " FOR TABLE ";
    for (size_t table_idx = 0; table_idx < options_.tables.size(); ++table_idx) {
      const auto& table = options_.tables[table_idx];
      if (table_idx > 0) {
        sql += ", ";
      }
      sql += QuoteQualified(table.schema, table.table);
      if (!table.columns.empty()) {
        sql += " (";
        for (size_t column_idx = 0; column_idx < table.columns.size(); ++column_idx) {
          sql +=
              (column_idx > 0 ? ", " : "") + QuoteIdentifier(table.columns[column_idx]);
        }
        sql += ")";
      }
      if (!table.row_filter.empty()) {
        sql += " WHERE (" + table.row_filter + ")";
      }
    }
  }
  auto created = sql_->Exec(sql);
  if (!created.ok() && !created.error().IsAlreadyExists()) {
    return std::move(created).WithContext(
        fmt::format("creating publication {}", options_.publication_name));
  }
  spdlog::info("postgres capture {}: created publication {}", options_.name,
               options_.publication_name);
  return OkStatus();
}

Result<std::vector<SnapshotTable>> PostgresCapture::Impl::PublishedTables(
    bool for_snapshot) {
  TRIB_ASSIGN_OR_RETURN(
      QueryResult tables,
      sql_->QueryParams(
          "SELECT c.oid, p.schemaname, p.tablename, p.rowfilter, p.attnames, "
          "c.relreplident, "
          "EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND "
          "i.indisprimary), "
          "EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND "
          "i.indisreplident), greatest(c.reltuples, 0)::bigint "
          "FROM pg_catalog.pg_publication_tables p "
          "JOIN pg_catalog.pg_namespace n ON n.nspname = p.schemaname "
          "JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = "
          "p.tablename "
          "WHERE p.pubname = $1 ORDER BY p.schemaname, p.tablename",
          {options_.publication_name}));
  std::vector<SnapshotTable> out;
  std::vector<std::string> problems;
  for (size_t row = 0; row < tables.rows.size(); ++row) {
    SnapshotTable table;
    table.relation_id = static_cast<uint32_t>(std::stoul(Cell(tables, row, 0)));
    table.schema = Cell(tables, row, 1);
    table.table = Cell(tables, row, 2);
    table.row_filter = Cell(tables, row, 3);
    std::vector<std::string> published = ParseNameArray(Cell(tables, row, 4));
    char identity = Cell(tables, row, 5).empty() ? 'd' : Cell(tables, row, 5)[0];
    bool has_pk = Cell(tables, row, 6) == "t";
    bool has_ident_index = Cell(tables, row, 7) == "t";
    table.estimate = std::stoull(Cell(tables, row, 8));
    std::string qualified = QuoteQualified(table.schema, table.table);
    if ((identity == 'd' && !has_pk) || (identity == 'i' && !has_ident_index)) {
      problems.push_back(fmt::format(
          "table {} has no {} and REPLICA IDENTITY {}, so its updates and deletes cannot "
          "be captured: run ALTER TABLE {} REPLICA IDENTITY FULL (or add a primary key)",
          qualified, identity == 'd' ? "primary key" : "replica identity index",
          identity == 'd' ? "DEFAULT" : "USING INDEX", qualified));
      continue;
    }
    if (!for_snapshot) {
      out.push_back(std::move(table));
      continue;
    }
    // Columns in table order, limited to the publication's column list (PostgreSQL 15).
    TRIB_ASSIGN_OR_RETURN(
        QueryResult columns,
        sql_->QueryParams(
            "SELECT attname, atttypid, atttypmod FROM pg_catalog.pg_attribute "
            "WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped "
            "ORDER BY attnum",
            {std::to_string(table.relation_id)}));
    std::set<std::string> allowed(published.begin(), published.end());
    RelationMessage message;
    message.relation_id = table.relation_id;
    message.namespace_name = table.schema;
    message.relation_name = table.table;
    message.replica_identity = identity;
    for (size_t column = 0; column < columns.rows.size(); ++column) {
      const std::string& name = Cell(columns, column, 0);
      if (!allowed.empty() && allowed.count(name) == 0) {
        continue;
      }
      RelationColumn relation_column;
      relation_column.name = name;
      relation_column.type_oid =
          static_cast<uint32_t>(std::stoul(Cell(columns, column, 1)));
      relation_column.type_modifier = std::stoi(Cell(columns, column, 2));
      message.columns.push_back(std::move(relation_column));
      table.columns.push_back(name);
    }
    auto relation = assembler_->BuildRelation(message);
    if (!relation.ok()) {
      return std::move(relation).status().AddContext("reading the schema of " +
                                                     qualified);
    }
    table.relation = std::move(*relation);
    out.push_back(std::move(table));
  }
  if (!problems.empty()) {
    std::string message = fmt::format("publication {}: ", options_.publication_name);
    for (size_t idx = 0; idx < problems.size(); ++idx) {
      message += (idx > 0 ? "; " : "") + problems[idx];
    }
    return Error(ErrorCode::kInvalidArgument, message);
  }
  return out;
}

Status PostgresCapture::Impl::Start(const std::optional<SourcePosition>& resume_after) {
  if (phase_ != Phase::kCreated) {
    return MakeError(ErrorCode::kInvalidArgument, "postgres capture {} already started",
                     options_.name);
  }
  const PostgresPosition* resume = nullptr;
  if (resume_after && !resume_after->empty()) {
    resume = resume_after->postgres();
    if (resume == nullptr) {
      return MakeError(
          ErrorCode::kInvalidArgument,
          "postgres capture {} cannot resume after non-PostgreSQL position {}",
          options_.name, resume_after->ToString());
    }
  }
  internal::AssemblerOptions assembler_options;
  assembler_options.source_name = options_.name;
  assembler_options.source_version = "tributary";
  assembler_options.max_batch_events = options_.max_batch_events;
  assembler_options.max_transaction_memory = options_.max_transaction_memory;
  assembler_options.spill_dir = options_.spill_dir;
  assembler_options.logical_messages = options_.logical_messages;
  assembler_options.protocol_version = options_.protocol_version;
  assembler_ = std::make_unique<ChangeAssembler>(
      assembler_options, [this](uint32_t oid) { return LookupType(oid); },
      [this](uint32_t relation_id) { return LookupKey(relation_id); });

  // The replication connection is opened while the checks below run on the SQL
  // connection: a connection costs a server backend start (~10 ms), and `capture --once`
  // on a short range notices. Dropped unused (closed) when a check fails.
  std::future<Result<std::unique_ptr<PgConnection>>> repl_connecting = std::async(
      std::launch::async, [dsn = options_.dsn, application = options_.application_name] {
        return PgConnection::Connect(dsn, true, application, internal::kSessionOptions);
      });
  TRIB_RETURN_IF_ERROR(EnsureSql());
  TRIB_RETURN_IF_ERROR(CheckServer());
  // The assembler's TableIds need the database name, known only now.
  assembler_options.database = database_;
  assembler_ = std::make_unique<ChangeAssembler>(
      assembler_options, [this](uint32_t oid) { return LookupType(oid); },
      [this](uint32_t relation_id) { return LookupKey(relation_id); });
  TRIB_RETURN_IF_ERROR(EnsurePublication());
  {
    auto checked = PublishedTables(false);
    if (!checked.ok()) {
      return std::move(checked).status();
    }
  }

  TRIB_RETURN_IF_ERROR(RecoverPendingSlot(resume));
  TRIB_ASSIGN_OR_RETURN(
      QueryResult slot,
      sql_->QueryParams(
          "SELECT plugin, database, active, active_pid, confirmed_flush_lsn "
          "FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
          {options_.slot_name}));
  bool slot_exists = !slot.rows.empty();
  if (slot_exists) {
    if (Cell(slot, 0, 0) != "pgoutput" || Cell(slot, 0, 1) != database_) {
      return MakeError(
          ErrorCode::kInvalidArgument,
          "replication slot {} exists with plugin '{}' for database '{}'; this "
          "capture needs a pgoutput slot for database '{}': configure another "
          "slot_name or drop it with SELECT pg_drop_replication_slot('{}')",
          options_.slot_name, Cell(slot, 0, 0), Cell(slot, 0, 1), database_,
          options_.slot_name);
    }
    if (Cell(slot, 0, 2) == "t") {
      return MakeError(ErrorCode::kConflict,
                       "replication slot {} is active for PID {}: another consumer is "
                       "streaming from it; stop it (SELECT pg_terminate_backend({})) or "
                       "configure another slot_name",
                       options_.slot_name, Cell(slot, 0, 3), Cell(slot, 0, 3));
    }
  }
  // A snapshot row (event_lsn 0, txid 0) as the durable position means the snapshot was
  // cut short: its exported snapshot is gone, so it must start over with a new slot.
  bool partial_snapshot = resume != nullptr && resume->event_lsn == 0 &&
                          resume->txid == 0 && resume->commit_lsn != 0;
  bool want_snapshot = false;
  switch (options_.snapshot_mode) {
    case SnapshotMode::kInitial:
    case SnapshotMode::kInitialOnly:
      want_snapshot = !slot_exists || partial_snapshot;
      break;
    case SnapshotMode::kNever:
      want_snapshot = false;
      break;
    case SnapshotMode::kAlways:
      want_snapshot = true;
      break;
  }
  if (options_.snapshot_mode == SnapshotMode::kInitialOnly && !want_snapshot) {
    spdlog::info(
        "postgres capture {}: snapshot_mode initial_only and slot {} exists: "
        "nothing to do",
        options_.name, options_.slot_name);
    phase_ = Phase::kDone;
    return OkStatus();
  }
  if (want_snapshot && slot_exists) {
    spdlog::warn(
        "postgres capture {}: dropping replication slot {} to take a new snapshot{}",
        options_.name, options_.slot_name,
        partial_snapshot ? " (the previous snapshot did not finish)" : "");
    TRIB_RETURN_IF_ERROR(sql_->QueryParams(
        "SELECT pg_catalog.pg_drop_replication_slot($1)", {options_.slot_name}));
    slot_exists = false;
  }
  if (options_.heartbeat_interval.count() > 0 && !options_.heartbeat_table.empty()) {
    TRIB_RETURN_IF_ERROR(EnsureHeartbeatTable());
  }
  TRIB_ASSIGN_OR_RETURN(repl_, repl_connecting.get());
  stream_slot_ = options_.slot_name;
  if (!slot_exists) {
    // A snapshot's slot is TEMPORARY until the downstream acknowledges the snapshot's end
    // (MakeSlotPermanent()); without a snapshot the permanent slot is created directly.
    if (want_snapshot) {
      stream_slot_ = TemporarySlotName();
    }
    std::string create =
        fmt::format("CREATE_REPLICATION_SLOT {} {}LOGICAL pgoutput {}",
                    QuoteIdentifier(stream_slot_), want_snapshot ? "TEMPORARY " : "",
                    want_snapshot ? "EXPORT_SNAPSHOT" : "NOEXPORT_SNAPSHOT");
    auto created = repl_->Query(create);
    if (!created.ok()) {
      return std::move(created).status().AddContext(
          fmt::format("creating replication slot {}", stream_slot_));
    }
    // Columns: slot_name, consistent_point, snapshot_name, output_plugin (§55.4).
    TRIB_ASSIGN_OR_RETURN(uint64_t consistent_point,
                          core::ParseLsn(Cell(*created, 0, 1)));
    spdlog::info("postgres capture {}: created {}replication slot {} at {}",
                 options_.name, want_snapshot ? "temporary " : "", stream_slot_,
                 core::FormatLsn(consistent_point));
    if (want_snapshot) {
      permanent_pending_ = true;
      return BeginSnapshot(Cell(*created, 0, 2), consistent_point);
    }
    start_lsn_ = consistent_point;
    acked_lsn_ = consistent_point;
    flush_lsn_ = consistent_point;
    emitted_lsn_ = consistent_point;
  }
  if (slot_exists) {
    // Streaming starts at the slot's confirmed position, not at the downstream's resume
    // position: that may lie inside a large transaction whose first batches are durable,
    // and the server skips every transaction whose commit record starts before the start
    // position, so starting at its commit LSN would lose the rest of it. Whatever the
    // slot replays up to the resume position is dropped by the assembler instead.
    // PostgreSQL 15 also sets confirmed_flush to whatever flush position a standby
    // reports, even an older one: never report less than the slot already has.
    auto confirmed = core::ParseLsn(Cell(slot, 0, 4));
    if (confirmed.ok()) {
      start_lsn_ = std::max(start_lsn_, *confirmed);
      acked_lsn_ = std::max(acked_lsn_, *confirmed);
      flush_lsn_ = std::max(flush_lsn_, *confirmed);
      emitted_lsn_ = std::max(emitted_lsn_, *confirmed);
    }
  }
  if (resume != nullptr) {
    assembler_->SetResumeAfter(resume->commit_lsn, resume->event_index);
    emitted_lsn_ = std::max(emitted_lsn_, resume->commit_lsn);
  }
  return StartStreaming();
}

std::string PostgresCapture::Impl::TemporarySlotName() const {
  // Unique per process, so that a temporary slot of a killed capture that the server has
  // not dropped yet cannot collide; at most 63 bytes of [a-z0-9_].
  std::string suffix = fmt::format("_snap_{}", static_cast<long>(getpid()));
  return options_.slot_name.substr(0, 63 - suffix.size()) + suffix;
}

std::string PostgresCapture::Impl::PendingSlotName() const {
  return options_.slot_name.substr(0, 63 - 8) + "_pending";
}

Status PostgresCapture::Impl::CopySlot(const std::string& from, const std::string& to) {
  TRIB_RETURN_IF_ERROR(EnsureSql());
  // The copy starts at the source's confirmed position, with its restart LSN and catalog
  // xmin, so it decodes exactly what the source would.
  auto copied = sql_->QueryParams(
      "SELECT pg_catalog.pg_copy_logical_replication_slot($1, $2, false)", {from, to});
  if (!copied.ok()) {
    return std::move(copied).status().AddContext(
        fmt::format("postgres capture {}: copying replication slot {} to {}",
                    options_.name, from, to));
  }
  return OkStatus();
}

Status PostgresCapture::Impl::DropSlotIfExists(const std::string& slot) {
  TRIB_RETURN_IF_ERROR(EnsureSql());
  auto dropped = sql_->QueryParams(
      "SELECT pg_catalog.pg_drop_replication_slot(slot_name) FROM "
      "pg_catalog.pg_replication_slots WHERE slot_name = $1",
      {slot});
  if (!dropped.ok()) {
    return std::move(dropped).status().AddContext(fmt::format(
        "postgres capture {}: dropping replication slot {}", options_.name, slot));
  }
  return OkStatus();
}

// "<slot>_pending" is a copy of the temporary snapshot slot made when the snapshot's last
// row has been read, before the downstream has acknowledged it. On the next start:
//   - next to the permanent slot, it is a leftover (a stop between the two steps of
//     MakeSlotPermanent()): dropped;
//   - alone, with a resume position at or past its consistent point that is not inside a
//     snapshot, the downstream made the snapshot durable but stopped before acknowledging
//     it: it becomes the permanent slot, and streaming goes on without a new snapshot;
//   - otherwise the snapshot is not durable downstream: dropped, and a snapshot is taken.
Status PostgresCapture::Impl::RecoverPendingSlot(const PostgresPosition* resume) {
  TRIB_ASSIGN_OR_RETURN(
      QueryResult slots,
      sql_->QueryParams("SELECT slot_name, confirmed_flush_lsn FROM "
                        "pg_catalog.pg_replication_slots WHERE slot_name IN ($1, $2)",
                        {options_.slot_name, PendingSlotName()}));
  bool permanent = false;
  std::optional<uint64_t> pending_point;
  for (size_t row = 0; row < slots.rows.size(); ++row) {
    if (Cell(slots, row, 0) == options_.slot_name) {
      permanent = true;
    } else if (!IsNull(slots, row, 1)) {
      auto lsn = core::ParseLsn(Cell(slots, row, 1));
      if (lsn.ok()) {
        pending_point = *lsn;
      }
    }
  }
  if (!pending_point) {
    return OkStatus();
  }
  bool durable = resume != nullptr && !(resume->event_lsn == 0 && resume->txid == 0) &&
                 resume->commit_lsn >= *pending_point;
  if (!permanent && durable) {
    TRIB_RETURN_IF_ERROR(CopySlot(PendingSlotName(), options_.slot_name));
    spdlog::info(
        "postgres capture {}: the downstream holds the snapshot taken at {}: "
        "replication slot {} created from {}",
        options_.name, core::FormatLsn(*pending_point), options_.slot_name,
        PendingSlotName());
  } else if (!permanent) {
    spdlog::warn(
        "postgres capture {}: the snapshot taken at {} was not acknowledged; "
        "taking a new one",
        options_.name, core::FormatLsn(*pending_point));
  }
  return DropSlotIfExists(PendingSlotName());
}

Status PostgresCapture::Impl::MakeSlotPermanent() {
  // The copy starts where the temporary slot's confirmed position is: the snapshot's
  // consistent point, as nothing later has been reported to it (SendStatus() reports
  // acknowledged positions only, and this runs at the first acknowledgement past it).
  TRIB_RETURN_IF_ERROR(CopySlot(stream_slot_, options_.slot_name));
  TRIB_RETURN_IF_ERROR(DropSlotIfExists(PendingSlotName()));
  spdlog::info(
      "postgres capture {}: snapshot acknowledged; replication slot {} created "
      "from temporary slot {} at {}",
      options_.name, options_.slot_name, stream_slot_,
      core::FormatLsn(consistent_point_));
  permanent_pending_ = false;
  stream_slot_ = options_.slot_name;
  if (phase_ == Phase::kStreaming) {
    // Move the stream to the permanent slot (closing the replication connection drops
    // the temporary slot) at once, so that the capture holds it from now on. A failed
    // attempt is retried by Poll() with backoff.
    DropConnection();
    backoff_ = options_.reconnect_backoff_initial;
    next_attempt_ = Clock::now();
    return Reconnect();
  } else {
    repl_.reset();
    connected_ = false;
  }
  return OkStatus();
}

Status PostgresCapture::Impl::EnsureHeartbeatTable() {
  TRIB_ASSIGN_OR_RETURN(TableSelection table, ParseTableName(options_.heartbeat_table));
  std::string qualified = QuoteQualified(table.schema, table.table);
  auto created =
      sql_->Exec("CREATE TABLE IF NOT EXISTS " + qualified +
                 " (slot_name text PRIMARY KEY, heartbeat_at timestamptz NOT NULL)");
  if (!created.ok() && !created.error().IsAlreadyExists()) {
    return std::move(created).WithContext(fmt::format(
        "postgres capture {}: creating heartbeat table {}", options_.name, qualified));
  }
  return OkStatus();
}

Status PostgresCapture::Impl::BeginSnapshot(const std::string& snapshot_name,
                                            uint64_t consistent_point) {
  consistent_point_ = consistent_point;
  TRIB_RETURN_IF_ERROR(sql_->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  TRIB_RETURN_IF_ERROR(
      sql_->Exec("SET TRANSACTION SNAPSHOT " + QuoteLiteral(snapshot_name)));
  TRIB_ASSIGN_OR_RETURN(snapshot_tables_, PublishedTables(true));
  snapshot_table_idx_ = 0;
  cursor_open_ = false;
  snapshot_index_ = 0;
  snapshot_time_us_ = NowUnixMicros();
  progress_tty_ = options_.snapshot_progress && isatty(STDERR_FILENO) == 1;
  uint64_t estimate = 0;
  for (const auto& table : snapshot_tables_) {
    estimate += table.estimate;
  }
  {
    std::lock_guard<std::mutex> lock(metrics_mutex_);
    metrics_.snapshot_running = true;
    metrics_.snapshot_rows = 0;
    metrics_.snapshot_rows_estimate = estimate;
  }
  spdlog::info("postgres capture {}: snapshot of {} tables at {} (about {} rows)",
               options_.name, snapshot_tables_.size(), core::FormatLsn(consistent_point),
               estimate);
  phase_ = Phase::kSnapshot;
  return OkStatus();
}

void PostgresCapture::Impl::SetSnapshotSource(ChangeEvent& event) const {
  event.commit_time_us = snapshot_time_us_;
  event.source.connector = core::Connector::kPostgres;
  event.source.version = "tributary";
  event.source.name = options_.name;
  event.source.lsn = static_cast<int64_t>(consistent_point_);
  event.processing_time_ns = NowUnixMicros() * 1000;
}

Result<ChangeBatch> PostgresCapture::Impl::SnapshotPoll() {
  ChangeBatch batch;
  batch.ends_transaction = false;
  while (batch.events.empty() && snapshot_table_idx_ < snapshot_tables_.size()) {
    SnapshotTable& table = snapshot_tables_[snapshot_table_idx_];
    if (!cursor_open_) {
      std::string select = "SELECT ";
      for (size_t column_idx = 0; column_idx < table.columns.size(); ++column_idx) {
        select +=
            (column_idx > 0 ? ", " : "") + QuoteIdentifier(table.columns[column_idx]);
      }
      if (table.columns.empty()) {
        select += "NULL";
      }
      select += " FROM ONLY " + QuoteQualified(table.schema, table.table);
      if (!table.row_filter.empty()) {
        select += " WHERE " + table.row_filter;
      }
      TRIB_RETURN_IF_ERROR(
          sql_->Exec("DECLARE trib_snapshot NO SCROLL CURSOR FOR " + select));
      cursor_open_ = true;
    }
    TRIB_ASSIGN_OR_RETURN(QueryResult rows,
                          sql_->Query(fmt::format("FETCH FORWARD {} FROM trib_snapshot",
                                                  options_.snapshot_fetch_rows)));
    if (rows.rows.empty()) {
      TRIB_RETURN_IF_ERROR(sql_->Exec("CLOSE trib_snapshot"));
      cursor_open_ = false;
      ++snapshot_table_idx_;
      continue;
    }
    const RelationInfo& relation = table.relation;
    for (auto& row : rows.rows) {
      core::Row values;
      values.reserve(row.size());
      for (size_t column_idx = 0; column_idx < row.size() && !table.columns.empty();
           ++column_idx) {
        if (!row[column_idx]) {
          values.push_back(core::Value::Null());
          continue;
        }
        auto value =
            internal::ParseTextValue(*relation.types[column_idx], *row[column_idx]);
        if (!value.ok()) {
          return std::move(value).status().AddContext(
              fmt::format("snapshot of {}.{}", relation.schema->id.ToString(),
                          relation.schema->columns[column_idx].name));
        }
        values.push_back(std::move(*value));
      }
      ChangeEvent event;
      event.op = core::Op::kRead;
      event.table = relation.schema->id;
      event.schema = relation.schema;
      event.after = std::move(values);
      event.position = PostgresPosition{consistent_point_, 0, 0, snapshot_index_};
      event.snapshot = snapshot_index_ == 0 ? core::SnapshotMarker::kFirst
                                            : core::SnapshotMarker::kTrue;
      ++snapshot_index_;
      SetSnapshotSource(event);
      // One event is held back so that the snapshot's last row can carry the completion
      // mark (event_lsn = consistent point, SnapshotMarker::kLast).
      if (held_event_) {
        batch.events.push_back(std::move(*held_event_));
      }
      held_event_ = std::move(event);
    }
    {
      std::lock_guard<std::mutex> lock(metrics_mutex_);
      metrics_.snapshot_rows = snapshot_index_;
    }
    if (progress_tty_) {
      uint64_t estimate = metrics().snapshot_rows_estimate;
      std::fprintf(
          stderr, "\rsnapshot %s: %llu rows%s", relation.schema->id.ToString().c_str(),
          static_cast<unsigned long long>(snapshot_index_),
          estimate > 0
              ? fmt::format(" of ~{} ({}%)", estimate,
                            std::min<uint64_t>(100, snapshot_index_ * 100 / estimate))
                    .c_str()
              : "");
      std::fflush(stderr);
    }
  }
  if (snapshot_table_idx_ < snapshot_tables_.size()) {
    return batch;
  }
  // Every table is read: mark the last row and hand over to streaming.
  if (held_event_) {
    held_event_->snapshot = core::SnapshotMarker::kLast;
    PostgresPosition last = *held_event_->position.postgres();
    last.event_lsn = consistent_point_;
    held_event_->position = last;
    batch.events.push_back(std::move(*held_event_));
    held_event_.reset();
  } else {
    // No table held a row: the end is still marked, so that downstream learns the
    // snapshot's tables are empty now (a snapshot taken again removes what an earlier
    // one wrote). The mark is a logical-decoding message, as Debezium carries them.
    ChangeEvent end;
    end.op = core::Op::kMessage;
    end.message = core::LogicalMessage{std::string(kSnapshotEndMessagePrefix), {}, false};
    end.position = PostgresPosition{consistent_point_, consistent_point_, 0, 0};
    end.snapshot = core::SnapshotMarker::kLast;
    SetSnapshotSource(end);
    batch.events.push_back(std::move(end));
  }
  batch.ends_transaction = true;
  batch.resume_position =
      PostgresPosition{consistent_point_, consistent_point_, 0, snapshot_index_};
  TRIB_RETURN_IF_ERROR(FinishSnapshot());
  return batch;
}

Status PostgresCapture::Impl::FinishSnapshot() {
  // The exported snapshot is no longer needed; the temporary slot stays until the
  // downstream acknowledges the snapshot (MakeSlotPermanent()). Its copy
  // "<slot>_pending" outlives a stop before that, for a downstream that made the snapshot
  // durable but could not acknowledge it (RecoverPendingSlot()).
  TRIB_RETURN_IF_ERROR(sql_->Exec("COMMIT"));
  TRIB_RETURN_IF_ERROR(CopySlot(stream_slot_, PendingSlotName()));
  if (progress_tty_) {
    std::fprintf(stderr, "\n");
  }
  {
    std::lock_guard<std::mutex> lock(metrics_mutex_);
    metrics_.snapshot_running = false;
  }
  spdlog::info("postgres capture {}: snapshot done, {} rows", options_.name,
               snapshot_index_);
  emitted_lsn_ = consistent_point_;
  start_lsn_ = consistent_point_;
  // The slot starts at the consistent point; acked_lsn_ waits for the downstream to make
  // the snapshot durable, so an idle keepalive cannot move the slot past it before then.
  flush_lsn_ = std::max(flush_lsn_, consistent_point_);
  assembler_->set_skip_lsn(consistent_point_);
  if (options_.snapshot_mode == SnapshotMode::kInitialOnly) {
    // repl_ keeps the temporary slot until the snapshot is acknowledged.
    phase_ = Phase::kDone;
    return OkStatus();
  }
  return StartStreaming();
}

Status PostgresCapture::Impl::StartStreaming() {
  std::string command = fmt::format(
      "START_REPLICATION SLOT {} LOGICAL {} (proto_version '{}', publication_names {}",
      QuoteIdentifier(stream_slot_), core::FormatLsn(std::max(start_lsn_, acked_lsn_)),
      options_.protocol_version,
      QuoteLiteral(QuoteIdentifier(options_.publication_name)));
  if (options_.logical_messages) {
    command += ", messages 'true'";
  }
  if (options_.streaming) {
    command += ", streaming 'on'";
  }
  command += ")";
  TRIB_RETURN_IF_ERROR(repl_->StartReplication(command));
  phase_ = Phase::kStreaming;
  connected_ = true;
  flush_lsn_ = std::max(flush_lsn_, acked_lsn_);
  last_status_ = Clock::now();
  last_heartbeat_ = Clock::now();
  {
    std::lock_guard<std::mutex> lock(metrics_mutex_);
    metrics_.connected = true;
  }
  spdlog::info("postgres capture {}: streaming slot {} from {}", options_.name,
               stream_slot_, core::FormatLsn(std::max(start_lsn_, acked_lsn_)));
  return OkStatus();
}

Status PostgresCapture::Impl::SendStatus(bool reply_requested) {
  if (repl_ == nullptr || !connected_) {
    return OkStatus();
  }
  uint64_t received = std::max(assembler_->received_lsn(), flush_lsn_);
  std::string message = EncodeStandbyStatusUpdate(received, flush_lsn_, flush_lsn_,
                                                  NowPostgresMicros(), reply_requested);
  last_status_ = Clock::now();
  status_dirty_ = false;
  return repl_->SendCopyData(message);
}

Status PostgresCapture::Impl::MaybeSendStatus(Clock::time_point now) {
  if (now - last_status_ >= options_.status_interval ||
      (status_dirty_ && now - last_status_ >= std::chrono::milliseconds(100))) {
    return SendStatus(false);
  }
  return OkStatus();
}

void PostgresCapture::Impl::MaybeHeartbeat(Clock::time_point now) {
  if (options_.heartbeat_interval.count() == 0 ||
      now - last_heartbeat_ < options_.heartbeat_interval) {
    return;
  }
  last_heartbeat_ = now;
  auto ok = EnsureSql();
  if (ok.ok()) {
    if (!options_.heartbeat_table.empty()) {
      auto table = ParseTableName(options_.heartbeat_table);  // checked by Validate()
      std::string qualified =
          table.ok() ? QuoteQualified(table->schema, table->table) : std::string();
      auto written = sql_->QueryParams(
          "INSERT INTO " + qualified +
              " (slot_name, heartbeat_at) VALUES ($1, now()) ON CONFLICT (slot_name) DO "
              "UPDATE SET heartbeat_at = excluded.heartbeat_at",
          {options_.slot_name});
      if (!written.ok()) {
        ok = std::move(written).status().AddContext("heartbeat table " + qualified);
      }
    } else if (!options_.heartbeat_action_query.empty()) {
      ok = sql_->Exec(options_.heartbeat_action_query);
    } else {
      ok = sql_->Exec(
          "SELECT pg_catalog.pg_logical_emit_message(false, 'tributary_heartbeat', "
          "now()::text)");
    }
  }
  if (!ok.ok()) {
    spdlog::warn("postgres capture {}: heartbeat failed: {}", options_.name,
                 ok.error().ToString());
    sql_.reset();
  }
}

Status PostgresCapture::Impl::HandleFrame(std::string_view frame) {
  TRIB_ASSIGN_OR_RETURN(ReplicationFrame decoded, DecodeReplicationFrame(AsBytes(frame)));
  if (auto* keepalive = std::get_if<PrimaryKeepalive>(&decoded)) {
    server_wal_end_ = std::max(server_wal_end_, keepalive->wal_end);
    // Nothing open and everything returned acknowledged: the slot may move to the
    // server's sent position, so an idle slot does not hold back WAL.
    caught_up_ = !assembler_->Busy();
    if (caught_up_) {
      idle_wal_end_ = std::max(idle_wal_end_, keepalive->wal_end);
    }
    if (caught_up_ && returned_lsn_ <= acked_lsn_ && keepalive->wal_end > flush_lsn_) {
      flush_lsn_ = keepalive->wal_end;
      status_dirty_ = true;
    }
    if (keepalive->reply_requested) {
      TRIB_RETURN_IF_ERROR(SendStatus(false));
    }
    return OkStatus();
  }
  const auto& data = std::get<XLogData>(decoded);
  server_wal_end_ = std::max(server_wal_end_, data.wal_end);
  caught_up_ = false;
  return assembler_->Feed(data.wal_start, data.data);
}

ChangeBatch PostgresCapture::Impl::NoteEmitted(ChangeBatch batch) {
  for (const auto& event : batch.events) {
    if (const auto* position = event.position.postgres()) {
      returned_lsn_ = std::max(returned_lsn_, position->commit_lsn);
    }
  }
  if (batch.ends_transaction) {
    if (const auto* position = batch.resume_position.postgres()) {
      emitted_lsn_ = std::max(emitted_lsn_, position->commit_lsn);
    }
  }
  {
    std::lock_guard<std::mutex> lock(metrics_mutex_);
    metrics_.events += batch.events.size();
  }
  UpdateMetrics();
  return batch;
}

void PostgresCapture::Impl::UpdateMetrics() {
  std::lock_guard<std::mutex> lock(metrics_mutex_);
  metrics_.connected = connected_;
  metrics_.server_wal_end = server_wal_end_;
  metrics_.received_lsn = assembler_ ? assembler_->received_lsn() : 0;
  metrics_.acknowledged_lsn = flush_lsn_;
  bool pending = assembler_ != nullptr && assembler_->Busy();
  if (caught_up_ && !pending) {
    metrics_.lag_bytes = 0;
    metrics_.lag_ms = 0;
  } else {
    metrics_.lag_bytes =
        server_wal_end_ > emitted_lsn_ ? server_wal_end_ - emitted_lsn_ : 0;
    int64_t last_commit = assembler_ ? assembler_->last_commit_time_us() : 0;
    metrics_.lag_ms = last_commit > 0
                          ? std::max<int64_t>(0, (NowUnixMicros() - last_commit) / 1000)
                          : 0;
  }
  if (assembler_) {
    metrics_.transactions = assembler_->transactions();
    metrics_.streamed_transactions = assembler_->streamed_transactions();
    metrics_.aborted_streams = assembler_->aborted_streams();
  }
}

Status PostgresCapture::Impl::HandleDisconnect(const Error& error) {
  spdlog::warn("postgres capture {}: replication connection lost: {}; reconnecting",
               options_.name, error.ToString());
  sql_.reset();
  DropConnection();
  backoff_ = backoff_.count() == 0
                 ? options_.reconnect_backoff_initial
                 : std::min(options_.reconnect_backoff_max, backoff_ * 2);
  next_attempt_ = Clock::now() + backoff_;
  {
    std::lock_guard<std::mutex> lock(metrics_mutex_);
    metrics_.connected = false;
  }
  return OkStatus();
}

void PostgresCapture::Impl::DropConnection() {
  repl_.reset();
  connected_ = false;
  assembler_->ResetConnectionState();
  // Every transaction fully received is returned (or being returned) already: the server
  // resends them after the reconnect, so they are dropped then. The one being returned
  // goes on from its buffer, hence the deferral.
  deferred_skip_lsn_ = std::max(
      {deferred_skip_lsn_.value_or(0), emitted_lsn_, assembler_->received_lsn()});
}

Status PostgresCapture::Impl::Reconnect() {
  auto connected = PgConnection::Connect(options_.dsn, true, options_.application_name,
                                         internal::kSessionOptions);
  Status status = OkStatus();
  if (connected.ok()) {
    repl_ = std::move(*connected);
    start_lsn_ = std::max(start_lsn_, acked_lsn_);
    status = StartStreaming();
  } else {
    status = std::move(connected).status();
  }
  if (status.ok()) {
    backoff_ = std::chrono::milliseconds(0);
    failed_attempts_ = 0;
    std::lock_guard<std::mutex> lock(metrics_mutex_);
    ++metrics_.reconnects;
    return OkStatus();
  }
  ++failed_attempts_;
  repl_.reset();
  // The old walsender may still hold the slot for a moment after a drop (kConflict).
  bool retry = status.error().IsRetryable();
  if (!retry || (options_.max_reconnect_attempts > 0 &&
                 failed_attempts_ >= options_.max_reconnect_attempts)) {
    return std::move(status).WithContext(
        fmt::format("reconnecting to slot {} after {} attempts", options_.slot_name,
                    failed_attempts_));
  }
  spdlog::info("postgres capture {}: reconnect attempt {} failed: {}", options_.name,
               failed_attempts_, status.error().ToString());
  backoff_ = std::min(options_.reconnect_backoff_max, backoff_ * 2);
  next_attempt_ = Clock::now() + backoff_;
  return OkStatus();
}

Result<ChangeBatch> PostgresCapture::Impl::StreamPoll(Clock::time_point deadline) {
  while (true) {
    if (assembler_->HasBatch()) {
      TRIB_ASSIGN_OR_RETURN(ChangeBatch batch, assembler_->NextBatch());
      if (connected_) {
        auto status = MaybeSendStatus();
        if (!status.ok()) {
          TRIB_RETURN_IF_ERROR(HandleDisconnect(status.error()));
        }
      }
      return NoteEmitted(std::move(batch));
    }
    if (deferred_skip_lsn_) {
      assembler_->set_skip_lsn(*deferred_skip_lsn_);
      deferred_skip_lsn_.reset();
    }
    if (!connected_) {
      auto now = Clock::now();
      if (now < next_attempt_) {
        std::this_thread::sleep_for(std::min(next_attempt_, deadline) - now);
        if (Clock::now() < next_attempt_) {
          return ChangeBatch{};
        }
      }
      TRIB_RETURN_IF_ERROR(Reconnect());
      if (!connected_) {
        if (Clock::now() >= deadline) {
          return ChangeBatch{};
        }
        continue;
      }
    }
    Status status = OkStatus();
    // Zero wait when the timers are not checked: ReadCopyData then returns only what is
    // already buffered, and the next round (after an empty read) checks them and waits.
    auto wait = std::chrono::milliseconds(0);
    if (!last_read_had_frame_ || ++frames_since_timer_check_ >= kFramesPerTimerCheck) {
      frames_since_timer_check_ = 0;
      auto now = Clock::now();
      status = MaybeSendStatus(now);
      if (status.ok()) {
        MaybeHeartbeat(now);
        if (now >= deadline) {
          UpdateMetrics();
          last_read_had_frame_ = false;
          return ChangeBatch{};
        }
        wait = std::min(
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now),
            std::chrono::milliseconds(500));
      }
    }
    if (status.ok()) {
      auto frame = repl_->ReadCopyData(wait);
      last_read_had_frame_ = frame.ok() && frame->has_value();
      if (frame.ok()) {
        if (*frame) {
          auto handled = HandleFrame(**frame);
          if (!handled.ok()) {
            if (!handled.error().IsRetryable()) {
              return std::move(handled).status().AddContext(fmt::format(
                  "postgres capture {} (slot {})", options_.name, options_.slot_name));
            }
            status = std::move(handled);
          }
        }
      } else {
        status = std::move(frame).status();
      }
    }
    if (!status.ok()) {
      if (!status.error().IsRetryable()) {
        return std::move(status).status();
      }
      TRIB_RETURN_IF_ERROR(HandleDisconnect(status.error()));
    }
  }
}

Result<ChangeBatch> PostgresCapture::Impl::Poll(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  switch (phase_) {
    case Phase::kCreated:
      return MakeError(ErrorCode::kInvalidArgument,
                       "postgres capture {}: Poll() before Start()", options_.name);
    case Phase::kClosed:
      return MakeError(ErrorCode::kCancelled, "postgres capture {} is closed",
                       options_.name);
    case Phase::kDone:
      return ChangeBatch{};
    case Phase::kSnapshot: {
      TRIB_ASSIGN_OR_RETURN(ChangeBatch batch, SnapshotPoll());
      return NoteEmitted(std::move(batch));
    }
    case Phase::kStreaming:
      return StreamPoll(deadline);
  }
  return ChangeBatch{};
}

Status PostgresCapture::Impl::Acknowledge(const SourcePosition& position) {
  const PostgresPosition* pg = position.postgres();
  if (pg == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "postgres capture {} cannot acknowledge position {}", options_.name,
                     position.ToString());
  }
  bool completes_snapshot = permanent_pending_ && pg->commit_lsn >= consistent_point_;
  if (pg->commit_lsn <= acked_lsn_ && !completes_snapshot) {
    return OkStatus();
  }
  acked_lsn_ = std::max(acked_lsn_, pg->commit_lsn);
  if (completes_snapshot) {
    TRIB_RETURN_IF_ERROR(MakeSlotPermanent());
  }
  if (acked_lsn_ > flush_lsn_) {
    flush_lsn_ = acked_lsn_;
    status_dirty_ = true;
  }
  if (phase_ == Phase::kStreaming && connected_) {
    auto status = MaybeSendStatus();
    if (!status.ok()) {
      TRIB_RETURN_IF_ERROR(HandleDisconnect(status.error()));
    }
  }
  UpdateMetrics();
  return OkStatus();
}

Status PostgresCapture::Impl::Close() {
  if (phase_ == Phase::kClosed) {
    return OkStatus();
  }
  if (phase_ == Phase::kStreaming && connected_ && repl_ != nullptr) {
    // Report the final flush position before hanging up.
    auto status = SendStatus(false);
    if (!status.ok()) {
      spdlog::debug("postgres capture {}: final status update failed: {}", options_.name,
                    status.error().ToString());
    }
  }
  repl_.reset();
  sql_.reset();
  connected_ = false;
  phase_ = Phase::kClosed;
  return OkStatus();
}

bool PostgresCapture::Impl::ReachedLsn(uint64_t lsn) {
  if (phase_ == Phase::kDone) {
    return true;
  }
  if (phase_ != Phase::kStreaming || assembler_->Busy()) {
    return false;
  }
  if (emitted_lsn_ >= lsn || idle_wal_end_ >= lsn) {
    return true;
  }
  // A Standby Status Update with the reply flag makes the walsender answer with a
  // keepalive carrying its sent position (§55.4).
  if (connected_ && Clock::now() - last_probe_ >= std::chrono::milliseconds(250)) {
    last_probe_ = Clock::now();
    auto status = SendStatus(true);
    if (!status.ok()) {
      static_cast<void>(HandleDisconnect(status.error()));
    }
  }
  return false;
}

Result<uint64_t> PostgresCapture::Impl::ServerWalLsn() {
  // The capture's own SQL connection: a new one costs a server backend start (~10 ms),
  // which `capture --once` on a small range would notice.
  TRIB_RETURN_IF_ERROR(EnsureSql());
  auto queried = sql_->Query("SELECT pg_current_wal_lsn()");
  if (!queried.ok()) {
    sql_.reset();  // reconnect next time
    return std::move(queried).status();
  }
  QueryResult result = std::move(*queried);
  if (result.rows.empty()) {
    return MakeError(ErrorCode::kInternal, "pg_current_wal_lsn() returned no row");
  }
  return core::ParseLsn(Cell(result, 0, 0));
}

Result<std::unique_ptr<PostgresCapture>> PostgresCapture::Create(
    PostgresCaptureOptions options) {
  TRIB_RETURN_IF_ERROR(options.Validate());
  return std::unique_ptr<PostgresCapture>(
      new PostgresCapture(std::make_unique<Impl>(std::move(options))));
}

PostgresCapture::PostgresCapture(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PostgresCapture::~PostgresCapture() = default;

std::string PostgresCapture::name() const {
  return impl_->name();
}
Status PostgresCapture::Start(const std::optional<core::SourcePosition>& resume_after) {
  return impl_->Start(resume_after);
}
Result<core::ChangeBatch> PostgresCapture::Poll(std::chrono::milliseconds timeout) {
  return impl_->Poll(timeout);
}
Status PostgresCapture::Acknowledge(const core::SourcePosition& position) {
  return impl_->Acknowledge(position);
}
Status PostgresCapture::Close() {
  return impl_->Close();
}
bool PostgresCapture::done() const {
  return impl_->done();
}
uint64_t PostgresCapture::emitted_lsn() const {
  return impl_->emitted_lsn();
}
Result<uint64_t> PostgresCapture::ServerWalLsn() {
  return impl_->ServerWalLsn();
}
bool PostgresCapture::ReachedLsn(uint64_t lsn) {
  return impl_->ReachedLsn(lsn);
}
PostgresCaptureMetrics PostgresCapture::metrics() const {
  return impl_->metrics();
}

}  // namespace tributary::capture::postgres

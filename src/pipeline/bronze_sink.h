#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/change_event.h"
#include "core/change_sink.h"
#include "core/change_source.h"
#include "core/position.h"
#include "core/result.h"
#include "lake/delta/schema.h"
#include "pipeline/metrics.h"
#include "sql/database.h"

namespace tributary::pipeline {

/// `bronze/all_events`: every change event as received.
///
/// Columns: source, source_table (partition), ingest_date (partition), topic, op,
/// key_json / value_json (Debezium JSON as the Kafka Connect JsonConverter writes it with
/// schemas.enable=false: the payload only), position (SourcePosition::ToString()),
/// position_lsn (the sortable numeric position: PostgreSQL commit LSN, else 0), event_index
/// (the event's index within its transaction or snapshot), commit_seq (source order within
/// a commit), txid, source_commit_ts, ingested_at, key_schema_id / value_schema_id (the
/// Connect schema of key_json / value_json in the registry `bronze/_schemas`,
/// bronze_schemas.h; ADR 0005). Rows written before ADR 0005 have null ids and hold
/// {"schema": ..., "payload": ...} inline; both forms replay with ReadBronzeVersion.
lake::delta::StructType BronzeSchema();

/// The `txn` appId of a source's bronze commits: "bronze:<source>" (ADR 0003).
std::string BronzeAppId(std::string_view source);

/// The commitInfo.operationParameters key holding the full resume position of a source
/// in a bronze commit (SourcePosition::ToString(), quoted as a JSON string).
std::string BronzeResumeParameter(std::string_view source);

/// The `txn.version` ADR 0003 assigns to a position: PostgreSQL commit LSN; other kinds
/// are not supported yet (kUnsupported).
Result<int64_t> PositionVersion(const core::SourcePosition& position);

/// One bronze row as written, with its decoded event when available.
struct BronzeRecord {
  core::ChangeEvent event;
  /// The row's key_json / value_json: Debezium JSON text of the event (the payload
  /// without its Connect schema; the {"schema", "payload"} form for rows written before
  /// ADR 0005). The records a BronzeSink commit hands on leave value_json empty when the
  /// event encoded (the row's text is that encoding again: BronzeValueJson); it holds the
  /// text when the record was read back from the table or the event could not be encoded.
  std::optional<std::string> key_json;
  std::string value_json;
};

/// `record`'s value_json as the bronze row holds it: the kept text, else the event
/// encoded again (Debezium JSON, schemas.enable=false, as BronzeSink wrote it). For the
/// rare rows that are copied on (quarantine, dead letters), so a commit does not keep a
/// second copy of every row's JSON.
std::string BronzeValueJson(const BronzeRecord& record);

/// What one bronze commit wrote.
struct BronzeCommit {
  int64_t version = -1;
  /// The events of the commit in source order. Empty with events_dropped when the commit
  /// held more events than BronzeOptions::max_events_kept: read them back from the table.
  std::vector<BronzeRecord> records;
  bool events_dropped = false;
  int64_t event_count = 0;
  /// The position to acknowledge to the source (the last whole transaction's resume
  /// position), empty when there is none.
  core::SourcePosition resume_position;
};

struct BronzeOptions {
  /// `<lake>/bronze/all_events`. Required.
  std::filesystem::path table_root;
  /// Source name (Debezium topic.prefix); names the txn appId. Required.
  std::string source;
  /// A commit is due when the buffered complete transactions reach any of these.
  /// Defaults: 10000 rows, 16 MiB of JSON, 50 ms after the first buffered event.
  int64_t max_rows = 10000;
  int64_t max_bytes = 16 * 1024 * 1024;
  std::chrono::milliseconds max_interval{50};
  /// Events kept in memory per commit for the silver stage; beyond it they are dropped
  /// and silver reads them back from bronze. Default: 200000.
  int64_t max_events_kept = 200000;
  /// delta.checkpointInterval of a new table. Default: 10.
  int64_t checkpoint_interval = 10;
  /// Wall clock, microseconds since the epoch: each row's ingested_at and ingest_date
  /// (its UTC day). Default: empty, the system clock. Tests set it to cross midnight.
  std::function<int64_t()> clock;
};

/// A core::ChangeSink that appends events to `bronze/all_events` (ADR 0003).
///
/// Steps:
///   1. Open() creates the table if missing and reads the source's durable position from
///      the newest bronze commit carrying it (txn version + the full position in
///      commitInfo). Replayed events at or before it are dropped by Write().
///   2. Write()/WriteBatch() encode each event as Debezium JSON (payload only; the id of
///      its Connect schema in its own columns) and stage the row, typed as the table's
///      columns, in an in-memory sql::RowBatch; the events are also kept in memory (up to
///      max_events_kept) for the silver stage.
///   3. CommitIfDue() / Commit() first append the Connect schemas the staged rows
///      reference that `bronze/_schemas` does not hold yet (ADR 0005: never a dangling
///      id), then append the staged whole transactions in source order in one Delta commit
///      (DuckDB reads the batch in place through a sql::BatchScan, one partition
///      (source_table, ingest_date) at a time: delta::WriteOptions::input_partitions)
///      with txn {appId "bronze:<source>", version = commit LSN} and the full resume
///      position in commitInfo; only then DurablePosition() advances. A transaction still
///      open (a ChangeBatch with ends_transaction false) stays staged.
/// Not thread-safe, except DurablePosition().
class BronzeSink : public core::ChangeSink {
 public:
  static Result<std::unique_ptr<BronzeSink>> Open(BronzeOptions options,
                                                  PipelineMetrics* metrics = nullptr);
  ~BronzeSink() override;

  /// The position to resume the source after (what bronze holds), or nullopt when this
  /// source never committed.
  std::optional<core::SourcePosition> ResumePosition() const;

  /// Stages one ChangeBatch from a ChangeSource (partial transactions allowed).
  Status WriteBatch(const core::ChangeBatch& batch);
  /// As above, moving the events into the records kept for silver instead of copying.
  Status WriteBatch(core::ChangeBatch&& batch);

  /// ChangeSink: the events form whole transactions.
  Status Write(std::span<const core::ChangeEvent> events) override;
  /// Commits every staged whole transaction (no-op when none).
  Status Flush() override;
  std::optional<core::SourcePosition> DurablePosition() const override;

  /// True when staged whole transactions reached a size or time limit
  /// (BronzeOptions::max_rows, max_bytes, max_interval).
  bool CommitDue() const;
  /// Changes BronzeOptions::max_interval from now on (the runner lengthens it while a
  /// backlog waits and shortens it again when caught up).
  void set_max_interval(std::chrono::milliseconds interval);
  /// Rows staged (complete and open transactions).
  int64_t staged_rows() const;
  /// Commits the staged whole transactions; nullopt when there were none.
  Result<std::optional<BronzeCommit>> Commit();

 private:
  class Impl;
  explicit BronzeSink(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Reads the rows of bronze version `version` (the files that commit added, in source
/// order) and decodes them: rows with schema ids with the schemas of the registry next
/// to `table_root` (LookupBronzeSchema, cached per id), rows without in the old inline
/// form. Rows that do not decode are returned in `undecodable` with the error (also a
/// schema id the registry does not hold). Errors: kNotFound (no such version), kIo,
/// DuckDB errors.
struct BronzeVersionRows {
  std::vector<BronzeRecord> records;
  struct Undecodable {
    std::string source;
    std::string source_table;
    std::string position;
    std::optional<std::string> key_json;
    std::string value_json;
    std::string error;
  };
  std::vector<Undecodable> undecodable;
};
Result<BronzeVersionRows> ReadBronzeVersion(sql::Connection& conn,
                                            const std::filesystem::path& table_root,
                                            int64_t version);

}  // namespace tributary::pipeline

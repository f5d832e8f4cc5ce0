#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/schema.h"
#include "lake/delta/snapshot.h"
#include "pipeline/bronze_sink.h"
#include "pipeline/metrics.h"
#include "pipeline/validation.h"

namespace tributary::pipeline {

/// How one source table becomes its silver table (config [[silver.tables]]).
struct SilverTableOptions {
  /// The source table, "schema.table" (TableId::ToString()). Required.
  std::string table;
  /// Only this source's table; empty: the table of that name in any source.
  std::string source;
  /// Silver table name. Default: derived (see SilverStage).
  std::string target;
  /// Key columns for a table without a primary key. Default: the source's primary key.
  std::vector<std::string> key;
  ValidationRules rules;
};

/// Small-file compaction settings (lake optimize), shared by every layer.
struct CompactionOptions {
  /// Compact a table when it has at least this many files smaller than small_file_bytes.
  /// 0 disables compaction. Default: 32 files, 16 MiB, into files of about 128 MiB.
  int64_t min_files = 32;
  int64_t small_file_bytes = 16 * 1024 * 1024;
  int64_t target_file_bytes = 128 * 1024 * 1024;
  /// Check a table every this many commits to it. Default: 8.
  int64_t check_every_commits = 8;
};

struct SilverOptions {
  /// `<lake>/silver`. Required.
  std::filesystem::path silver_root;
  /// `<lake>/bronze/all_events` (read when replaying). Required.
  std::filesystem::path bronze_root;
  std::vector<SilverTableOptions> tables;
  /// delta.checkpointInterval of new tables. Default: 10.
  int64_t checkpoint_interval = 10;
  CompactionOptions compaction;
  /// A progress-only commit (txn without rows) on silver/_dead_letter is written when
  /// this many bronze versions passed without one, so a restart replays little.
  /// Default: 50.
  int64_t progress_every_versions = 50;
  /// Whether Apply runs the maintenance that falls due itself: compaction checks of silver
  /// tables (every compaction.check_every_commits commits of a table) and progress
  /// commits. false: Apply only notes it, and the caller runs it with RunMaintenance()
  /// when no bronze commit is waiting, so that it does not delay the next commit; Apply
  /// still runs a step that has waited max_maintenance_delay_versions bronze versions (a
  /// caller that is never idle). Default: true. Fixed once the stage is open.
  bool maintain_in_apply = true;
  /// See maintain_in_apply. Default: 64.
  int64_t max_maintenance_delay_versions = 64;
};

/// The silver layer: one current-state Delta table per source table, plus
/// `_quarantine` (rows failing validation) and `_dead_letter` (undecodable events).
///
/// For each bronze version V, in order (Apply):
///   1. events are validated (failures -> quarantine) and grouped per silver table;
///   r/c/u/d
///      events without a usable key or schema go to the dead-letter table;
///   2. missing silver tables are created (properties record the source table, the
///      source name and V), all before any data commit of V, so a table never misses a
///      version it exists for; a table routed a change of a source its
///      kSourceNameProperty does not name gets, in a metadata-only commit, that source
///      (property unset: a table older than it) or kSeveralSources;
///   3. per table, changes collapse per key in source order (last wins; deletes remove; a
///      primary-key change deletes the old key; unavailable TOAST values take the
///      previous value from the batch or, in SQL, from the current silver row; truncate
///      empties the table); rows that cannot be applied become dead letters. Tables that
///      already have V are collapsed only while V's dead letters are not written yet;
///   4. quarantine rows (txn {kSilverAppId, V}), then dead letters (txn
///      {kDeadLetterAppId, V}) are committed first, each skipped when its table has V:
///      once a data table commits V, a replay skips it and could not recompute them;
///   5. per table whose position is below V: new source columns are added to the Delta
///      schema (nullable); then one Merge (or Overwrite after a truncate) commits the
///      rows with txn {kSilverAppId, V}. When V holds a snapshot's last row
///      (SnapshotMarker::kLast), every table of that source also deletes, in the same
///      commit (or a delete-only commit with that txn), the rows the snapshot did not
///      write: their _source_position lacks the snapshot's consistent point. A snapshot
///      taken again (snapshot_mode always, a lost slot, a restarted snapshot) so removes
///      rows deleted in the source meanwhile, however many bronze versions it spans and
///      wherever the pipeline was killed (a row the snapshot wrote carries its position).
///   6. every progress_every_versions versions (and on RecordProgress()), a progress-only
///      commit {kSilverAppId, V} on the dead-letter table; every
///      compaction.check_every_commits commits of a table, a compaction check (both left
///      to RunMaintenance() when maintain_in_apply is false).
/// A table's position is its txn version, or the version before it was created. On Open,
/// the stage's position is the smallest data and quarantine table position, at least the
/// progress marker (written only once V is fully applied); CatchUp() replays the bronze
/// versions after it from the bronze table.
///
/// Assumption: in bronze order, no streamed change of a source precedes the last row of
/// that source's snapshot (its rows' _source_position would lack the consistent-point
/// prefix, so the snapshot end would delete them). True for the in-process PostgreSQL
/// capture, which streams from the consistent point only after the snapshot; a path
/// reading changes from elsewhere (e.g. a future Kafka `process`) that can interleave
/// them would need a numeric LSN comparison (keep rows at or after the consistent
/// point) instead of the prefix test.
///
/// Silver table names: the configured target, else the source table name ("customer"),
/// else, when another source table already has that name, "<schema>__<table>".
/// Not thread-safe.
class SilverStage {
 public:
  static Result<std::unique_ptr<SilverStage>> Open(SilverOptions options,
                                                   PipelineMetrics* metrics = nullptr);
  ~SilverStage();

  /// The bronze version every silver table has applied; -1 when none.
  int64_t position() const;

  /// Replays bronze versions after position() up to `bronze_version` (inclusive) from the
  /// bronze table.
  Status CatchUp(int64_t bronze_version);

  /// Applies bronze version `version` whose records are given (in source order).
  /// Versions at or below a table's position are skipped for that table.
  Status Apply(int64_t version,
               const std::vector<BronzeRecord>& records,
               const std::vector<BronzeVersionRows::Undecodable>& undecodable = {});

  /// Applies a bronze commit: from memory, or read back from bronze when its events were
  /// not kept; first replays any versions between position() and it (another writer).
  Status ApplyCommit(const BronzeCommit& commit);

  /// Writes a progress-only commit if any version was applied since the last one.
  Status RecordProgress();

  /// Runs one step of the maintenance Apply left due (SilverOptions::maintain_in_apply
  /// false): the compaction check of the table that has waited longest (compacting it
  /// when it has compaction.min_files small files), else the progress commit. Returns
  /// whether a step ran: call it again while no commit is waiting until it returns
  /// false. A failed compaction is logged (checked again later), not an error; errors:
  /// those of RecordProgress.
  Result<bool> RunMaintenance();

  /// Whether RunMaintenance() has a step to run.
  bool maintenance_due() const;

  /// Silver table name -> source table, for the tables that exist.
  std::map<std::string, core::TableId> tables() const;

 private:
  class Impl;
  explicit SilverStage(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// The `txn` appId of silver commits: "silver:bronze".
inline constexpr std::string_view kSilverAppId = "silver:bronze";
/// Table property naming the source table of a silver table (TableId::ToString()).
inline constexpr std::string_view kSourceTableProperty = "tributary.source.table";
/// Table property: the bronze version at which the silver table was created.
inline constexpr std::string_view kCreatedAtProperty = "tributary.createdAtBronzeVersion";
/// Table property naming the capture source of a silver table (Debezium source.name),
/// whose snapshots replace the table's rows.
/// Set when the table is first routed a change if it lacks it (tables created before the
/// property existed).
inline constexpr std::string_view kSourceNameProperty = "tributary.source.name";
/// kSourceNameProperty of a table that several sources write (the same table name
/// captured by two sources): no snapshot end deletes from it.
inline constexpr std::string_view kSeveralSources = "*";
/// The `txn` appId of silver/_dead_letter commits holding dead letters:
/// "silver:dead_letter" (its kSilverAppId txn is the stage's progress marker).
inline constexpr std::string_view kDeadLetterAppId = "silver:dead_letter";

/// The latest snapshot of `table_root`, reading Parquet checkpoints through `conn`
/// (rather than a private DuckDB instance per load). Errors: as
/// lake::delta::Snapshot::Load.
Result<std::shared_ptr<const lake::delta::Snapshot>> LoadSnapshot(
    sql::Connection& conn, const std::filesystem::path& table_root);

/// Small-file compaction if due: runs lake Optimize when `table_root` holds at least
/// options.min_files files below options.small_file_bytes. Returns whether it compacted.
Result<bool> MaybeCompact(sql::Connection& conn,
                          const std::filesystem::path& table_root,
                          const CompactionOptions& options);

}  // namespace tributary::pipeline

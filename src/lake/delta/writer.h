#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "lake/delta/actions.h"
#include "lake/delta/commit.h"
#include "lake/delta/schema.h"
#include "lake/delta/snapshot.h"
#include "lake/parquet/parquet_writer.h"
#include "sql/database.h"

namespace tributary::lake::delta {

/// Writing Delta tables (PROTOCOL.md "Writer Requirements"): data comes in as a DuckDB
/// query on a sql::Connection, is written to Parquet by DuckDB (rows never pass through
/// C++), and is committed with put-if-absent and optimistic conflict checks (commit.h).
///
/// Every data-changing call:
///   1. loads the latest snapshot (from the process-wide writer cache, snapshot_cache.h:
///      the last snapshot this process loaded or committed, advanced by reading only the
///      newer commits) and checks that this writer supports the table's writer protocol
///      (unsupported writer features are kUnsupported, naming them);
///   2. checks the input's columns against the table schema (kInvalidArgument naming the
///      table, the column and both types);
///   3. writes new files `[<partition dir>/]part-NNNNN-<uuid>-c000.<codec>.parquet` with
///      per-file statistics ("Per-file Statistics") in every add;
///   4. commits remove + add (+ txn) in one commit; a failure before the commit leaves
///      only orphan data files (vacuum removes them), never a partial commit;
///   5. writes a checkpoint when the new version is a multiple of delta.checkpointInterval
///      (default 10), from the committed snapshot in memory.
///
/// Thread safety: functions are thread-safe for different connections; a connection is
/// used by one thread at a time (DuckDB's rule). Concurrent writers (threads or processes)
/// on one table are safe: a lost race is retried or fails with kConflict.

/// Table creation.
struct CreateTableOptions {
  /// Columns of the table. Required, non-empty.
  StructType schema;
  /// Partition columns (top-level, primitive, not binary), in directory order. Default: none.
  std::vector<std::string> partition_columns;
  /// metaData.configuration, e.g. {"delta.checkpointInterval", "10"},
  /// {"delta.enableInCommitTimestamps", "true"}, {"delta.appendOnly", "true"}.
  std::map<std::string, std::string> properties;
  std::optional<std::string> name;
  std::optional<std::string> description;
};

/// A column of a write's input query as DuckDB's DESCRIBE reports it.
struct InputColumn {
  std::string name;
  std::string type;  ///< DuckDB type name, e.g. "BIGINT", "VARCHAR", "DECIMAL(10,2)"
};

/// One partition of an input the caller has already split by partition
/// (WriteOptions::input_partitions).
struct InputPartition {
  /// The partition's value of every partition column of the table, keyed by column name
  /// (case-insensitive), serialized as PROTOCOL.md "Partition Value Serialization" says
  /// and as the writer itself would write it: std::nullopt for null, a date as
  /// "YYYY-MM-DD", a boolean as "true"/"false", a number in decimal, a string as is.
  PartitionValues values;
  /// Called before the partition's rows are written; afterwards the write's query must
  /// return exactly the rows of this partition (e.g. sql::BatchScan::SetRows). An error
  /// fails the write (nothing is committed) with this partition's context.
  std::function<Status()> select;
};

/// Options shared by writes.
struct WriteOptions {
  /// Parquet codec ("snappy" or "zstd") and row group size. Default: snappy.
  parquet::ParquetWriteOptions parquet;
  /// Split output into files of at most about this many rows (0: one file per partition
  /// per write). Default: 0.
  int64_t max_rows_per_file = 0;
  /// A `txn` action written in the same commit (PROTOCOL.md "Transaction Identifiers"):
  /// the caller's input position. lastUpdated is filled in when absent. Default: none.
  std::optional<SetTransaction> txn;
  /// Extra commitInfo.operationParameters. Default: none.
  std::map<std::string, std::string> operation_parameters;
  /// Retry budget of the commit (commit.h). Default: CommitOptions{}.
  CommitOptions commit;
  /// Write a checkpoint when the committed version is a multiple of the table's
  /// delta.checkpointInterval. Default: true.
  bool auto_checkpoint = true;
  /// The query returns the same rows each time it runs (it reads tables nothing changes
  /// during the write, no now()/random()). A write to a partitioned table then reads it
  /// once per partition, and Merge reads the staging query in place at each step
  /// (planning, rewrite, change data), instead of first copying it into a temporary
  /// table: worth it for a cheap query (e.g. a sql::BatchScan), not for a costly one.
  /// Wrong rows follow if this is set for a query that is not repeatable.
  /// Default: false.
  bool repeatable_input = false;
  /// The input query's columns in order, with the types DuckDB gives them (what
  /// `DESCRIBE <query>` would say). When set, Append, Overwrite and Merge check them
  /// against the table schema instead of running that DESCRIBE (one statement less per
  /// write). A declaration that does not match the query gives wrong casts or a query
  /// error. Default: empty (the query is described).
  std::vector<InputColumn> input_columns;
  /// The input split by partition, for Append and Overwrite on a partitioned table: one
  /// entry per group of rows to write, in the order the groups are written. For each
  /// entry the writer calls `select()`, then writes the rows the query returns (only its
  /// data columns: no DISTINCT over the partition values, no per-partition filter, no
  /// partition value expressions) to files of that entry's partition. The query must
  /// then return only rows whose partition columns hold those values: the writer does
  /// not check the rows, and a row of another partition is written to the wrong
  /// partition. The query is read once per entry whatever repeatable_input says; an
  /// entry may select no rows (no file is written for it). Errors (kInvalidArgument,
  /// naming the table and the column): the table is not partitioned; an entry misses a
  /// partition column, names a column that is not one, or holds a value that is not a
  /// serialized value of the column's type (dates, booleans, integers are checked);
  /// an entry has no `select`; Merge and DeleteWhere given any. Default: empty (the
  /// writer splits the rows itself).
  std::vector<InputPartition> input_partitions;
};

/// What a write did.
struct WriteResult {
  int64_t version = -1;  ///< committed version; -1 when nothing needed committing
  int64_t files_added = 0;
  int64_t files_removed = 0;
  int64_t rows_written = 0;   ///< rows in added files
  int64_t bytes_written = 0;  ///< bytes of added files
  int64_t bytes_removed = 0;  ///< bytes of removed files (the rewritten part of the table)
  int64_t rows_inserted = 0;  ///< merge: staging rows with no match
  int64_t rows_updated = 0;   ///< merge: matched staging rows not flagged deleted
  int64_t rows_deleted = 0;   ///< merge/delete: rows removed
  int64_t rows_copied = 0;    ///< rows rewritten unchanged
  int commit_attempts = 0;
  bool checkpoint_written = false;
  /// Why the checkpoint due after this commit failed, or why the log cleanup after it
  /// failed. The commit stands (a checkpoint only saves read time); callers log this.
  std::optional<std::string> checkpoint_problem;
};

/// Creates a new table at version 0 (protocol, metaData, commitInfo "CREATE TABLE") with
/// the lowest protocol its features need ((1,2) normally; timestamp_ntz columns and
/// in-commit timestamps need table features). Errors: kAlreadyExists if the table has a
/// commit; kInvalidArgument for a bad schema or partition column; kUnsupported for table
/// properties this writer cannot honour (column mapping, CHECK constraints, change data
/// feed together with deletion vectors). With delta.enableChangeDataFeed=true, deletes
/// and merges also write change data files (PROTOCOL.md "Change Data Files").
Result<int64_t> CreateTable(const std::filesystem::path& table_root,
                            const CreateTableOptions& options);

/// Appends the rows of `query` (a DuckDB SELECT on `conn`). A blind append: it never
/// conflicts with concurrent appends. Input columns are matched to table columns by name
/// (case-insensitive); missing nullable columns are written as null.
Result<WriteResult> Append(sql::Connection& conn, const std::filesystem::path& table_root,
                           std::string_view query, const WriteOptions& options = {});

/// Replaces all rows of the table with the rows of `query` (remove every live file, add the
/// new ones, one commit).
Result<WriteResult> Overwrite(sql::Connection& conn, const std::filesystem::path& table_root,
                              std::string_view query, const WriteOptions& options = {});

/// Deletes the rows matching `predicate` (a DuckDB SQL boolean expression over the table's
/// columns, e.g. `"id" IN (1, 2)`), rewriting only the files that contain such rows.
Result<WriteResult> DeleteWhere(sql::Connection& conn,
                                const std::filesystem::path& table_root,
                                std::string_view predicate, const WriteOptions& options = {});

/// Merge by key (upsert/delete) as copy-on-write.
struct MergeOptions {
  /// Key columns: at most one staging row per key (duplicates are kInvalidArgument).
  std::vector<std::string> key_columns;
  /// A BOOLEAN staging column: true deletes the key, false/null upserts the row. Not
  /// written to the table. Default: none (every staging row is an upsert).
  std::optional<std::string> delete_flag_column;
  WriteOptions write;
};

/// Applies the rows of `staging_query` by key: matched rows are replaced (or deleted when
/// flagged), unmatched non-deleted rows are inserted. Files are pruned with add stats
/// (min/max of the keys) and partition values, then scanned; only files containing a
/// matched key are rewritten (remove + add in one commit). Conflicts with concurrent
/// commits that touch the files it read or add data while it runs (not blind appends).
Result<WriteResult> Merge(sql::Connection& conn, const std::filesystem::path& table_root,
                          std::string_view staging_query, const MergeOptions& options);

/// The latest `txn.version` of `app_id` in the table's latest snapshot, or std::nullopt
/// when the app never committed (or the table does not exist yet).
Result<std::optional<int64_t>> ReadAppTransactionVersion(
    const std::filesystem::path& table_root, std::string_view app_id);

/// The minimal protocol for a table with `schema` and `properties`
/// (PROTOCOL.md "Protocol Evolution", "Table Features"). Errors: kUnsupported for
/// properties this writer does not implement.
Result<Protocol> MinimalProtocol(const StructType& schema,
                                 const std::map<std::string, std::string>& properties);

/// Checks that this writer can write to a table with this snapshot's protocol and
/// metadata. `removes_data`: whether the write removes rows (refused on append-only
/// tables). Errors: kUnsupported naming the feature; kInvalidArgument for append-only.
Status CheckWriteSupport(const Snapshot& snapshot, bool removes_data);

/// The DuckDB SQL type of a Delta type ("BIGINT", "DECIMAL(10,2)", "TIMESTAMPTZ",
/// "STRUCT(\"a\" INTEGER)", "VARCHAR[]", "MAP(VARCHAR, BIGINT)").
std::string DuckDbTypeOf(const DataType& type);

/// The `stats` JSON of an add for a written file (PROTOCOL.md "Per-file Statistics"):
/// numRecords, minValues/maxValues for primitive columns with footer statistics
/// (strings truncated to 32 characters, timestamps to milliseconds), nullCount.
std::string StatsJson(const parquet::ParquetFileInfo& file, const StructType& schema);

}  // namespace tributary::lake::delta

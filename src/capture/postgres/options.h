#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tributary::capture::postgres {

/// When the capture reads the captured tables' current rows (op "r") before streaming.
enum class SnapshotMode {
  /// When the replication slot is created (first start), and again when the downstream's
  /// resume position shows an interrupted snapshot. The default.
  kInitial,
  /// Never: stream changes from the slot only.
  kNever,
  /// Like kInitial, then stop: no streaming (done() turns true).
  kInitialOnly,
  /// On every start: the slot is dropped and re-created with a fresh exported snapshot.
  /// Rows deleted while the capture was stopped get no delete event (as with Debezium).
  kAlways,
};

/// "initial", "never", "initial_only", "always".
std::string_view SnapshotModeName(SnapshotMode mode);
/// Parses SnapshotModeName()'s forms. kInvalidArgument listing them otherwise.
Result<SnapshotMode> ParseSnapshotMode(std::string_view text);

/// One table to capture, with optional PostgreSQL 15 publication row filter and column
/// list (used only when the capture creates the publication; an existing publication's
/// filters and column lists are read from pg_publication_tables and respected by the
/// snapshot).
struct TableSelection {
  std::string schema = "public";
  std::string table;
  /// Columns to publish; empty = all.
  std::vector<std::string> columns;
  /// A boolean SQL expression over the table's columns (`WHERE (...)` of the
  /// publication); empty = every row.
  std::string row_filter;
};

/// Parses "schema.table" or "table" (schema public); double quotes keep dots and case.
/// kInvalidArgument on empty parts or unbalanced quotes.
Result<TableSelection> ParseTableName(std::string_view text);

/// Configuration of a PostgresCapture. None of the fields can change while it runs:
/// create a new capture instead.
struct PostgresCaptureOptions {
  /// libpq connection string (key=value or postgresql:// URI) of the database to capture.
  /// The role needs LOGIN and REPLICATION (or superuser), SELECT on the captured tables
  /// and, when the publication must be created, ownership of them (or CREATE on the
  /// database for FOR ALL TABLES as a superuser). Never logged. Required.
  std::string dsn;
  /// Logical server name: Debezium `topic.prefix`, the first part of topic names
  /// ("<name>.<schema>.<table>") and `source.name`. Default: "tributary".
  std::string name = "tributary";
  /// Logical replication slot (created if missing, with the pgoutput plugin).
  /// Default: "tributary".
  std::string slot_name = "tributary";
  /// Publication to stream (created if missing and create_publication).
  /// Default: "tributary".
  std::string publication_name = "tributary";
  /// Create the publication when it does not exist. When false, a missing publication is
  /// kNotFound. Default: true.
  bool create_publication = true;
  /// Tables for a created publication; empty = FOR ALL TABLES. Default: empty.
  std::vector<TableSelection> tables;
  /// Default: kInitial.
  SnapshotMode snapshot_mode = SnapshotMode::kInitial;
  /// Rows fetched per cursor round trip of the snapshot, and the most rows one Poll()
  /// returns from it: bounds snapshot memory. Default: 10000.
  size_t snapshot_fetch_rows = 10000;
  /// Draw a progress line on standard error while snapshotting, when it is a terminal.
  /// Default: true.
  bool snapshot_progress = true;
  /// pgoutput proto_version: 1, or 2 (streaming of large in-progress transactions).
  /// Default: 2.
  int protocol_version = 2;
  /// Ask the server to stream transactions larger than logical_decoding_work_mem before
  /// they commit (needs protocol_version 2). Streamed chunks are spilled to spill_dir and
  /// emitted on Stream Commit, dropped on Stream Abort. Default: true.
  bool streaming = true;
  /// Receive pg_logical_emit_message() messages as op "m" events. Default: true.
  bool logical_messages = true;
  /// Most events per ChangeBatch; a larger transaction is returned in several batches
  /// (ends_transaction false on all but the last). Default: 2000.
  size_t max_batch_events = 2000;
  /// Bytes of a transaction's pgoutput messages held in memory before the rest is spilled
  /// to a file in spill_dir. Default: 8 MiB.
  size_t max_transaction_memory = 8u << 20;
  /// Directory for spill files (created; files are removed when consumed). Empty: a
  /// "tributary-pg-<slot>" directory under the system temporary directory. Default:
  /// empty.
  std::filesystem::path spill_dir;
  /// How often a Standby Status Update is sent even when nothing changed; must be well
  /// under the server's wal_sender_timeout (60 s by default). Default: 10 s.
  std::chrono::milliseconds status_interval{10000};
  /// How often to write a heartbeat while streaming, so that the captured database has
  /// WAL of its own to decode and an idle slot's confirmed position keeps up with WAL
  /// written by other databases. The heartbeat is, in order of preference: an upsert into
  /// heartbeat_table, heartbeat_action_query, or a non-transactional logical message with
  /// prefix "tributary_heartbeat" (never emitted as an event). A failed heartbeat is
  /// logged and retried at the next interval. 0 = off. Default: 0 (off).
  std::chrono::milliseconds heartbeat_interval{0};
  /// Table the heartbeat upserts into ("schema.table" or "table"; double quotes keep dots
  /// and case): one row per slot, `(slot_name text PRIMARY KEY, heartbeat_at
  /// timestamptz)`, created by Start() when missing (needs CREATE on the schema). When
  /// the table is in the publication (FOR ALL TABLES includes it), its changes are
  /// captured like any other table's, as with Debezium's heartbeat.action.query. Empty:
  /// no table. Default: empty.
  std::string heartbeat_table;
  /// SQL run as the heartbeat instead of pg_logical_emit_message (e.g. an upsert into a
  /// table of your own). Not together with heartbeat_table. Default: empty.
  std::string heartbeat_action_query;
  /// First delay before reconnecting after the connection dropped; doubles per failure up
  /// to reconnect_backoff_max. Default: 200 ms / 10 s.
  std::chrono::milliseconds reconnect_backoff_initial{200};
  std::chrono::milliseconds reconnect_backoff_max{10000};
  /// Consecutive failed reconnects before Poll() returns the error. 0 = retry forever.
  /// Default: 0.
  int max_reconnect_attempts = 0;
  /// application_name of the connections (pg_stat_replication). Default: "tributary".
  std::string application_name = "tributary";

  /// Errors: kInvalidArgument naming the field.
  Status Validate() const;
};

}  // namespace tributary::capture::postgres

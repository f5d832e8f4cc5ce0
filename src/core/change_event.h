#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/position.h"
#include "core/result.h"
#include "core/schema.h"
#include "core/value.h"

namespace tributary::core {

/// What happened to a row. Debezium `op` codes: r, c, u, d, t, m.
enum class Op : uint8_t {
  kRead,      ///< "r": a row read by an initial or incremental snapshot
  kCreate,    ///< "c": insert
  kUpdate,    ///< "u": update
  kDelete,    ///< "d": delete
  kTruncate,  ///< "t": table truncated (no before/after)
  kMessage,   ///< "m": PostgreSQL logical decoding message (pg_logical_emit_message)
};

/// The Debezium op code: 'r', 'c', 'u', 'd', 't', 'm'.
char OpCode(Op op);
/// "read", "create", ... for logs.
std::string_view OpName(Op op);
/// Parses a Debezium op code ("c"). kInvalidArgument naming the text otherwise.
Result<Op> ParseOpCode(std::string_view code);

/// Debezium `source.snapshot` values (current set; 1.x used only true/last/false).
enum class SnapshotMarker : uint8_t {
  kFalse,
  kTrue,
  kFirst,
  kFirstInDataCollection,
  kLastInDataCollection,
  kLast,
  kIncremental,
};
/// "false", "true", "first", "first_in_data_collection", "last_in_data_collection",
/// "last", "incremental".
std::string_view SnapshotMarkerName(SnapshotMarker marker);
Result<SnapshotMarker> ParseSnapshotMarker(std::string_view text);

/// Which Debezium connector's conventions apply (source block fields, topic naming).
enum class Connector : uint8_t { kPostgres, kMysql };
/// "postgresql" / "mysql" (Debezium `source.connector`).
std::string_view ConnectorName(Connector connector);
Result<Connector> ParseConnectorName(std::string_view name);

/// Debezium's transaction block (`provide.transaction.metadata`).
struct TransactionInfo {
  /// PostgreSQL: "<txId>:<lsn>"; MySQL: the GTID or "file:pos" of the transaction.
  std::string id;
  /// 1-based position of the event among all events of the transaction.
  int64_t total_order = 0;
  /// 1-based position of the event among the transaction's events for this table.
  int64_t data_collection_order = 0;
  bool operator==(const TransactionInfo&) const = default;
};

/// A PostgreSQL logical decoding message (op kMessage), from pg_logical_emit_message.
struct LogicalMessage {
  std::string prefix;
  core::Bytes content;
  /// True when emitted inside a transaction (delivered at commit).
  bool transactional = true;
  bool operator==(const LogicalMessage&) const = default;
};

/// The Debezium `source` block fields that are not already elsewhere in ChangeEvent
/// (table names are in ChangeEvent::table, ts_* in commit_time_us, snapshot in
/// ChangeEvent::snapshot). Optional fields are written as null when unset; `origin` and
/// `origin_lsn` are left out when unset. The encoder writes exactly these fields:
/// captures fill the positional ones (lsn, txId, file, pos, row, server_id, gtid) from
/// their position with FillSourceFromPosition().
struct SourceInfo {
  Connector connector = Connector::kPostgres;
  /// Connector version, e.g. "3.0.1.Final" (Debezium) or tributary's own version.
  std::string version;
  /// Logical server name = Debezium `topic.prefix` (`source.name`).
  std::string name;
  /// `source.sequence`: PostgreSQL "[\"<last commit lsn>\",\"<lsn>\"]" (decimal LSNs as
  /// strings); MySQL null. Kept verbatim.
  std::optional<std::string> sequence;

  // PostgreSQL connector fields.
  std::optional<int64_t> txid;        ///< `txId`
  std::optional<int64_t> lsn;         ///< `lsn` (int64 in the JSON)
  std::optional<int64_t> xmin;        ///< `xmin`
  std::optional<int64_t> origin_lsn;  ///< `origin_lsn` (current main, optional)
  std::optional<std::string> origin;  ///< `origin` (current main, optional)

  // MySQL connector fields.
  std::optional<int64_t> server_id;
  std::optional<std::string> gtid;
  std::optional<std::string> file;
  std::optional<int64_t> pos;
  std::optional<int32_t> row;
  std::optional<int64_t> thread;
  std::optional<std::string> query;

  bool operator==(const SourceInfo&) const = default;
};

/// One row image: one Value per column of the event's TableSchema, in column order.
using Row = std::vector<Value>;

/// A change to one row (or a truncate or a logical message), as every capture source
/// emits it and every sink consumes it. Plain data, movable and copyable (the schema is
/// shared).
struct ChangeEvent {
  Op op = Op::kCreate;
  /// The source table. For kMessage events: empty unless the source names one.
  TableId table;
  /// The table's schema at the time of the change; never null for r/c/u/d events.
  std::shared_ptr<const TableSchema> schema;
  /// Row before the change: set for u (when the source has it) and d. Columns the source
  /// did not send (REPLICA IDENTITY DEFAULT keys-only, unchanged TOAST) are
  /// Value::Unavailable() or null as the source says.
  std::optional<Row> before;
  /// Row after the change: set for r, c, u.
  std::optional<Row> after;
  /// Where this event came from in the input it was read from: the WAL / binlog position
  /// for captured events, the Kafka record for events consumed from Kafka.
  /// Acknowledgement and ordering use it (DESIGN.md invariants 1 and 3).
  SourcePosition position;
  /// When the change was committed at the source, microseconds since the epoch (UTC)
  /// (Debezium `source.ts_us`; MySQL has second precision).
  int64_t commit_time_us = 0;
  /// Debezium transaction block; nullopt = null.
  std::optional<TransactionInfo> transaction;
  SnapshotMarker snapshot = SnapshotMarker::kFalse;
  /// Set for kMessage events only.
  std::optional<LogicalMessage> message;
  /// Debezium source block fields.
  SourceInfo source;
  /// When the event was processed by the connector (Debezium envelope `ts_ns`),
  /// nanoseconds since the epoch (UTC). 0 = unknown.
  int64_t processing_time_ns = 0;

  /// Debezium's topic name: "<prefix>.<schema>.<table>" for PostgreSQL,
  /// "<prefix>.<db>.<table>" for MySQL, where prefix = source.name.
  std::string Topic() const;

  /// The primary-key values from `after` (or `before` for deletes), in key order.
  /// kInvalidArgument when the schema has no primary key or the row is missing.
  Result<Row> KeyValues() const;

  /// Multi-line readable dump for tests and errors.
  std::string ToString() const;

  /// Compares every field; schemas by value.
  bool operator==(const ChangeEvent& other) const;
  bool operator!=(const ChangeEvent& other) const { return !(*this == other); }
};

std::ostream& operator<<(std::ostream& out, const ChangeEvent& event);

/// Sets the positional source fields from `event.position`: for a PostgresPosition
/// `lsn` = event_lsn (or commit_lsn when event_lsn is 0) and `txId` = txid (when
/// non-zero); for a MysqlPosition `file`, `pos`, `row`, `server_id` and `gtid` (when
/// non-empty). Sets `source.connector` accordingly. Other kinds leave the event
/// unchanged.
void FillSourceFromPosition(ChangeEvent& event);

}  // namespace tributary::core

#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/result.h"

namespace tributary::core {

/// Formats a PostgreSQL LSN the way PostgreSQL 15 prints pg_lsn: upper-case hex of the
/// high and low 32 bits, "16/B374D848" (no zero padding, as `%X/%X`).
std::string FormatLsn(uint64_t lsn);

/// "pg:<commit lsn>:", how SourcePosition::ToString() of every PostgreSQL position of the
/// transaction committed at `commit_lsn` starts (the rows of one commit share it).
std::string PostgresPositionPrefix(uint64_t commit_lsn);

/// Parses "X/X" (1-8 hex digits each side, either case; zero-padded "0/0000A0B8" too).
/// kInvalidArgument naming the text otherwise.
Result<uint64_t> ParseLsn(std::string_view text);

/// Where a change sits in a PostgreSQL WAL stream. Ordered by (commit_lsn, event_index),
/// then event_lsn and txid: every event of a transaction shares its commit LSN, and the
/// commit LSN is the resume point (DESIGN.md "Positions").
struct PostgresPosition {
  /// End LSN of the transaction's Commit message (pgoutput Commit.end_lsn); for snapshot
  /// reads, the LSN the snapshot was taken at (the slot's consistent point).
  uint64_t commit_lsn = 0;
  /// LSN of this change's WAL record (pgoutput XLogData start). 0 if unknown.
  uint64_t event_lsn = 0;
  /// Transaction id (xid; Debezium `txId`). 0 if unknown.
  uint64_t txid = 0;
  /// 0-based index of the event within its transaction (or snapshot).
  uint64_t event_index = 0;

  std::strong_ordering operator<=>(const PostgresPosition& other) const;
  bool operator==(const PostgresPosition& other) const = default;
};

/// Where a change sits in a MySQL/MariaDB binlog. Ordered by (binlog file sequence
/// number, pos, row), then the file name, server_id and gtid for a total order.
struct MysqlPosition {
  /// Binlog file name, e.g. "mysql-bin.000003". Files are ordered by their numeric
  /// extension, so "bin.1000000" sorts after "bin.999999".
  std::string file;
  /// Byte offset in `file` (Debezium `pos`: the start of the event, or for resume the end
  /// of the last complete transaction).
  uint64_t pos = 0;
  /// 0-based row index within the rows event (Debezium `row`).
  uint32_t row = 0;
  /// Server that wrote the event (Debezium `server_id`).
  uint32_t server_id = 0;
  /// GTID of the transaction ("3E11FA47-71CA-11E1-9E33-C80AA9429562:23" or MariaDB
  /// "0-1-100"); empty when GTIDs are off.
  std::string gtid;

  std::strong_ordering operator<=>(const MysqlPosition& other) const;
  bool operator==(const MysqlPosition& other) const = default;
};

/// A Kafka record's place: ordered by (topic, partition, offset).
struct KafkaPosition {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;

  std::strong_ordering operator<=>(const KafkaPosition& other) const = default;
  bool operator==(const KafkaPosition& other) const = default;
};

/// One of the above, or none (a default-constructed position). Positions of the same kind
/// have a total order; positions of different kinds are unordered.
class SourcePosition {
 public:
  enum class Kind : uint8_t { kNone, kPostgres, kMysql, kKafka };

  SourcePosition() = default;
  SourcePosition(PostgresPosition p) : data_(p) {}  // NOLINT(google-explicit-constructor)
  SourcePosition(MysqlPosition p)
      : data_(std::move(p)) {}  // NOLINT(google-explicit-constructor)
  SourcePosition(KafkaPosition p)
      : data_(std::move(p)) {}  // NOLINT(google-explicit-constructor)

  Kind kind() const { return static_cast<Kind>(data_.index()); }
  bool empty() const { return kind() == Kind::kNone; }

  /// nullptr when the position is of another kind.
  const PostgresPosition* postgres() const {
    return std::get_if<PostgresPosition>(&data_);
  }
  const MysqlPosition* mysql() const { return std::get_if<MysqlPosition>(&data_); }
  const KafkaPosition* kafka() const { return std::get_if<KafkaPosition>(&data_); }

  /// The stable string form, which Parse() reads back exactly:
  ///   ""                                             (none)
  ///   "pg:16/B374D848:16/B374D800:604:3"              (commit_lsn:event_lsn:txid:index)
  ///   "mysql:mysql-bin.000003:1041:0:223344:<gtid>"  (file:pos:row:server_id:gtid)
  ///   "kafka:0:42:<topic>"                            (partition:offset:topic)
  /// The last field takes the rest of the string, so GTIDs and topics may contain ':'.
  /// Binlog file names must not contain ':'.
  std::string ToString() const;
  /// Reads ToString()'s form. kInvalidArgument naming the text on anything else.
  static Result<SourcePosition> Parse(std::string_view text);

  /// Unordered when the kinds differ; `none` equals only `none`.
  std::partial_ordering operator<=>(const SourcePosition& other) const;
  bool operator==(const SourcePosition& other) const = default;

 private:
  std::variant<std::monostate, PostgresPosition, MysqlPosition, KafkaPosition> data_;
};

/// The numeric sequence of a binlog file name ("mysql-bin.000003" -> 3), or nullopt when
/// the name has no numeric extension.
std::optional<uint64_t> BinlogFileSequence(std::string_view file);

}  // namespace tributary::core

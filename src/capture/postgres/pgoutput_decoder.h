#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"

namespace tributary::capture::postgres {

// Messages of the pgoutput plugin, as specified in PostgreSQL 15 docs §55.9 "Logical
// Replication Message Formats" (protocol-logicalrep-message-formats.html), and the
// replication-protocol frames around them, §55.4 "Streaming Replication Protocol"
// (protocol-replication.html). LSNs are uint64_t WAL positions; timestamps are
// microseconds since the PostgreSQL epoch 2000-01-01 00:00:00 UTC, as on the wire.

/// One column of a TupleData (§55.9, "TupleData"). `data` borrows the bytes of the
/// decoded message: the message buffer must outlive it.
struct TupleColumn {
  enum class Kind : char {
    kNull = 'n',            ///< SQL NULL
    kUnchangedToast = 'u',  ///< an unchanged TOASTed value the server did not send
    kText = 't',            ///< `data` is the type's text output
    kBinary = 'b',          ///< `data` is the type's binary send format
  };
  Kind kind = Kind::kNull;
  std::string_view data;
};

using TupleData = std::vector<TupleColumn>;

/// 'B': a non-streamed transaction starts.
struct BeginMessage {
  uint64_t final_lsn = 0;  ///< the LSN of the commit record
  int64_t commit_time_us = 0;
  uint32_t xid = 0;
};

/// 'C': a non-streamed transaction committed.
struct CommitMessage {
  uint8_t flags = 0;
  uint64_t commit_lsn = 0;  ///< the LSN of the commit record
  uint64_t end_lsn = 0;     ///< the end of the commit record: the resume position
  int64_t commit_time_us = 0;
};

/// 'O': the transaction was replicated from another node.
struct OriginMessage {
  uint64_t origin_lsn = 0;
  std::string name;
};

/// One column of a Relation message.
struct RelationColumn {
  bool is_key = false;  ///< flag bit 1: part of the replica identity key
  std::string name;
  uint32_t type_oid = 0;
  int32_t type_modifier = -1;  ///< atttypmod, -1 when none
};

/// 'R': the schema of a relation, sent before its first change and after any change to it.
struct RelationMessage {
  std::optional<uint32_t> xid;  ///< present only inside a streamed transaction
  uint32_t relation_id = 0;
  std::string namespace_name;  ///< empty for pg_catalog
  std::string relation_name;
  /// relreplident: 'd' default (primary key), 'n' nothing, 'f' full, 'i' index.
  char replica_identity = 'd';
  std::vector<RelationColumn> columns;
};

/// 'Y': a non-builtin type used by a following Relation.
struct TypeMessage {
  std::optional<uint32_t> xid;
  uint32_t type_oid = 0;
  std::string namespace_name;  ///< empty for pg_catalog
  std::string type_name;
};

/// 'I'
struct InsertMessage {
  std::optional<uint32_t> xid;
  uint32_t relation_id = 0;
  TupleData new_tuple;
};

/// 'U'. `old_kind` is 'K' when `old_tuple` holds only the replica identity key columns
/// (the key changed), 'O' when it holds the whole old row (REPLICA IDENTITY FULL), and 0
/// when no old tuple was sent.
struct UpdateMessage {
  std::optional<uint32_t> xid;
  uint32_t relation_id = 0;
  char old_kind = 0;
  TupleData old_tuple;
  TupleData new_tuple;
};

/// 'D'. `old_kind` is 'K' (key columns only, others NULL) or 'O' (whole row).
struct DeleteMessage {
  std::optional<uint32_t> xid;
  uint32_t relation_id = 0;
  char old_kind = 'K';
  TupleData old_tuple;
};

/// 'T'
struct TruncateMessage {
  std::optional<uint32_t> xid;
  bool cascade = false;           ///< option bit 1
  bool restart_identity = false;  ///< option bit 2
  std::vector<uint32_t> relation_ids;
};

/// 'M': pg_logical_emit_message(), when the `messages` option is on.
struct LogicalMessage {
  std::optional<uint32_t> xid;
  bool transactional = false;
  uint64_t lsn = 0;
  std::string prefix;
  std::string content;
};

/// 'S' (protocol version 2): a chunk of an in-progress transaction follows.
struct StreamStartMessage {
  uint32_t xid = 0;
  bool first_segment = false;
};

/// 'E' (protocol version 2): the current chunk ended.
struct StreamStopMessage {};

/// 'c' (protocol version 2): the streamed transaction `xid` committed.
struct StreamCommitMessage {
  uint32_t xid = 0;
  uint8_t flags = 0;
  uint64_t commit_lsn = 0;
  uint64_t end_lsn = 0;
  int64_t commit_time_us = 0;
};

/// 'A' (protocol version 2): the streamed (sub)transaction aborted; `subxid == xid` means
/// the whole transaction, otherwise only that subtransaction's changes are void.
struct StreamAbortMessage {
  uint32_t xid = 0;
  uint32_t subxid = 0;
};

using PgOutputMessage =
    std::variant<BeginMessage, CommitMessage, OriginMessage, RelationMessage, TypeMessage,
                 InsertMessage, UpdateMessage, DeleteMessage, TruncateMessage,
                 LogicalMessage, StreamStartMessage, StreamStopMessage,
                 StreamCommitMessage, StreamAbortMessage>;

/// An Insert ('I'), Update ('U') or Delete ('D') message, for the hot path that decodes
/// one per row change: DecodeRowChange() reuses the tuple vectors of the same RowChange
/// from message to message, and the columns borrow the message bytes.
struct RowChange {
  char type = 0;                ///< 'I', 'U' or 'D'
  std::optional<uint32_t> xid;  ///< present only inside a streamed transaction
  uint32_t relation_id = 0;
  /// 'K' (key columns only) or 'O' (whole old row) when an old tuple was sent, else 0.
  char old_kind = 0;
  TupleData old_tuple;  ///< empty when old_kind is 0
  TupleData new_tuple;  ///< empty for 'D'
};

/// Decodes an Insert, Update or Delete message into `out` (§55.9), as
/// PgOutputDecoder::Decode() / DecodeStreamed() would (`streamed`: the message carries
/// the streamed-transaction xid). The columns borrow `message`. Errors: kCorruption for a
/// truncated or malformed message (naming the field), kInvalidArgument when the message
/// is not 'I', 'U' or 'D'.
Status DecodeRowChange(std::span<const uint8_t> message, bool streamed, RowChange& out);

/// The xid a message carries inside a streamed transaction, if any.
std::optional<uint32_t> StreamedXid(const PgOutputMessage& message);

/// The one-letter message type ('B', 'I', ...) of a decoded message.
char MessageTypeByte(const PgOutputMessage& message);

/// Decodes pgoutput messages (protocol versions 1 and 2). Stateful only in one respect:
/// inside a Stream Start .. Stream Stop block, data messages carry an extra leading xid
/// (§55.9: "Xid of the transaction (only present for streamed transactions)"), so the
/// decoder remembers whether a block is open. Not thread-safe.
class PgOutputDecoder {
 public:
  /// `protocol_version` is the proto_version passed to START_REPLICATION (1 or 2).
  explicit PgOutputDecoder(int protocol_version = 2) : protocol_version_(protocol_version) {}

  /// Decodes one message (the payload of one XLogData frame).
  /// Errors: kCorruption for a truncated or malformed message (naming the message type and
  /// field), kUnsupported for a message type this protocol version does not define (such as
  /// the two-phase messages of version 3).
  Result<PgOutputMessage> Decode(std::span<const uint8_t> message);

  /// Decodes a data message that was recorded inside a stream block, regardless of the
  /// current block state (replay of spilled streamed transactions).
  Result<PgOutputMessage> DecodeStreamed(std::span<const uint8_t> message);

  bool in_stream_block() const { return in_stream_block_; }
  /// Forgets the block state (after a reconnect, the server starts outside any block).
  void Reset() { in_stream_block_ = false; }

 private:
  Result<PgOutputMessage> DecodeImpl(std::span<const uint8_t> message, bool streamed);

  int protocol_version_;
  bool in_stream_block_ = false;
};

/// A frame of the streaming replication protocol inside CopyData (§55.4).
/// 'w' XLogData: WAL data (here: one pgoutput message).
struct XLogData {
  uint64_t wal_start = 0;     ///< the start of the data in the WAL (for pgoutput: the
                              ///< LSN of the change, or 0 for some messages)
  uint64_t wal_end = 0;       ///< the current end of WAL on the server
  int64_t server_time_us = 0;
  std::span<const uint8_t> data;  ///< borrowed from the frame
};

/// 'k' Primary keepalive message.
struct PrimaryKeepalive {
  uint64_t wal_end = 0;  ///< the current end of WAL on the server
  int64_t server_time_us = 0;
  bool reply_requested = false;
};

using ReplicationFrame = std::variant<XLogData, PrimaryKeepalive>;

/// Decodes one CopyData payload sent by a walsender. The XLogData span borrows `frame`.
/// Errors: kCorruption for a truncated frame or an unknown frame type.
Result<ReplicationFrame> DecodeReplicationFrame(std::span<const uint8_t> frame);

/// Encodes a Standby Status Update ('r', §55.4): the positions are "the location of the
/// last WAL byte + 1" received, flushed and applied; `client_time_us` is microseconds since
/// 2000-01-01 UTC.
std::string EncodeStandbyStatusUpdate(uint64_t written_lsn,
                                      uint64_t flushed_lsn,
                                      uint64_t applied_lsn,
                                      int64_t client_time_us,
                                      bool reply_requested);

}  // namespace tributary::capture::postgres

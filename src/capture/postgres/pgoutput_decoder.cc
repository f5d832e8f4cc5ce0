#include "capture/postgres/pgoutput_decoder.h"

#include <utility>

#include "capture/postgres/internal/wire.h"

namespace tributary::capture::postgres {

using internal::WireReader;
using internal::WireWriter;

namespace {

// §55.9 "TupleData": Int16 column count, then per column a kind byte and, for 't' and 'b',
// an Int32 length and that many bytes. Runs once per row image: a hand-rolled loop over
// the bytes (one bounds check per field, no Result per field), appending to `tuple`
// (cleared first, its capacity kept) columns that borrow the message bytes.
Status ReadTupleDataInto(WireReader& reader, TupleData& tuple) {
  tuple.clear();
  std::span<const uint8_t> bytes = reader.Peek();
  const size_t size = bytes.size();
  if (size < 2) {
    return MakeError(ErrorCode::kCorruption,
                     "truncated message: TupleData column count needs 2 bytes at offset {} "
                     "but only {} remain",
                     reader.position(), size);
  }
  int16_t column_count = static_cast<int16_t>((bytes[0] << 8) | bytes[1]);
  if (column_count < 0) {
    return MakeError(ErrorCode::kCorruption, "TupleData has a negative column count {}",
                     column_count);
  }
  tuple.reserve(static_cast<size_t>(column_count));
  size_t pos = 2;
  for (int16_t column_idx = 0; column_idx < column_count; ++column_idx) {
    if (pos >= size) {
      return MakeError(ErrorCode::kCorruption,
                       "truncated message: TupleData column kind needs 1 bytes at offset {} "
                       "but only 0 remain",
                       reader.position() + pos);
    }
    uint8_t kind = bytes[pos++];
    switch (kind) {
      case 'n':
        tuple.push_back(TupleColumn{TupleColumn::Kind::kNull, {}});
        break;
      case 'u':
        tuple.push_back(TupleColumn{TupleColumn::Kind::kUnchangedToast, {}});
        break;
      case 't':
      case 'b': {
        if (size - pos < 4) {
          return MakeError(ErrorCode::kCorruption,
                           "truncated message: TupleData value length needs 4 bytes at "
                           "offset {} but only {} remain",
                           reader.position() + pos, size - pos);
        }
        int32_t length = static_cast<int32_t>(
            (static_cast<uint32_t>(bytes[pos]) << 24) |
            (static_cast<uint32_t>(bytes[pos + 1]) << 16) |
            (static_cast<uint32_t>(bytes[pos + 2]) << 8) | static_cast<uint32_t>(bytes[pos + 3]));
        pos += 4;
        if (length < 0) {
          return MakeError(ErrorCode::kCorruption,
                           "TupleData column {} has a negative length {}", column_idx,
                           length);
        }
        if (size - pos < static_cast<size_t>(length)) {
          return MakeError(ErrorCode::kCorruption,
                           "truncated message: TupleData value needs {} bytes at offset {} "
                           "but only {} remain",
                           length, reader.position() + pos, size - pos);
        }
        tuple.push_back(TupleColumn{
            kind == 't' ? TupleColumn::Kind::kText : TupleColumn::Kind::kBinary,
            std::string_view(reinterpret_cast<const char*>(bytes.data() + pos),
                             static_cast<size_t>(length))});
        pos += static_cast<size_t>(length);
        break;
      }
      default:
        return MakeError(ErrorCode::kCorruption,
                         "TupleData column {} has unknown kind byte 0x{:02x}", column_idx,
                         kind);
    }
  }
  reader.Skip(pos);
  return OkStatus();
}

Result<std::optional<uint32_t>> ReadStreamXid(WireReader& reader, bool streamed) {
  if (!streamed) {
    return std::optional<uint32_t>();
  }
  TRIB_ASSIGN_OR_RETURN(uint32_t xid, reader.ReadUInt32("streamed transaction xid"));
  return std::optional<uint32_t>(xid);
}

// The body of an Insert, Update or Delete message (after the type byte), §55.9.
Status ReadRowChangeBody(WireReader& reader, char type, bool streamed, RowChange& out) {
  if (type != 'I' && type != 'U' && type != 'D') {
    return MakeError(ErrorCode::kInvalidArgument,
                     "pgoutput message '{}' is not an Insert, Update or Delete",
                     type >= 0x20 && type < 0x7f ? type : '?');
  }
  out.type = type;
  out.old_kind = 0;
  out.old_tuple.clear();
  out.new_tuple.clear();
  TRIB_ASSIGN_OR_RETURN(out.xid, ReadStreamXid(reader, streamed));
  switch (type) {
    case 'I': {  // Insert
      TRIB_ASSIGN_OR_RETURN(out.relation_id, reader.ReadUInt32("Insert relation id"));
      TRIB_ASSIGN_OR_RETURN(uint8_t marker, reader.ReadUInt8("Insert tuple marker"));
      if (marker != 'N') {
        return MakeError(ErrorCode::kCorruption,
                         "Insert for relation {} has tuple marker 0x{:02x}, expected 'N'",
                         out.relation_id, marker);
      }
      return ReadTupleDataInto(reader, out.new_tuple);
    }
    case 'U': {  // Update
      TRIB_ASSIGN_OR_RETURN(out.relation_id, reader.ReadUInt32("Update relation id"));
      TRIB_ASSIGN_OR_RETURN(uint8_t marker, reader.ReadUInt8("Update tuple marker"));
      if (marker == 'K' || marker == 'O') {
        out.old_kind = static_cast<char>(marker);
        TRIB_RETURN_IF_ERROR(ReadTupleDataInto(reader, out.old_tuple));
        TRIB_ASSIGN_OR_RETURN(marker, reader.ReadUInt8("Update new tuple marker"));
      }
      if (marker != 'N') {
        return MakeError(ErrorCode::kCorruption,
                         "Update for relation {} has tuple marker 0x{:02x}, expected 'N'",
                         out.relation_id, marker);
      }
      return ReadTupleDataInto(reader, out.new_tuple);
    }
    default: {  // 'D', Delete
      TRIB_ASSIGN_OR_RETURN(out.relation_id, reader.ReadUInt32("Delete relation id"));
      TRIB_ASSIGN_OR_RETURN(uint8_t marker, reader.ReadUInt8("Delete tuple marker"));
      if (marker != 'K' && marker != 'O') {
        return MakeError(ErrorCode::kCorruption,
                         "Delete for relation {} has tuple marker 0x{:02x}, expected 'K' "
                         "or 'O'",
                         out.relation_id, marker);
      }
      out.old_kind = static_cast<char>(marker);
      return ReadTupleDataInto(reader, out.old_tuple);
    }
  }
}

Status ExpectEnd(const WireReader& reader, char type) {
  if (!reader.AtEnd()) {
    return MakeError(ErrorCode::kCorruption,
                     "message '{}' has {} unexpected trailing bytes", type,
                     reader.remaining());
  }
  return OkStatus();
}

Result<PgOutputMessage> DecodeBody(WireReader& reader, char type, bool streamed,
                                   int protocol_version) {
  switch (type) {
    case 'B': {  // Begin
      BeginMessage msg;
      TRIB_ASSIGN_OR_RETURN(msg.final_lsn, reader.ReadUInt64("Begin final LSN"));
      TRIB_ASSIGN_OR_RETURN(msg.commit_time_us, reader.ReadInt64("Begin commit time"));
      TRIB_ASSIGN_OR_RETURN(msg.xid, reader.ReadUInt32("Begin xid"));
      return PgOutputMessage(msg);
    }
    case 'C': {  // Commit
      CommitMessage msg;
      TRIB_ASSIGN_OR_RETURN(msg.flags, reader.ReadUInt8("Commit flags"));
      TRIB_ASSIGN_OR_RETURN(msg.commit_lsn, reader.ReadUInt64("Commit LSN"));
      TRIB_ASSIGN_OR_RETURN(msg.end_lsn, reader.ReadUInt64("Commit end LSN"));
      TRIB_ASSIGN_OR_RETURN(msg.commit_time_us, reader.ReadInt64("Commit time"));
      return PgOutputMessage(msg);
    }
    case 'O': {  // Origin
      OriginMessage msg;
      TRIB_ASSIGN_OR_RETURN(msg.origin_lsn, reader.ReadUInt64("Origin LSN"));
      TRIB_ASSIGN_OR_RETURN(msg.name, reader.ReadCString("Origin name"));
      return PgOutputMessage(std::move(msg));
    }
    case 'R': {  // Relation
      RelationMessage msg;
      TRIB_ASSIGN_OR_RETURN(msg.xid, ReadStreamXid(reader, streamed));
      TRIB_ASSIGN_OR_RETURN(msg.relation_id, reader.ReadUInt32("Relation id"));
      TRIB_ASSIGN_OR_RETURN(msg.namespace_name, reader.ReadCString("Relation namespace"));
      TRIB_ASSIGN_OR_RETURN(msg.relation_name, reader.ReadCString("Relation name"));
      TRIB_ASSIGN_OR_RETURN(uint8_t identity, reader.ReadUInt8("Relation replica identity"));
      msg.replica_identity = static_cast<char>(identity);
      TRIB_ASSIGN_OR_RETURN(int16_t column_count, reader.ReadInt16("Relation column count"));
      if (column_count < 0) {
        return MakeError(ErrorCode::kCorruption,
                         "Relation {} has a negative column count {}", msg.relation_id,
                         column_count);
      }
      msg.columns.reserve(static_cast<size_t>(column_count));
      for (int16_t column_idx = 0; column_idx < column_count; ++column_idx) {
        RelationColumn column;
        TRIB_ASSIGN_OR_RETURN(uint8_t flags, reader.ReadUInt8("Relation column flags"));
        column.is_key = (flags & 1) != 0;
        TRIB_ASSIGN_OR_RETURN(column.name, reader.ReadCString("Relation column name"));
        TRIB_ASSIGN_OR_RETURN(column.type_oid, reader.ReadUInt32("Relation column type"));
        TRIB_ASSIGN_OR_RETURN(column.type_modifier,
                              reader.ReadInt32("Relation column type modifier"));
        msg.columns.push_back(std::move(column));
      }
      return PgOutputMessage(std::move(msg));
    }
    case 'Y': {  // Type
      TypeMessage msg;
      TRIB_ASSIGN_OR_RETURN(msg.xid, ReadStreamXid(reader, streamed));
      TRIB_ASSIGN_OR_RETURN(msg.type_oid, reader.ReadUInt32("Type OID"));
      TRIB_ASSIGN_OR_RETURN(msg.namespace_name, reader.ReadCString("Type namespace"));
      TRIB_ASSIGN_OR_RETURN(msg.type_name, reader.ReadCString("Type name"));
      return PgOutputMessage(std::move(msg));
    }
    case 'I':
    case 'U':
    case 'D': {
      RowChange change;
      TRIB_RETURN_IF_ERROR(ReadRowChangeBody(reader, type, streamed, change));
      if (type == 'I') {
        return PgOutputMessage(
            InsertMessage{change.xid, change.relation_id, std::move(change.new_tuple)});
      }
      if (type == 'U') {
        return PgOutputMessage(UpdateMessage{change.xid, change.relation_id,
                                             change.old_kind, std::move(change.old_tuple),
                                             std::move(change.new_tuple)});
      }
      return PgOutputMessage(DeleteMessage{change.xid, change.relation_id, change.old_kind,
                                           std::move(change.old_tuple)});
    }
    case 'T': {  // Truncate
      TruncateMessage msg;
      TRIB_ASSIGN_OR_RETURN(msg.xid, ReadStreamXid(reader, streamed));
      TRIB_ASSIGN_OR_RETURN(uint32_t count, reader.ReadUInt32("Truncate relation count"));
      TRIB_ASSIGN_OR_RETURN(uint8_t options, reader.ReadUInt8("Truncate options"));
      msg.cascade = (options & 1) != 0;
      msg.restart_identity = (options & 2) != 0;
      if (count > reader.remaining() / 4) {
        return MakeError(ErrorCode::kCorruption,
                         "truncated message: Truncate lists {} relations but only {} bytes "
                         "remain",
                         count, reader.remaining());
      }
      for (uint32_t relation_idx = 0; relation_idx < count; ++relation_idx) {
        TRIB_ASSIGN_OR_RETURN(uint32_t relation_id,
                              reader.ReadUInt32("Truncate relation id"));
        msg.relation_ids.push_back(relation_id);
      }
      return PgOutputMessage(std::move(msg));
    }
    case 'M': {  // Message
      LogicalMessage msg;
      TRIB_ASSIGN_OR_RETURN(msg.xid, ReadStreamXid(reader, streamed));
      TRIB_ASSIGN_OR_RETURN(uint8_t flags, reader.ReadUInt8("Message flags"));
      msg.transactional = (flags & 1) != 0;
      TRIB_ASSIGN_OR_RETURN(msg.lsn, reader.ReadUInt64("Message LSN"));
      TRIB_ASSIGN_OR_RETURN(msg.prefix, reader.ReadCString("Message prefix"));
      TRIB_ASSIGN_OR_RETURN(int32_t length, reader.ReadInt32("Message content length"));
      if (length < 0) {
        return MakeError(ErrorCode::kCorruption, "Message has a negative length {}",
                         length);
      }
      TRIB_ASSIGN_OR_RETURN(msg.content, reader.ReadBytes(static_cast<size_t>(length),
                                                          "Message content"));
      return PgOutputMessage(std::move(msg));
    }
    default:
      break;
  }
  if (protocol_version >= 2) {
    switch (type) {
      case 'S': {  // Stream Start
        StreamStartMessage msg;
        TRIB_ASSIGN_OR_RETURN(msg.xid, reader.ReadUInt32("Stream Start xid"));
        TRIB_ASSIGN_OR_RETURN(uint8_t first, reader.ReadUInt8("Stream Start first flag"));
        msg.first_segment = first == 1;
        return PgOutputMessage(msg);
      }
      case 'E':  // Stream Stop
        return PgOutputMessage(StreamStopMessage{});
      case 'c': {  // Stream Commit
        StreamCommitMessage msg;
        TRIB_ASSIGN_OR_RETURN(msg.xid, reader.ReadUInt32("Stream Commit xid"));
        TRIB_ASSIGN_OR_RETURN(msg.flags, reader.ReadUInt8("Stream Commit flags"));
        TRIB_ASSIGN_OR_RETURN(msg.commit_lsn, reader.ReadUInt64("Stream Commit LSN"));
        TRIB_ASSIGN_OR_RETURN(msg.end_lsn, reader.ReadUInt64("Stream Commit end LSN"));
        TRIB_ASSIGN_OR_RETURN(msg.commit_time_us, reader.ReadInt64("Stream Commit time"));
        return PgOutputMessage(msg);
      }
      case 'A': {  // Stream Abort
        StreamAbortMessage msg;
        TRIB_ASSIGN_OR_RETURN(msg.xid, reader.ReadUInt32("Stream Abort xid"));
        TRIB_ASSIGN_OR_RETURN(msg.subxid, reader.ReadUInt32("Stream Abort subxid"));
        // Protocol version 4 (PostgreSQL 16) appends the abort LSN and time; version 2
        // ends here.
        return PgOutputMessage(msg);
      }
      default:
        break;
    }
  }
  return MakeError(ErrorCode::kUnsupported,
                   "pgoutput message type 0x{:02x} ('{}') is not defined for protocol "
                   "version {}",
                   static_cast<unsigned>(static_cast<uint8_t>(type)),
                   type >= 0x20 && type < 0x7f ? type : '?', protocol_version);
}

// Context of a decode error: the message type (printable, else '?') and its size.
std::string MessageContext(char type, size_t size) {
  return fmt::format("decoding pgoutput message '{}' ({} bytes)",
                     type >= 0x20 && type < 0x7f ? type : '?', size);
}

}  // namespace

std::optional<uint32_t> StreamedXid(const PgOutputMessage& message) {
  return std::visit(
      [](const auto& msg) -> std::optional<uint32_t> {
        if constexpr (requires { msg.xid.has_value(); }) {
          return msg.xid;
        } else {
          return std::nullopt;
        }
      },
      message);
}

char MessageTypeByte(const PgOutputMessage& message) {
  static constexpr char kTypes[] = {'B', 'C', 'O', 'R', 'Y', 'I', 'U',
                                    'D', 'T', 'M', 'S', 'E', 'c', 'A'};
  static_assert(sizeof(kTypes) == std::variant_size_v<PgOutputMessage>);
  return kTypes[message.index()];
}

Result<PgOutputMessage> PgOutputDecoder::Decode(std::span<const uint8_t> message) {
  return DecodeImpl(message, in_stream_block_);
}

Result<PgOutputMessage> PgOutputDecoder::DecodeStreamed(std::span<const uint8_t> message) {
  return DecodeImpl(message, true);
}

Result<PgOutputMessage> PgOutputDecoder::DecodeImpl(std::span<const uint8_t> message,
                                                    bool streamed) {
  WireReader reader(message);
  TRIB_ASSIGN_OR_RETURN(uint8_t type_byte, reader.ReadUInt8("pgoutput message type"));
  char type = static_cast<char>(type_byte);
  auto decoded = DecodeBody(reader, type, streamed, protocol_version_);
  if (!decoded.ok()) {
    return std::move(decoded).WithContext(MessageContext(type, message.size()));
  }
  {
    auto end = ExpectEnd(reader, type);
    if (!end.ok()) {
      return std::move(end.error());
    }
  }
  if (type == 'S') {
    if (in_stream_block_) {
      return MakeError(ErrorCode::kCorruption,
                       "Stream Start for xid {} inside an open stream block",
                       std::get<StreamStartMessage>(*decoded).xid);
    }
    in_stream_block_ = true;
  } else if (type == 'E') {
    if (!in_stream_block_) {
      return MakeError(ErrorCode::kCorruption, "Stream Stop outside a stream block");
    }
    in_stream_block_ = false;
  }
  return decoded;
}

Status DecodeRowChange(std::span<const uint8_t> message, bool streamed, RowChange& out) {
  WireReader reader(message);
  TRIB_ASSIGN_OR_RETURN(uint8_t type_byte, reader.ReadUInt8("pgoutput message type"));
  char type = static_cast<char>(type_byte);
  Status decoded = ReadRowChangeBody(reader, type, streamed, out);
  if (!decoded.ok()) {
    return std::move(decoded).WithContext(MessageContext(type, message.size()));
  }
  return ExpectEnd(reader, type);
}

Result<ReplicationFrame> DecodeReplicationFrame(std::span<const uint8_t> frame) {
  WireReader reader(frame);
  TRIB_ASSIGN_OR_RETURN(uint8_t type, reader.ReadUInt8("replication frame type"));
  switch (type) {
    case 'w': {
      XLogData data;
      TRIB_ASSIGN_OR_RETURN(data.wal_start, reader.ReadUInt64("XLogData start"));
      TRIB_ASSIGN_OR_RETURN(data.wal_end, reader.ReadUInt64("XLogData end"));
      TRIB_ASSIGN_OR_RETURN(data.server_time_us, reader.ReadInt64("XLogData time"));
      data.data = reader.ReadRest();
      return ReplicationFrame(data);
    }
    case 'k': {
      PrimaryKeepalive keepalive;
      TRIB_ASSIGN_OR_RETURN(keepalive.wal_end, reader.ReadUInt64("keepalive WAL end"));
      TRIB_ASSIGN_OR_RETURN(keepalive.server_time_us, reader.ReadInt64("keepalive time"));
      TRIB_ASSIGN_OR_RETURN(uint8_t reply, reader.ReadUInt8("keepalive reply flag"));
      keepalive.reply_requested = reply == 1;
      return ReplicationFrame(keepalive);
    }
    default:
      return MakeError(ErrorCode::kCorruption,
                       "unknown replication CopyData frame type 0x{:02x} ({} bytes)", type,
                       frame.size());
  }
}

std::string EncodeStandbyStatusUpdate(uint64_t written_lsn,
                                      uint64_t flushed_lsn,
                                      uint64_t applied_lsn,
                                      int64_t client_time_us,
                                      bool reply_requested) {
  WireWriter writer;
  writer.WriteUInt8('r');
  writer.WriteUInt64(written_lsn);
  writer.WriteUInt64(flushed_lsn);
  writer.WriteUInt64(applied_lsn);
  writer.WriteInt64(client_time_us);
  writer.WriteUInt8(reply_requested ? 1 : 0);
  return writer.Take();
}

}  // namespace tributary::capture::postgres

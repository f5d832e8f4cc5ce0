#include "capture/postgres/pgoutput_decoder.h"

#include <map>

#include <gtest/gtest.h>

#include "unit/capture/postgres/golden.h"
#include "capture/postgres/internal/wire.h"

namespace tributary::capture::postgres {
namespace {

using internal::AsBytes;
using testing::GoldenMessage;
using testing::ReadGolden;

std::map<char, int> CountTypes(const std::vector<GoldenMessage>& messages, int version) {
  PgOutputDecoder decoder(version);
  std::map<char, int> counts;
  for (const auto& message : messages) {
    auto decoded = decoder.Decode(AsBytes(message.data));
    EXPECT_TRUE(decoded.ok()) << decoded.error().ToString();
    if (decoded.ok()) {
      ++counts[MessageTypeByte(*decoded)];
    }
  }
  return counts;
}

TEST(PgOutputDecoderTest, DecodesEveryRecordedVersion1Message) {
  auto messages = ReadGolden("pgoutput_v1.txt");
  ASSERT_GT(messages.size(), 100u);
  auto counts = CountTypes(messages, 1);
  EXPECT_EQ(counts['B'], counts['C']);
  EXPECT_EQ(counts['T'], 1);
  EXPECT_EQ(counts['M'], 2);
  EXPECT_EQ(counts['U'], 3);
  EXPECT_EQ(counts['D'], 2);
  EXPECT_EQ(counts['Y'], 2);  // the enum, sent again after ALTER TABLE
  EXPECT_EQ(counts['S'], 0);
}

TEST(PgOutputDecoderTest, DecodesStreamedVersion2Messages) {
  auto messages = ReadGolden("pgoutput_v2_streaming.txt");
  auto counts = CountTypes(messages, 2);
  EXPECT_EQ(counts['S'], counts['E']);
  EXPECT_GE(counts['S'], 2);
  EXPECT_EQ(counts['c'], 1);  // the transaction with a rolled-back savepoint
  EXPECT_EQ(counts['A'], 2);  // that savepoint, and the rolled-back transaction
}

TEST(PgOutputDecoderTest, DecodesRelationTypeAndTupleFields) {
  auto messages = ReadGolden("pgoutput_v1.txt");
  PgOutputDecoder decoder(1);
  const RelationMessage* items = nullptr;
  std::vector<PgOutputMessage> decoded;
  for (const auto& message : messages) {
    auto result = decoder.Decode(AsBytes(message.data));
    ASSERT_TRUE(result.ok());
    decoded.push_back(std::move(*result));
  }
  bool saw_unchanged_toast = false;
  bool saw_key_change = false;
  bool saw_full_old_row = false;
  bool saw_nontransactional = false;
  bool saw_enum_type = false;
  for (const auto& message : decoded) {
    if (auto* relation = std::get_if<RelationMessage>(&message)) {
      if (relation->relation_name == "items" && items == nullptr) {
        items = relation;
        EXPECT_EQ(relation->namespace_name, "public");
        EXPECT_EQ(relation->replica_identity, 'd');
        ASSERT_EQ(relation->columns.size(), 5u);
        EXPECT_EQ(relation->columns[0].name, "id");
        EXPECT_TRUE(relation->columns[0].is_key);
        EXPECT_EQ(relation->columns[0].type_oid, 23u);
        EXPECT_FALSE(relation->columns[1].is_key);
        EXPECT_EQ(relation->columns[4].type_oid, 1700u);
        EXPECT_EQ(relation->columns[4].type_modifier, ((10 << 16) | 2) + 4);
      }
      if (relation->relation_name == "full_rows") {
        EXPECT_EQ(relation->replica_identity, 'f');
      }
    } else if (auto* type = std::get_if<TypeMessage>(&message)) {
      saw_enum_type = type->type_name == "mood" && type->namespace_name == "public";
    } else if (auto* update = std::get_if<UpdateMessage>(&message)) {
      if (update->old_kind == 0 && update->new_tuple.size() == 5 &&
          update->new_tuple[3].kind == TupleColumn::Kind::kUnchangedToast) {
        saw_unchanged_toast = true;
        EXPECT_EQ(update->new_tuple[1].data, "uno");
      }
      if (update->old_kind == 'K') {
        saw_key_change = true;
        EXPECT_EQ(update->old_tuple[0].data, "2");
        EXPECT_EQ(update->new_tuple[0].data, "10");
        EXPECT_EQ(update->old_tuple[1].kind, TupleColumn::Kind::kNull);
      }
      if (update->old_kind == 'O') {
        saw_full_old_row = true;
        EXPECT_EQ(update->old_tuple[1].data, "a");
        EXPECT_EQ(update->new_tuple[1].data, "b");
      }
    } else if (auto* logical = std::get_if<LogicalMessage>(&message)) {
      EXPECT_EQ(logical->prefix, "trib");
      if (!logical->transactional) {
        saw_nontransactional = true;
        EXPECT_EQ(logical->content, "not transactional");
      } else {
        EXPECT_EQ(logical->content, "transactional");
      }
    } else if (auto* insert = std::get_if<InsertMessage>(&message)) {
      if (items != nullptr && insert->relation_id == items->relation_id &&
          insert->new_tuple[0].data == "1") {
        EXPECT_EQ(insert->new_tuple[3].data, std::string(3000, 'x'));
        EXPECT_EQ(insert->new_tuple[4].data, "1.50");
      }
    }
  }
  ASSERT_NE(items, nullptr);
  EXPECT_TRUE(saw_unchanged_toast);
  EXPECT_TRUE(saw_key_change);
  EXPECT_TRUE(saw_full_old_row);
  EXPECT_TRUE(saw_nontransactional);
  EXPECT_TRUE(saw_enum_type);
}

TEST(PgOutputDecoderTest, StreamedMessagesCarryTheirSubtransactionXid) {
  auto messages = ReadGolden("pgoutput_v2_streaming.txt");
  PgOutputDecoder decoder(2);
  std::optional<uint32_t> stream_xid;
  int streamed_inserts = 0;
  for (const auto& message : messages) {
    auto decoded = decoder.Decode(AsBytes(message.data));
    ASSERT_TRUE(decoded.ok());
    if (auto* start = std::get_if<StreamStartMessage>(&*decoded)) {
      stream_xid = start->xid;
      EXPECT_TRUE(decoder.in_stream_block());
    } else if (std::holds_alternative<StreamStopMessage>(*decoded)) {
      stream_xid.reset();
      EXPECT_FALSE(decoder.in_stream_block());
    } else if (auto* insert = std::get_if<InsertMessage>(&*decoded)) {
      EXPECT_EQ(insert->xid.has_value(), stream_xid.has_value());
      if (insert->xid) {
        ++streamed_inserts;
        // The top-level xid, or a subtransaction's own (larger) xid.
        EXPECT_GE(*insert->xid, *stream_xid);
      }
    } else if (auto* abort = std::get_if<StreamAbortMessage>(&*decoded)) {
      EXPECT_FALSE(decoder.in_stream_block());
      EXPECT_GE(abort->subxid, abort->xid);
    }
  }
  EXPECT_GT(streamed_inserts, 400);
}

TEST(PgOutputDecoderTest, RejectsEveryTruncationOfEveryRecordedMessage) {
  auto messages = ReadGolden("pgoutput_v1.txt");
  size_t checked = 0;
  for (size_t idx = 0; idx < messages.size(); idx += 7) {
    const std::string& data = messages[idx].data;
    for (size_t length = 0; length < data.size() && length < 200; ++length) {
      PgOutputDecoder decoder(1);
      auto decoded = decoder.Decode(AsBytes(std::string_view(data).substr(0, length)));
      ASSERT_FALSE(decoded.ok()) << "message " << idx << " cut to " << length;
      EXPECT_EQ(decoded.error().code(), ErrorCode::kCorruption);
      ++checked;
    }
  }
  EXPECT_GT(checked, 1000u);
}

// DecodeRowChange() is the replay hot path; it must read exactly what Decode() reads.
TEST(PgOutputDecoderTest, RowChangeDecodingMatchesDecodeForEveryRecordedChange) {
  for (const auto& [file, version] :
       {std::pair{"pgoutput_v1.txt", 1}, std::pair{"pgoutput_v2_streaming.txt", 2}}) {
    auto messages = ReadGolden(file);
    PgOutputDecoder decoder(version);
    RowChange change;  // reused across messages, as the assembler does
    size_t compared = 0;
    for (const auto& message : messages) {
      bool streamed = decoder.in_stream_block();
      auto decoded = decoder.Decode(AsBytes(message.data));
      ASSERT_TRUE(decoded.ok()) << decoded.error().ToString();
      char type = MessageTypeByte(*decoded);
      Status fast = DecodeRowChange(AsBytes(message.data), streamed, change);
      if (type != 'I' && type != 'U' && type != 'D') {
        ASSERT_FALSE(fast.ok());
        EXPECT_EQ(fast.error().code(), ErrorCode::kInvalidArgument);
        continue;
      }
      ASSERT_TRUE(fast.ok()) << fast.error().ToString();
      EXPECT_EQ(change.type, type);
      EXPECT_EQ(change.xid, StreamedXid(*decoded));
      auto same_tuple = [](const TupleData& a, const TupleData& b) {
        if (a.size() != b.size()) {
          return false;
        }
        for (size_t idx = 0; idx < a.size(); ++idx) {
          if (a[idx].kind != b[idx].kind || a[idx].data != b[idx].data) {
            return false;
          }
        }
        return true;
      };
      if (auto* insert = std::get_if<InsertMessage>(&*decoded)) {
        EXPECT_EQ(change.relation_id, insert->relation_id);
        EXPECT_EQ(change.old_kind, 0);
        EXPECT_TRUE(change.old_tuple.empty());
        EXPECT_TRUE(same_tuple(change.new_tuple, insert->new_tuple));
      } else if (auto* update = std::get_if<UpdateMessage>(&*decoded)) {
        EXPECT_EQ(change.relation_id, update->relation_id);
        EXPECT_EQ(change.old_kind, update->old_kind);
        EXPECT_TRUE(same_tuple(change.old_tuple, update->old_tuple));
        EXPECT_TRUE(same_tuple(change.new_tuple, update->new_tuple));
      } else if (auto* deletion = std::get_if<DeleteMessage>(&*decoded)) {
        EXPECT_EQ(change.relation_id, deletion->relation_id);
        EXPECT_EQ(change.old_kind, deletion->old_kind);
        EXPECT_TRUE(same_tuple(change.old_tuple, deletion->old_tuple));
        EXPECT_TRUE(change.new_tuple.empty());
      }
      ++compared;
      // Every truncation of a row change is an error naming the problem, never a read
      // past the end.
      for (size_t length = 0; length < message.data.size() && length < 120; ++length) {
        Status cut = DecodeRowChange(
            AsBytes(std::string_view(message.data).substr(0, length)), streamed, change);
        ASSERT_FALSE(cut.ok()) << file << ": change cut to " << length;
        EXPECT_EQ(cut.error().code(), ErrorCode::kCorruption);
      }
    }
    EXPECT_GT(compared, 100u) << file;
  }
}

TEST(PgOutputDecoderTest, RejectsTrailingBytesAndUnknownTypes) {
  PgOutputDecoder decoder(1);
  std::string stop = "E";
  auto v1 = decoder.Decode(AsBytes(stop));
  ASSERT_FALSE(v1.ok());
  EXPECT_EQ(v1.error().code(), ErrorCode::kUnsupported);
  std::string unknown = "Z123";
  auto result = PgOutputDecoder(2).Decode(AsBytes(unknown));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kUnsupported);

  internal::WireWriter writer;
  writer.WriteUInt8('O');
  writer.WriteUInt64(5);
  writer.WriteCString("origin");
  writer.WriteUInt8(0);  // one byte too many
  auto trailing = PgOutputDecoder(2).Decode(AsBytes(writer.data()));
  ASSERT_FALSE(trailing.ok());
  EXPECT_EQ(trailing.error().code(), ErrorCode::kCorruption);
}

TEST(PgOutputDecoderTest, DecodesReplicationFramesAndEncodesStatusUpdates) {
  internal::WireWriter keepalive;
  keepalive.WriteUInt8('k');
  keepalive.WriteUInt64(0x16B374D848ULL);
  keepalive.WriteInt64(12345);
  keepalive.WriteUInt8(1);
  auto frame = DecodeReplicationFrame(AsBytes(keepalive.data()));
  ASSERT_TRUE(frame.ok());
  auto& decoded = std::get<PrimaryKeepalive>(*frame);
  EXPECT_EQ(decoded.wal_end, 0x16B374D848ULL);
  EXPECT_EQ(decoded.server_time_us, 12345);
  EXPECT_TRUE(decoded.reply_requested);

  internal::WireWriter xlog;
  xlog.WriteUInt8('w');
  xlog.WriteUInt64(100);
  xlog.WriteUInt64(200);
  xlog.WriteInt64(7);
  xlog.WriteBytes("Cpayload");
  auto data_frame = DecodeReplicationFrame(AsBytes(xlog.data()));
  ASSERT_TRUE(data_frame.ok());
  auto& data = std::get<XLogData>(*data_frame);
  EXPECT_EQ(data.wal_start, 100u);
  EXPECT_EQ(data.wal_end, 200u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(data.data.data()), data.data.size()),
            "Cpayload");

  EXPECT_FALSE(DecodeReplicationFrame(AsBytes(std::string_view("k\x01", 2))).ok());
  EXPECT_FALSE(DecodeReplicationFrame(AsBytes(std::string_view("x"))).ok());

  std::string status = EncodeStandbyStatusUpdate(1, 2, 3, 4, true);
  ASSERT_EQ(status.size(), 34u);
  EXPECT_EQ(status[0], 'r');
  EXPECT_EQ(status[8], 1);
  EXPECT_EQ(status[16], 2);
  EXPECT_EQ(status[24], 3);
  EXPECT_EQ(status[32], 4);
  EXPECT_EQ(status[33], 1);
}

}  // namespace
}  // namespace tributary::capture::postgres

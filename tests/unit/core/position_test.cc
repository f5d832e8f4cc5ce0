#include "core/position.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tributary::core {
namespace {

MysqlPosition Binlog(std::string file,
                     uint64_t pos,
                     uint32_t row = 0,
                     uint32_t server_id = 0,
                     std::string gtid = "") {
  MysqlPosition out;
  out.file = std::move(file);
  out.pos = pos;
  out.row = row;
  out.server_id = server_id;
  out.gtid = std::move(gtid);
  return out;
}

PostgresPosition Wal(uint64_t commit_lsn,
                     uint64_t event_lsn = 0,
                     uint64_t txid = 0,
                     uint64_t event_index = 0) {
  PostgresPosition out;
  out.commit_lsn = commit_lsn;
  out.event_lsn = event_lsn;
  out.txid = txid;
  out.event_index = event_index;
  return out;
}

KafkaPosition Record(std::string topic, int32_t partition, int64_t offset) {
  KafkaPosition out;
  out.topic = std::move(topic);
  out.partition = partition;
  out.offset = offset;
  return out;
}

TEST(LsnTest, FormatsLikePostgres) {
  EXPECT_EQ(FormatLsn(0), "0/0");
  EXPECT_EQ(FormatLsn(0x16B374D848ULL), "16/B374D848");
  EXPECT_EQ(FormatLsn(34133800), "0/208D728");
  EXPECT_EQ(FormatLsn(UINT64_MAX), "FFFFFFFF/FFFFFFFF");
}

TEST(LsnTest, ParsesEitherCaseAndPadding) {
  EXPECT_EQ(ParseLsn("16/B374D848").value(), 0x16B374D848ULL);
  EXPECT_EQ(ParseLsn("16/b374d848").value(), 0x16B374D848ULL);
  EXPECT_EQ(ParseLsn("0/0000A0B8").value(), 0xA0B8ULL);
  EXPECT_EQ(ParseLsn("FFFFFFFF/FFFFFFFF").value(), UINT64_MAX);
  for (uint64_t lsn : std::vector<uint64_t>{0, 1, 34133800, 0x100000000ULL, UINT64_MAX}) {
    EXPECT_EQ(ParseLsn(FormatLsn(lsn)).value(), lsn);
  }
}

TEST(LsnTest, RejectsMalformedText) {
  for (std::string_view bad : {"", "16", "16/", "/B374D848", "123456789/0", "0/123456789",
                               "G/0", "0/-1", "0/1 "}) {
    Result<uint64_t> lsn = ParseLsn(bad);
    ASSERT_FALSE(lsn.ok()) << bad;
    EXPECT_EQ(lsn.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(lsn.status().message().find("'" + std::string(bad) + "'"),
              std::string::npos);
  }
}

TEST(PositionTest, PostgresOrdersByCommitLsnThenEventIndex) {
  PostgresPosition a = Wal(100, 90, 7, 0);
  PostgresPosition b = Wal(100, 95, 7, 1);
  PostgresPosition c = Wal(200, 10, 6, 0);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_LT(a, c);
  EXPECT_EQ(a, a);
  EXPECT_LT(SourcePosition(a), SourcePosition(c));
}

TEST(PositionTest, MysqlOrdersByFileSequenceThenPosThenRow) {
  MysqlPosition a = Binlog("mysql-bin.000003", 2443, 0);
  MysqlPosition b = Binlog("mysql-bin.000003", 2443, 1);
  MysqlPosition c = Binlog("mysql-bin.000004", 4);
  MysqlPosition d = Binlog("mysql-bin.999999", 4);
  MysqlPosition e = Binlog("mysql-bin.1000000", 4);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_LT(c, d);
  EXPECT_LT(d, e) << "the numeric extension orders files, not the string";
  EXPECT_EQ(BinlogFileSequence("mysql-bin.000003"), 3u);
  EXPECT_FALSE(BinlogFileSequence("mysql-bin").has_value());
}

TEST(PositionTest, KafkaOrdersByTopicPartitionOffset) {
  KafkaPosition a = Record("t", 0, 5);
  KafkaPosition b = Record("t", 0, 6);
  KafkaPosition c = Record("t", 1, 0);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
}

TEST(PositionTest, DifferentKindsAreUnordered) {
  SourcePosition pg(Wal(1));
  SourcePosition kafka(Record("t", 0, 0));
  EXPECT_EQ(pg <=> kafka, std::partial_ordering::unordered);
  EXPECT_FALSE(pg < kafka);
  EXPECT_FALSE(kafka < pg);
  EXPECT_NE(pg, kafka);
  EXPECT_EQ(SourcePosition(), SourcePosition());
  EXPECT_TRUE(SourcePosition().empty());
  EXPECT_EQ(pg.kind(), SourcePosition::Kind::kPostgres);
  EXPECT_NE(pg.postgres(), nullptr);
  EXPECT_EQ(pg.mysql(), nullptr);
}

TEST(PositionTest, StringFormRoundTrips) {
  const std::vector<std::pair<SourcePosition, std::string>> cases = {
      {SourcePosition(), ""},
      {Wal(0x16B374D848ULL, 0x16B374D800ULL, 604, 3), "pg:16/B374D848:16/B374D800:604:3"},
      {Binlog("mysql-bin.000003", 1041, 0, 223344,
              "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5"),
       "mysql:mysql-bin.000003:1041:0:223344:3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5"},
      {Binlog("binlog.000001", 4), "mysql:binlog.000001:4:0:0:"},
      {Record("dbserver1.inventory.products", 2, 42),
       "kafka:2:42:dbserver1.inventory.products"},
  };
  for (const auto& [position, text] : cases) {
    EXPECT_EQ(position.ToString(), text);
    Result<SourcePosition> parsed = SourcePosition::Parse(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.status().ToString();
    EXPECT_EQ(*parsed, position) << text;
  }
}

TEST(PositionTest, ParseRejectsMalformedText) {
  for (std::string_view bad :
       {"pg", "pg:1/0", "pg:1/0:2/0:x:1", "mysql:file:1:2",
        "mysql::1:0:0:", "kafka:0:1:", "kafka:x:1:t", "oracle:1", "pg:1/0:2/0:3:4:5"}) {
    Result<SourcePosition> parsed = SourcePosition::Parse(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.status().message().find(std::string(bad)), std::string::npos);
  }
}

}  // namespace
}  // namespace tributary::core

#include "core/change_event.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace tributary::core {
namespace {

TEST(OpTest, DebeziumCodesRoundTrip) {
  for (Op op :
       {Op::kRead, Op::kCreate, Op::kUpdate, Op::kDelete, Op::kTruncate, Op::kMessage}) {
    EXPECT_EQ(ParseOpCode(std::string(1, OpCode(op))).value(), op);
  }
  EXPECT_EQ(OpCode(Op::kRead), 'r');
  EXPECT_EQ(OpCode(Op::kMessage), 'm');
  Result<Op> bad = ParseOpCode("x");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'x'"), std::string::npos);
  EXPECT_FALSE(ParseOpCode("cc").ok());
}

TEST(SnapshotMarkerTest, AllDebeziumValuesRoundTrip) {
  for (std::string_view name :
       {"true", "first", "first_in_data_collection", "last_in_data_collection", "last",
        "false", "incremental"}) {
    Result<SnapshotMarker> marker = ParseSnapshotMarker(name);
    ASSERT_TRUE(marker.ok()) << name;
    EXPECT_EQ(SnapshotMarkerName(*marker), name);
  }
  EXPECT_FALSE(ParseSnapshotMarker("maybe").ok());
}

TEST(ConnectorTest, Names) {
  EXPECT_EQ(ConnectorName(Connector::kPostgres), "postgresql");
  EXPECT_EQ(ParseConnectorName("mysql").value(), Connector::kMysql);
  Result<Connector> oracle = ParseConnectorName("oracle");
  ASSERT_FALSE(oracle.ok());
  EXPECT_EQ(oracle.status().code(), ErrorCode::kUnsupported);
}

std::shared_ptr<const TableSchema> Schema(TableId id) {
  auto schema = std::make_shared<TableSchema>();
  schema->id = std::move(id);
  schema->columns.resize(2);
  schema->columns[0].name = "id";
  schema->columns[0].type = DataType::Of(TypeKind::kInt32);
  schema->columns[1].name = "name";
  schema->columns[1].type = DataType::Of(TypeKind::kString);
  schema->primary_key = {0};
  schema->SyncKeyPositions();
  return schema;
}

TEST(ChangeEventTest, TopicFollowsDebeziumNaming) {
  ChangeEvent pg;
  pg.table = TableId{"postgres", "inventory", "products"};
  pg.source.connector = Connector::kPostgres;
  pg.source.name = "fullfillment";
  EXPECT_EQ(pg.Topic(), "fullfillment.inventory.products");
  ChangeEvent mysql;
  mysql.table = TableId{"inventory", "", "customers"};
  mysql.source.connector = Connector::kMysql;
  mysql.source.name = "dbserver1";
  EXPECT_EQ(mysql.Topic(), "dbserver1.inventory.customers");
}

TEST(ChangeEventTest, KeyValuesComeFromAfterOrBeforeForDeletes) {
  ChangeEvent event;
  event.table = TableId{"db", "public", "t"};
  event.schema = Schema(event.table);
  event.op = Op::kCreate;
  event.after = Row{Value::Int32(7), Value::String("x")};
  EXPECT_EQ(event.KeyValues().value(), Row{Value::Int32(7)});
  event.op = Op::kDelete;
  event.before = Row{Value::Int32(8), Value::String("y")};
  EXPECT_EQ(event.KeyValues().value(), Row{Value::Int32(8)});
  event.before.reset();
  Result<Row> missing = event.KeyValues();
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("public.t"), std::string::npos);
}

TEST(ChangeEventTest, EqualityComparesSchemasByValue) {
  ChangeEvent a;
  a.table = TableId{"db", "public", "t"};
  a.schema = Schema(a.table);
  a.after = Row{Value::Int32(1), Value::String("a")};
  ChangeEvent b = a;
  b.schema = Schema(b.table);  // a different pointer, the same schema
  EXPECT_EQ(a, b);
  b.after = Row{Value::Int32(1), Value::String("b")};
  EXPECT_NE(a, b);
  EXPECT_NE(a.ToString().find("name: string \"a\""), std::string::npos);
}

TEST(ChangeEventTest, FillSourceFromPosition) {
  ChangeEvent pg;
  PostgresPosition wal;
  wal.commit_lsn = 500;
  wal.event_lsn = 480;
  wal.txid = 604;
  pg.position = wal;
  FillSourceFromPosition(pg);
  EXPECT_EQ(pg.source.connector, Connector::kPostgres);
  EXPECT_EQ(pg.source.lsn, 480);
  EXPECT_EQ(pg.source.txid, 604);
  ChangeEvent mysql;
  MysqlPosition binlog;
  binlog.file = "mysql-bin.000003";
  binlog.pos = 1041;
  binlog.row = 2;
  binlog.server_id = 223344;
  mysql.position = binlog;
  FillSourceFromPosition(mysql);
  EXPECT_EQ(mysql.source.connector, Connector::kMysql);
  EXPECT_EQ(mysql.source.file, "mysql-bin.000003");
  EXPECT_EQ(mysql.source.pos, 1041);
  EXPECT_EQ(mysql.source.row, 2);
  EXPECT_EQ(mysql.source.server_id, 223344);
  EXPECT_FALSE(mysql.source.gtid.has_value());
}

}  // namespace
}  // namespace tributary::core

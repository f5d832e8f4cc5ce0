#include "datasets/sql_dialect.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "datasets/dsn.h"
#include "datasets/load.h"

namespace tributary::datasets {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(SqlDialectTest, QuotesIdentifiers) {
  EXPECT_EQ(QuoteIdentifier("CustomerID", Dialect::kPostgres), "\"CustomerID\"");
  EXPECT_EQ(QuoteIdentifier("a\"b", Dialect::kPostgres), "\"a\"\"b\"");
  EXPECT_EQ(QuoteIdentifier("order", Dialect::kMySql), "`order`");
  EXPECT_EQ(QuoteIdentifier("a`b", Dialect::kMySql), "`a``b`");
}

TableSpec OrderLines() {
  TableSpec spec;
  spec.name = "order_item";
  spec.columns = {{"order_id", ColumnType::kInteger, 0, 0, false},
                  {"sku", ColumnType::kText, 0, 0, false},
                  {"note", ColumnType::kText},
                  {"amount", ColumnType::kNumeric, 12, 2, false},
                  {"at", ColumnType::kTimestamp}};
  spec.primary_key = {"order_id", "sku"};
  spec.foreign_keys = {{{"order_id"}, "orders", {"order_id"}}};
  return spec;
}

TEST(SqlDialectTest, CreateTablePostgres) {
  const std::string sql = CreateTableSql(OrderLines(), Dialect::kPostgres);
  EXPECT_EQ(sql,
            "CREATE TABLE \"order_item\" (\n"
            "  \"order_id\" integer NOT NULL,\n"
            "  \"sku\" text NOT NULL,\n"
            "  \"note\" text,\n"
            "  \"amount\" numeric(12,2) NOT NULL,\n"
            "  \"at\" timestamp,\n"
            "  PRIMARY KEY (\"order_id\", \"sku\"),\n"
            "  FOREIGN KEY (\"order_id\") REFERENCES \"orders\" (\"order_id\")\n"
            ")");
}

TEST(SqlDialectTest, CreateTableMySqlUsesVarcharForKeys) {
  const std::string sql = CreateTableSql(OrderLines(), Dialect::kMySql);
  EXPECT_THAT(sql, HasSubstr("`sku` VARCHAR(255) NOT NULL"));
  EXPECT_THAT(sql, HasSubstr("`note` LONGTEXT"));
  EXPECT_THAT(sql, HasSubstr("`amount` DECIMAL(12,2) NOT NULL"));
  EXPECT_THAT(sql, HasSubstr("`at` DATETIME(6)"));
  EXPECT_THAT(sql, HasSubstr("PRIMARY KEY (`order_id`, `sku`)"));
  EXPECT_THAT(sql, HasSubstr("REFERENCES `orders` (`order_id`)"));
  EXPECT_THAT(sql, HasSubstr("ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"));
}

TEST(DsnTest, PostgresForms) {
  auto uri = ParseTargetDsn("postgres://app:s3cret@localhost:5432/shop");
  ASSERT_TRUE(uri.ok());
  EXPECT_EQ(uri->dialect, Dialect::kPostgres);
  EXPECT_EQ(uri->postgres_conninfo, "postgres://app:s3cret@localhost:5432/shop");
  EXPECT_THAT(uri->redacted, Not(HasSubstr("s3cret")));
  auto keywords = ParseTargetDsn("host=/tmp port=5433 dbname=shop password=hunter2");
  ASSERT_TRUE(keywords.ok());
  EXPECT_EQ(keywords->dialect, Dialect::kPostgres);
  EXPECT_THAT(keywords->redacted, Not(HasSubstr("hunter2")));
  EXPECT_THAT(keywords->redacted, HasSubstr("dbname=shop"));
}

TEST(DsnTest, MySqlUri) {
  auto dsn = ParseTargetDsn("mysql://root:p%40ss@127.0.0.1:3307/shop?socket=%2Ftmp%2Fm.sock");
  ASSERT_TRUE(dsn.ok()) << dsn.status().ToString();
  EXPECT_EQ(dsn->dialect, Dialect::kMySql);
  EXPECT_EQ(dsn->mysql.user, "root");
  EXPECT_EQ(dsn->mysql.password, "p@ss");
  EXPECT_EQ(dsn->mysql.host, "127.0.0.1");
  EXPECT_EQ(dsn->mysql.port, 3307u);
  EXPECT_EQ(dsn->mysql.database, "shop");
  EXPECT_EQ(dsn->mysql.socket, "/tmp/m.sock");
  EXPECT_THAT(dsn->redacted, Not(HasSubstr("p%40ss")));
  auto mariadb = ParseTargetDsn("mariadb://u@localhost/db");
  ASSERT_TRUE(mariadb.ok());
  EXPECT_EQ(mariadb->mysql.port, 0u);
  EXPECT_EQ(mariadb->mysql.password, "");
}

TEST(DsnTest, Errors) {
  EXPECT_FALSE(ParseTargetDsn("").ok());
  EXPECT_FALSE(ParseTargetDsn("mysql://u:pw@h:99999/db").ok());
  auto no_db = ParseTargetDsn("mysql://u:topsecret@h:3306");
  ASSERT_FALSE(no_db.ok());
  EXPECT_THAT(no_db.status().message(), HasSubstr("needs a database"));
  EXPECT_THAT(no_db.status().message(), Not(HasSubstr("topsecret")));
  auto unknown = ParseTargetDsn("oracle://u:topsecret@h/db");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(), Not(HasSubstr("topsecret")));
}

TEST(LoadTest, UnreachableServerIsANetworkErrorWithoutThePassword) {
  auto tables = std::vector<TableData>{};
  // Port 1 on loopback: nothing listens there.
  auto report = LoadTables(tables, "postgresql://u:topsecret@127.0.0.1:1/db?connect_timeout=2");
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), ErrorCode::kNetwork);
  EXPECT_THAT(report.status().ToString(), Not(HasSubstr("topsecret")));
  auto mysql = LoadTables(tables, "mysql://u:topsecret@127.0.0.1:1/db");
  ASSERT_FALSE(mysql.ok());
  EXPECT_EQ(mysql.status().code(), ErrorCode::kNetwork);
  EXPECT_THAT(mysql.status().ToString(), Not(HasSubstr("topsecret")));
}

TEST(LoadTest, MissingCsvDirectory) {
  auto report = LoadCsvDirectory("/nonexistent/dir", "host=/tmp");
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace tributary::datasets

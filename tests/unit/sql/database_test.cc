#include "sql/database.h"

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace tributary::sql {
namespace {

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conn = Database::OpenInMemoryConnection();
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(*conn);
  }
  std::unique_ptr<Connection> conn_;
};

TEST_F(DatabaseTest, TypedGettersAndText) {
  auto result = conn_->Query(
      "SELECT 42::BIGINT AS i, 2.5::DOUBLE AS d, true AS b, 'it''s' AS s, NULL::INTEGER "
      "AS n, "
      "12.30::DECIMAL(10,2) AS dec, DATE '2024-01-02' AS dt, "
      "TIMESTAMPTZ '2021-01-01 00:00:00.5+00' AS tz, [1, 2] AS l, {'a': 'x', 'b': NULL} "
      "AS st, "
      "MAP([1], ['v']) AS m, '\\x00\\xFF'::BLOB AS bl, "
      "123456789012345678901234567890::HUGEINT h, "
      "-0.000001::DECIMAL(38,6) AS small");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->row_count(), 1u);
  ASSERT_EQ(result->column_count(), 14u);
  EXPECT_EQ(result->column_name(0), "i");
  EXPECT_EQ(result->column_type(0), ColumnType::kBigInt);
  EXPECT_EQ(result->GetInt64(0, 0), 42);
  EXPECT_DOUBLE_EQ(result->GetDouble(1, 0), 2.5);
  EXPECT_EQ(result->GetString(1, 0), "2.5");
  EXPECT_TRUE(result->GetBool(2, 0));
  EXPECT_EQ(result->GetString(3, 0), "it's");
  EXPECT_TRUE(result->IsNull(4, 0));
  EXPECT_EQ(result->GetOptionalString(4, 0), std::nullopt);
  EXPECT_EQ(result->GetString(5, 0), "12.30");
  EXPECT_EQ(result->column_type_name(5), "DECIMAL(10,2)");
  EXPECT_DOUBLE_EQ(result->GetDouble(5, 0), 12.3);
  EXPECT_EQ(result->GetString(6, 0), "2024-01-02");
  EXPECT_EQ(result->GetString(7, 0), "2021-01-01 00:00:00.5+00");
  EXPECT_EQ(result->GetString(8, 0), "[1, 2]");
  EXPECT_EQ(result->column_type_name(8), "INTEGER[]");
  EXPECT_EQ(result->GetString(9, 0), "{'a': 'x', 'b': NULL}");
  EXPECT_EQ(result->GetString(10, 0), "{1='v'}");
  EXPECT_EQ(result->GetBlob(11, 0), std::string("\x00\xFF", 2));
  EXPECT_EQ(result->GetString(11, 0), "\\x00\\xFF");
  EXPECT_EQ(result->GetString(12, 0), "123456789012345678901234567890");
  EXPECT_EQ(result->GetString(13, 0), "-0.000001");
  EXPECT_EQ(result->ColumnIndex("st"), 9u);
  EXPECT_EQ(result->ColumnIndex("nope"), std::nullopt);
}

TEST_F(DatabaseTest, ErrorsCarryCodeAndStatement) {
  auto syntax = conn_->Query("SELEC 1");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(syntax.status().message().find("SELEC 1"), std::string::npos);
  auto missing = conn_->Query("SELECT * FROM read_parquet('/nonexistent/file.parquet')");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/file.parquet"),
            std::string::npos);
}

TEST_F(DatabaseTest, PreparedStatementsAndAppender) {
  ASSERT_TRUE(
      conn_
          ->Execute("CREATE TABLE t (id BIGINT, name VARCHAR, amount DECIMAL(10,2), "
                    "created TIMESTAMP, payload BLOB, ok BOOLEAN, f DOUBLE)")
          .ok());
  auto appender = conn_->CreateAppender("", "t");
  ASSERT_TRUE(appender.ok()) << appender.status().ToString();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE((*appender)->AppendInt64(i).ok());
    ASSERT_TRUE((*appender)->AppendString("n" + std::to_string(i)).ok());
    ASSERT_TRUE((*appender)->AppendString("1.25").ok());
    ASSERT_TRUE((*appender)->AppendString("2024-01-01 00:00:00").ok());
    ASSERT_TRUE((*appender)->AppendBlob(std::string("\x01\x02", 2)).ok());
    ASSERT_TRUE((*appender)->AppendBool(i % 2 == 0).ok());
    if (i == 2) {
      ASSERT_TRUE((*appender)->AppendNull().ok());
    } else {
      ASSERT_TRUE((*appender)->AppendDouble(0.5).ok());
    }
    ASSERT_TRUE((*appender)->EndRow().ok());
  }
  ASSERT_TRUE((*appender)->Close().ok());
  auto stmt =
      conn_->Prepare("SELECT count(*), sum(amount) FROM t WHERE id >= ? AND name <> ?");
  ASSERT_TRUE(stmt.ok()) << stmt.status().ToString();
  EXPECT_EQ((*stmt)->parameter_count(), 2u);
  ASSERT_TRUE((*stmt)->BindInt64(1, 1).ok());
  ASSERT_TRUE((*stmt)->BindString(2, "n2").ok());
  auto result = (*stmt)->Execute();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->GetInt64(0, 0), 1);
  EXPECT_EQ(result->GetString(1, 0), "1.25");
  EXPECT_FALSE(conn_->CreateAppender("", "no_such_table").ok());
  auto changed = conn_->Query("DELETE FROM t WHERE id = 0");
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->rows_changed(), 1);
}

TEST(DatabaseOpenTest, FileDatabaseAndConfig) {
  testing::TempDir dir("sql-test");
  DatabaseOptions options;
  options.path = (dir.path() / "db.duckdb").string();
  options.config = {{"threads", "1"}};
  auto db = Database::Open(options);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto conn = (*db)->Connect();
  ASSERT_TRUE(conn.ok());
  auto threads = (*conn)->Query("SELECT current_setting('threads')");
  ASSERT_TRUE(threads.ok());
  EXPECT_EQ(threads->GetInt64(0, 0), 1);
  DatabaseOptions bad;
  bad.config = {{"no_such_option", "1"}};
  auto refused = Database::Open(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("no_such_option"), std::string::npos)
      << refused.status().ToString();
}

TEST(QuoteTest, IdentifiersAndLiterals) {
  EXPECT_EQ(QuoteIdentifier("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(QuoteLiteral("it's"), "'it''s'");
}

}  // namespace
}  // namespace tributary::sql

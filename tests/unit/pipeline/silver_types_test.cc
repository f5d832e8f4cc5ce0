// TimestampTzText's direct formatting (years 0..9999) against core's date and time
// formatting, which it replaced on silver's per-row path (issue #5).

#include <cstdint>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/decimal.h"
#include "core/position.h"
#include "core/value.h"
#include "lake/delta/writer.h"
#include "pipeline/types.h"
#include "sql/database.h"
#include "sql/row_batch.h"

namespace tributary::pipeline {
namespace {

std::string Reference(int64_t micros) {
  int64_t days = micros >= 0
                     ? micros / core::kMicrosPerDay
                     : -((-micros + core::kMicrosPerDay - 1) / core::kMicrosPerDay);
  int64_t rest = micros - days * core::kMicrosPerDay;
  return fmt::format("{} {}+00", core::FormatDate(static_cast<int32_t>(days)),
                     core::FormatTime(rest));
}

TEST(SilverTypesTest, TimestampTzTextMatchesCoreFormatting) {
  EXPECT_EQ(TimestampTzText(0), "1970-01-01 00:00:00+00");
  EXPECT_EQ(TimestampTzText(1'700'000'000'123'400), "2023-11-14 22:13:20.1234+00");
  EXPECT_EQ(TimestampTzText(-1), "1969-12-31 23:59:59.999999+00");
  EXPECT_EQ(TimestampTzText(951'782'400'000'000), "2000-02-29 00:00:00+00");
  // Every day boundary and odd fractions over several centuries, both signs, and the
  // years outside 0..9999 that take the fallback.
  const int64_t step = 7 * core::kMicrosPerDay + 3'600'000'001 + 17;
  for (int64_t micros = -70'000'000'000'000'000; micros < 260'000'000'000'000'000;
       micros += step * 997) {
    ASSERT_EQ(TimestampTzText(micros), Reference(micros)) << micros;
    ASSERT_EQ(TimestampTzText(micros + 500'000), Reference(micros + 500'000)) << micros;
  }
}

// PositionFormatter reuses the commit LSN's text; it must equal ToString() exactly.
TEST(SilverTypesTest, PositionFormatterMatchesToString) {
  PositionFormatter formatter;
  const uint64_t lsns[] = {0, 1, 0xF, 0x16B374D848, 0xFFFFFFFFFFFFFFFF, 0x100000000};
  for (uint64_t commit : lsns) {
    for (uint64_t event : lsns) {
      core::PostgresPosition pg;
      pg.commit_lsn = commit;
      pg.event_lsn = event;
      pg.txid = event % 100000;
      pg.event_index = commit % 7;
      core::SourcePosition position(pg);
      ASSERT_EQ(formatter.Format(position), position.ToString());
    }
  }
  core::MysqlPosition mysql;
  mysql.file = "binlog.000001";
  mysql.pos = 4;
  core::SourcePosition other(mysql);
  EXPECT_EQ(formatter.Format(other), other.ToString());
}

// Typed appends read back through DuckDB equal the text DuckDB's own casts give.
TEST(SilverTypesTest, AppendBatchValueStoresTypedValues) {
  namespace delta = lake::delta;
  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto scan = (*conn)->CreateBatchScan("cells");
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  struct Case {
    delta::DataType type;
    core::Value value;
    std::string expected;  // CAST(x AS VARCHAR); "NULL" for null
  };
  auto dec = [](std::string_view text) {
    return core::Value::Numeric(*core::Decimal::FromString(text));
  };
  const std::vector<Case> cases = {
      {delta::DataType::Decimal(12, 2), dec("1234.56"), "1234.56"},
      {delta::DataType::Decimal(12, 2), dec("-0.5"), "-0.50"},
      {delta::DataType::Decimal(12, 2), dec("1.005"), "1.01"},
      {delta::DataType::Decimal(12, 2), dec("-1.005"), "-1.01"},
      {delta::DataType::Decimal(12, 2), dec("NaN"), "NULL"},
      {delta::DataType::Decimal(12, 2), core::Value::Int32(7), "7.00"},
      {delta::DataType::Decimal(38, 6), dec("-12345678901234567890.123456"),
       "-12345678901234567890.123456"},
      {delta::DataType::Decimal(20, 0), core::Value::UInt64(18446744073709551615ULL),
       "18446744073709551615"},
      {delta::DataType::Primitive(delta::TypeKind::kLong), core::Value::Int64(-42),
       "-42"},
      {delta::DataType::Primitive(delta::TypeKind::kShort), core::Value::UInt8(200),
       "200"},
      {delta::DataType::Primitive(delta::TypeKind::kTimestamp),
       core::Value::TimestampTz(1'700'000'000'123'400), "2023-11-14 22:13:20.1234+00"},
      {delta::DataType::Primitive(delta::TypeKind::kTimestampNtz),
       core::Value::Timestamp(-1), "1969-12-31 23:59:59.999999"},
      {delta::DataType::Primitive(delta::TypeKind::kDate), core::Value::Date(-1),
       "1969-12-31"},
      {delta::DataType::Primitive(delta::TypeKind::kString), core::Value::Int32(5), "5"},
      {delta::DataType::Primitive(delta::TypeKind::kDouble), dec("2.5"), "2.5"},
      {delta::DataType::Primitive(delta::TypeKind::kBoolean), core::Value::Bool(true),
       "true"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.type.ToString() + " " + c.value.ToString());
    sql::BatchColumn column = DeltaBatchColumn("v", c.type);
    sql::RowBatch batch({column});
    ASSERT_TRUE(AppendBatchValue(batch, column, c.value).ok());
    batch.EndRow();
    (*scan)->Set(&batch);
    auto result = (*conn)->Query(
        "SELECT coalesce(CAST(v AS VARCHAR), 'NULL'), typeof(v) FROM cells()");
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->GetString(0, 0), c.expected);
    EXPECT_EQ(result->GetString(1, 0), delta::DuckDbTypeOf(c.type));
  }
  // Values that do not fit are errors naming the column, with nothing appended.
  sql::BatchColumn small =
      DeltaBatchColumn("small", delta::DataType::Primitive(delta::TypeKind::kShort));
  sql::RowBatch batch({small});
  auto too_big = AppendBatchValue(batch, small, core::Value::Int64(70000));
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.status().message().find("small"), std::string::npos)
      << too_big.status().ToString();
  sql::BatchColumn narrow = DeltaBatchColumn("d", delta::DataType::Decimal(4, 2));
  sql::RowBatch decimals({narrow});
  EXPECT_FALSE(AppendBatchValue(decimals, narrow, dec("100.00")).ok());
}

}  // namespace
}  // namespace tributary::pipeline

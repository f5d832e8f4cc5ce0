#include "lake/parquet/parquet_writer.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace tributary::lake::parquet {
namespace {

// WriteParquetFile takes the statistics COPY returns (RETURN_STATS); they must equal what
// the footer says (ReadParquetFileInfo), including quoted strings, quoted column names,
// timestamps as microseconds in any session time zone, nulls and nested columns
// (booleans excepted: COPY returns no min/max for them).
TEST(ParquetWriterTest, ReturnedStatisticsEqualTheFooter) {
  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)->Execute("SET TimeZone = 'America/New_York'").ok());
  testing::TempDir dir("parquet-writer-test");
  const std::string path = (dir.path() / "stats.parquet").string();
  const std::string query =
      "SELECT * FROM (VALUES "
      "(1::BIGINT, 'a''b\\c{=}, \"x\"', 1.50::DECIMAL(12,2), DATE '2020-01-02', "
      "TIMESTAMP '2020-01-01 10:00:00.123456', TIMESTAMPTZ '2020-06-01 12:00:00+02', "
      "1.5::DOUBLE, NULL::VARCHAR, {'a': 1}, true), "
      "(-7, 'zz' || repeat('y', 40), -3.25, DATE '1969-12-31', "
      "TIMESTAMP '1969-12-31 23:59:59.5', TIMESTAMPTZ '2021-01-01 00:00:00+00', -2.0, "
      "NULL, {'a': 2}, false)) "
      "AS t(id, \"we'ird \"\"name\"\"\", amount, d, ts, tz, f, n, st, b)";
  auto written = WriteParquetFile(**conn, query, path);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  auto footer = ReadParquetFileInfo(**conn, path);
  ASSERT_TRUE(footer.ok()) << footer.status().ToString();
  EXPECT_EQ(written->num_rows, 2);
  EXPECT_EQ(written->num_rows, footer->num_rows);
  EXPECT_EQ(written->size_bytes, footer->size_bytes);
  ASSERT_EQ(written->columns.size(), footer->columns.size());
  for (size_t i = 0; i < written->columns.size(); ++i) {
    const auto& a = written->columns[i];
    const auto& b = footer->columns[i];
    SCOPED_TRACE(a.name);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.duckdb_type, b.duckdb_type);
    if (a.duckdb_type == "BOOLEAN") {
      // COPY returns no min/max for booleans (Delta stats have none either).
      EXPECT_FALSE(a.min.has_value());
    } else {
      EXPECT_EQ(a.min, b.min);
      EXPECT_EQ(a.max, b.max);
    }
    EXPECT_EQ(a.null_count, b.null_count);
  }
  EXPECT_EQ(written->columns[0].min, std::optional<std::string>("-7"));
  EXPECT_EQ(written->columns[1].name, "we'ird \"name\"");
  EXPECT_EQ(written->columns[1].min, std::optional<std::string>("a'b\\c{=}, \"x\""));
  // 1969-12-31 23:59:59.5 UTC and 2020-06-01 10:00:00 UTC.
  EXPECT_EQ(written->columns[4].min, std::optional<std::string>("-500000"));
  EXPECT_EQ(written->columns[5].min, std::optional<std::string>("1591005600000000"));
  EXPECT_EQ(written->columns[7].null_count, std::optional<int64_t>(2));
}

}  // namespace
}  // namespace tributary::lake::parquet

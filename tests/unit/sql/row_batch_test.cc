#include "sql/row_batch.h"

#include <algorithm>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "sql/database.h"
#include "testing/temp_dir.h"

namespace tributary::sql {
namespace {

class RowBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conn = Database::OpenInMemoryConnection();
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(*conn);
    auto scan = conn_->CreateBatchScan("batch_rows");
    ASSERT_TRUE(scan.ok()) << scan.status().ToString();
    scan_ = std::move(*scan);
  }

  QueryResult Query(std::string_view sql) {
    auto result = conn_->Query(sql);
    if (!result.ok()) {
      ADD_FAILURE() << result.status().ToString();
      return std::move(*conn_->Query("SELECT 0 WHERE false"));
    }
    return std::move(*result);
  }

  // Rows as "a|b\n" lines, NULL for nulls.
  std::string QueryText(std::string_view sql) {
    QueryResult result = Query(sql);
    std::string out;
    for (size_t row = 0; row < result.row_count(); ++row) {
      for (size_t column = 0; column < result.column_count(); ++column) {
        out += (column == 0 ? "" : "|") +
               result.GetOptionalString(column, row).value_or("NULL");
      }
      out += "\n";
    }
    return out;
  }

  std::unique_ptr<Connection> conn_;
  std::unique_ptr<BatchScan> scan_;
};

std::vector<BatchColumn> AllTypes() {
  return {{"b", BatchType::kBoolean},
          {"i8", BatchType::kTinyInt},
          {"i16", BatchType::kSmallInt},
          {"i32", BatchType::kInteger},
          {"i64", BatchType::kBigInt},
          {"f", BatchType::kFloat},
          {"d", BatchType::kDouble},
          {"s", BatchType::kVarchar},
          {"bl", BatchType::kBlob},
          {"dt", BatchType::kDate},
          {"ts", BatchType::kTimestamp},
          {"tz", BatchType::kTimestampTz},
          {"dec4", BatchType::kDecimal, 4, 1},
          {"dec9", BatchType::kDecimal, 9, 2},
          {"dec18", BatchType::kDecimal, 18, 3},
          {"dec38", BatchType::kDecimal, 38, 6}};
}

TEST_F(RowBatchTest, EveryTypeRoundTripsThroughAQuery) {
  RowBatch batch(AllTypes());
  // Row 0: values; row 1: all null; row 2: negative and long values.
  batch.AppendBool(true);
  batch.AppendInt64(-7);
  batch.AppendInt64(1234);
  batch.AppendInt64(2000000000);
  batch.AppendInt64(9000000000000000000);
  batch.AppendDouble(1.5);
  batch.AppendDouble(-2.25);
  batch.AppendString("héllo, \"world\"");
  batch.AppendString(std::string_view("\x00\xff", 2));
  batch.AppendInt64(19723);             // 2024-01-01
  batch.AppendInt64(1704067200123456);  // 2024-01-01 00:00:00.123456
  batch.AppendInt64(0);
  batch.AppendInt64(-123);     // -12.3
  batch.AppendInt64(1234567);  // 12345.67
  batch.AppendInt64(-1);       // -0.001
  batch.AppendInt64(5);        // 0.000005
  batch.EndRow();
  for (size_t i = 0; i < batch.column_count(); ++i) {
    batch.AppendNull();
  }
  batch.EndRow();
  batch.AppendBool(false);
  batch.AppendInt64(127);
  batch.AppendInt64(-32768);
  batch.AppendInt64(-1);
  batch.AppendInt64(-1);
  batch.AppendDouble(0);
  batch.AppendDouble(1e300);
  batch.AppendString(std::string(100, 'x'));  // not inlined by DuckDB (> 12 bytes)
  batch.AppendString("");
  batch.AppendInt64(-1);  // 1969-12-31
  batch.AppendInt64(-1);  // 1969-12-31 23:59:59.999999
  batch.AppendInt64(1700000000000000);
  batch.AppendInt64(9999);
  batch.AppendInt64(-999999999);
  batch.AppendInt64(999999999999999999);
  // -(2^64 + 1) unscaled: high -2, low 2^64 - 1.
  batch.AppendDecimal128(UINT64_MAX, -2);
  batch.EndRow();
  ASSERT_EQ(batch.row_count(), 3u);
  scan_->Set(&batch);

  QueryResult types = Query(
      "SELECT typeof(b), typeof(i8), typeof(i16), typeof(i32), typeof(i64), typeof(f), "
      "typeof(d), typeof(s), typeof(bl), typeof(dt), typeof(ts), typeof(tz), "
      "typeof(dec4), "
      "typeof(dec9), typeof(dec18), typeof(dec38) FROM batch_rows() LIMIT 1");
  const char* expected_types[] = {
      "BOOLEAN",      "TINYINT",      "SMALLINT",      "INTEGER",
      "BIGINT",       "FLOAT",        "DOUBLE",        "VARCHAR",
      "BLOB",         "DATE",         "TIMESTAMP",     "TIMESTAMP WITH TIME ZONE",
      "DECIMAL(4,1)", "DECIMAL(9,2)", "DECIMAL(18,3)", "DECIMAL(38,6)"};
  for (size_t i = 0; i < 16; ++i) {
    EXPECT_EQ(types.GetString(i, 0), expected_types[i]) << i;
    EXPECT_EQ(BatchTypeName(batch.columns()[i]), expected_types[i]) << i;
  }

  QueryResult rows = Query(
      "SET TimeZone = 'UTC'; SELECT b, i8, i16, i32, i64, f, d, s, hex(bl), dt::VARCHAR, "
      "ts::VARCHAR, tz::VARCHAR, dec4::VARCHAR, dec9::VARCHAR, dec18::VARCHAR, "
      "dec38::VARCHAR FROM batch_rows()");
  ASSERT_EQ(rows.row_count(), 3u);
  EXPECT_TRUE(rows.GetBool(0, 0));
  EXPECT_EQ(rows.GetInt64(1, 0), -7);
  EXPECT_EQ(rows.GetInt64(2, 0), 1234);
  EXPECT_EQ(rows.GetInt64(3, 0), 2000000000);
  EXPECT_EQ(rows.GetInt64(4, 0), 9000000000000000000);
  EXPECT_DOUBLE_EQ(rows.GetDouble(5, 0), 1.5);
  EXPECT_DOUBLE_EQ(rows.GetDouble(6, 0), -2.25);
  EXPECT_EQ(rows.GetString(7, 0), "héllo, \"world\"");
  EXPECT_EQ(rows.GetString(8, 0), "00FF");
  EXPECT_EQ(rows.GetString(9, 0), "2024-01-01");
  EXPECT_EQ(rows.GetString(10, 0), "2024-01-01 00:00:00.123456");
  EXPECT_EQ(rows.GetString(11, 0), "1970-01-01 00:00:00+00");
  EXPECT_EQ(rows.GetString(12, 0), "-12.3");
  EXPECT_EQ(rows.GetString(13, 0), "12345.67");
  EXPECT_EQ(rows.GetString(14, 0), "-0.001");
  EXPECT_EQ(rows.GetString(15, 0), "0.000005");
  for (size_t c = 0; c < 16; ++c) {
    EXPECT_TRUE(rows.IsNull(c, 1)) << c;
    EXPECT_FALSE(rows.IsNull(c, 2)) << c;
  }
  EXPECT_FALSE(rows.GetBool(0, 2));
  EXPECT_EQ(rows.GetInt64(1, 2), 127);
  EXPECT_EQ(rows.GetInt64(2, 2), -32768);
  EXPECT_EQ(rows.GetString(7, 2), std::string(100, 'x'));
  EXPECT_EQ(rows.GetString(8, 2), "");
  EXPECT_EQ(rows.GetString(9, 2), "1969-12-31");
  EXPECT_EQ(rows.GetString(10, 2), "1969-12-31 23:59:59.999999");
  EXPECT_EQ(rows.GetString(12, 2), "999.9");
  EXPECT_EQ(rows.GetString(13, 2), "-9999999.99");
  EXPECT_EQ(rows.GetString(14, 2), "999999999999999.999");
  EXPECT_EQ(rows.GetString(15, 2), "-18446744073709.551617");
}

TEST_F(RowBatchTest, ManyRowsKeepOrderAcrossChunksAndRangesSelectRows) {
  RowBatch batch({{"seq", BatchType::kBigInt}, {"text", BatchType::kVarchar}});
  constexpr int kRows = 5000;  // more than two DuckDB vectors (2,048 rows each)
  for (int i = 0; i < kRows; ++i) {
    batch.AppendInt64(i);
    if (i % 7 == 0) {
      batch.AppendNull();
    } else {
      batch.AppendString(fmt::format("row number {}", i));
    }
    batch.EndRow();
  }
  scan_->Set(&batch);
  // Order without ORDER BY: the scan is single-threaded and emits rows in batch order.
  QueryResult all = Query("SELECT seq, text FROM batch_rows()");
  ASSERT_EQ(all.row_count(), static_cast<size_t>(kRows));
  for (int i = 0; i < kRows; ++i) {
    ASSERT_EQ(all.GetInt64(0, static_cast<size_t>(i)), i);
    if (i % 7 == 0) {
      ASSERT_TRUE(all.IsNull(1, static_cast<size_t>(i))) << i;
    } else {
      ASSERT_EQ(all.GetString(1, static_cast<size_t>(i)),
                fmt::format("row number {}", i));
    }
  }
  // Projection pushdown: a query naming one column, and one naming none.
  QueryResult text_only =
      Query("SELECT count(text), max(length(text)) FROM batch_rows()");
  EXPECT_EQ(text_only.GetInt64(0, 0), kRows - (kRows + 6) / 7);
  QueryResult count = Query("SELECT count(*) FROM batch_rows()");
  EXPECT_EQ(count.GetInt64(0, 0), kRows);

  scan_->Set(&batch, 2040, 2100);
  QueryResult range = Query("SELECT min(seq), max(seq), count(*) FROM batch_rows()");
  EXPECT_EQ(range.GetInt64(0, 0), 2040);
  EXPECT_EQ(range.GetInt64(1, 0), 2099);
  EXPECT_EQ(range.GetInt64(2, 0), 60);
  scan_->Set(&batch, 4990, 1000000);  // an end past the rows stops at the last row
  EXPECT_EQ(Query("SELECT count(*) FROM batch_rows()").GetInt64(0, 0), 10);
  scan_->Set(&batch, 6000, 7000);  // a range past the rows is empty
  EXPECT_EQ(Query("SELECT count(*) FROM batch_rows()").GetInt64(0, 0), 0);
}

TEST_F(RowBatchTest, SetRowsReturnsTheListedRowsInListOrder) {
  RowBatch batch({{"seq", BatchType::kBigInt},
                  {"text", BatchType::kVarchar},
                  {"small", BatchType::kInteger},
                  {"flag", BatchType::kBoolean},
                  {"ratio", BatchType::kDouble},
                  {"day", BatchType::kDate},
                  {"wide", BatchType::kDecimal, 38, 2}});
  constexpr int kRows = 10000;
  auto text_of = [](int i) {
    // Short strings are inlined by DuckDB, long ones are not: both kinds.
    return i % 2 == 0 ? fmt::format("r{}", i)
                      : fmt::format("a longer row text, number {}", i);
  };
  for (int i = 0; i < kRows; ++i) {
    batch.AppendInt64(i);
    if (i % 7 == 0) {
      batch.AppendNull();
    } else {
      batch.AppendString(text_of(i));
    }
    batch.AppendInt64(-i);
    if (i % 11 == 0) {
      batch.AppendNull();
    } else {
      batch.AppendBool(i % 3 == 0);
    }
    batch.AppendDouble(i * 0.5);
    batch.AppendInt64(19723 + i % 4);  // 2024-01-01 + 0..3 days
    batch.AppendInt64(int64_t{i} * 100 + 1);
    batch.EndRow();
  }
  // Rows not divisible by 5, last first: 8,000 rows, about four DuckDB vectors.
  std::vector<uint32_t> selection;
  for (int i = kRows - 1; i >= 0; --i) {
    if (i % 5 != 0) {
      selection.push_back(static_cast<uint32_t>(i));
    }
  }
  ASSERT_GT(selection.size(), 4096u);
  scan_->SetRows(&batch, selection);
  QueryResult rows = Query(
      "SELECT seq, text, small, flag, ratio, day::VARCHAR, wide::VARCHAR FROM "
      "batch_rows()");
  ASSERT_EQ(rows.row_count(), selection.size());
  for (size_t pos = 0; pos < selection.size(); ++pos) {
    const int i = static_cast<int>(selection[pos]);
    ASSERT_EQ(rows.GetInt64(0, pos), i) << pos;
    if (i % 7 == 0) {
      ASSERT_TRUE(rows.IsNull(1, pos)) << i;
    } else {
      ASSERT_FALSE(rows.IsNull(1, pos)) << i;
      ASSERT_EQ(rows.GetString(1, pos), text_of(i));
    }
    ASSERT_EQ(rows.GetInt64(2, pos), -i);
    if (i % 11 == 0) {
      ASSERT_TRUE(rows.IsNull(3, pos)) << i;
    } else {
      ASSERT_FALSE(rows.IsNull(3, pos)) << i;
      ASSERT_EQ(rows.GetBool(3, pos), i % 3 == 0) << i;
    }
    ASSERT_DOUBLE_EQ(rows.GetDouble(4, pos), i * 0.5);
    ASSERT_EQ(rows.GetString(5, pos), fmt::format("2024-01-0{}", 1 + i % 4));
    ASSERT_EQ(rows.GetString(6, pos), fmt::format("{}.{:02}", i, 1));
  }
  // Projection pushdown: one column, and none.
  QueryResult text_only = Query("SELECT count(text), min(seq) FROM batch_rows()");
  int64_t expected_texts = 0;
  for (uint32_t row : selection) {
    expected_texts += row % 7 == 0 ? 0 : 1;
  }
  EXPECT_EQ(text_only.GetInt64(0, 0), expected_texts);
  EXPECT_EQ(text_only.GetInt64(1, 0), 1);
  EXPECT_EQ(Query("SELECT count(*) FROM batch_rows()").GetInt64(0, 0),
            static_cast<int64_t>(selection.size()));

  // A row listed twice comes twice, in list order.
  const std::vector<uint32_t> repeated = {3, 3, 1, 9999};
  scan_->SetRows(&batch, repeated);
  EXPECT_EQ(
      QueryText("SELECT seq, text FROM batch_rows()"),
      "3|a longer row text, number 3\n3|a longer row text, number 3\n1|a longer row "
      "text, number 1\n9999|a longer row text, number 9999\n");

  // An empty list returns no rows, with the batch's columns.
  scan_->SetRows(&batch, std::span<const uint32_t>());
  EXPECT_EQ(Query("SELECT count(*) FROM batch_rows()").GetInt64(0, 0), 0);
  QueryResult none = Query("SELECT * FROM batch_rows()");
  EXPECT_EQ(none.row_count(), 0u);
  EXPECT_EQ(none.column_count(), 7u);

  // A row past the batch fails the query, naming the function and the row.
  const std::vector<uint32_t> past = {1, static_cast<uint32_t>(kRows)};
  scan_->SetRows(&batch, past);
  auto failed = conn_->Query("SELECT * FROM batch_rows()");
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("batch_rows"), std::string::npos)
      << failed.status().ToString();
  EXPECT_NE(failed.status().message().find("10000"), std::string::npos)
      << failed.status().ToString();

  // Set() returns to ranges.
  scan_->Set(&batch, 10, 20);
  EXPECT_EQ(QueryText("SELECT min(seq), max(seq), count(*) FROM batch_rows()"),
            "10|19|10\n");
}

TEST_F(RowBatchTest, EraseFrontAndClearKeepTheRemainingRows) {
  RowBatch batch({{"k", BatchType::kInteger},
                  {"s", BatchType::kVarchar},
                  {"x", BatchType::kDecimal, 30, 2}});
  for (int i = 0; i < 10; ++i) {
    batch.AppendInt64(i);
    if (i == 8) {
      batch.AppendNull();
    } else {
      batch.AppendString(
          std::string(static_cast<size_t>(i + 1), static_cast<char>('a' + i)));
    }
    batch.AppendInt64(-i * 100);
    batch.EndRow();
  }
  batch.EraseFront(7);
  ASSERT_EQ(batch.row_count(), 3u);
  EXPECT_EQ(batch.GetInt64(0, 0), 7);
  EXPECT_EQ(batch.GetString(1, 0), "hhhhhhhh");
  EXPECT_TRUE(batch.IsNull(1, 1));
  EXPECT_EQ(batch.GetString(1, 2), "jjjjjjjjjj");
  EXPECT_EQ(batch.GetDecimal128(2, 2),
            (std::pair<uint64_t, int64_t>(static_cast<uint64_t>(int64_t{-900}), -1)));
  // Rows appended after the erase follow the kept ones.
  batch.AppendInt64(10);
  batch.AppendString("new");
  batch.AppendInt64(1);
  batch.EndRow();
  scan_->Set(&batch);
  QueryResult rows = Query("SELECT k, s, x::VARCHAR FROM batch_rows()");
  ASSERT_EQ(rows.row_count(), 4u);
  EXPECT_EQ(rows.GetInt64(0, 0), 7);
  EXPECT_TRUE(rows.IsNull(1, 1));
  EXPECT_EQ(rows.GetString(2, 2), "-9.00");
  EXPECT_EQ(rows.GetString(1, 3), "new");
  EXPECT_EQ(rows.GetString(2, 3), "0.01");
  batch.Clear();
  EXPECT_EQ(batch.row_count(), 0u);
  EXPECT_EQ(batch.memory_bytes(), 0u);
  EXPECT_EQ(Query("SELECT count(*) FROM batch_rows()").GetInt64(0, 0), 0);
}

// The scan hands DuckDB its strings in place: up to 12 bytes inlined, longer ones as a
// prefix and a pointer into the batch. Comparisons, grouping and joins see the same
// strings either way, and what DuckDB keeps (a table, a materialized result) is its own
// copy: it does not change when the batch does.
TEST_F(RowBatchTest, StringsOfEveryLengthCompareAndOutliveTheBatchOnceCopied) {
  RowBatch batch({{"s", BatchType::kVarchar}, {"b", BatchType::kBlob}});
  std::vector<std::string> texts;
  for (size_t size : {0, 1, 4, 11, 12, 13, 16, 100, 5000}) {
    std::string text;
    for (size_t i = 0; i < size; ++i) {
      text.push_back(static_cast<char>('a' + (i * 7 + size) % 26));
    }
    texts.push_back(text);
  }
  texts.push_back("ab\u00e9\u20ac");                                  // 7 bytes of UTF-8
  texts.push_back("h\u00e9llo w\u00f6rld, longer than twelve");  // 37 bytes
  for (int round = 0; round < 2; ++round) {  // every text twice
    for (const std::string& text : texts) {
      batch.AppendString(text);
      batch.AppendString(text + std::string(1, '\0') + "tail");
      batch.EndRow();
    }
  }
  scan_->Set(&batch);
  ASSERT_TRUE(conn_->Execute("CREATE TABLE kept AS SELECT * FROM batch_rows()").ok());
  QueryResult materialized = Query("SELECT s, octet_length(b) FROM batch_rows()");
  // Grouping and a self-join over the scan: each text twice, equal to itself only.
  QueryResult groups = Query(
      "SELECT s, count(*) AS n, min(length(s)) FROM batch_rows() GROUP BY s ORDER BY s");
  ASSERT_EQ(groups.row_count(), texts.size());
  for (size_t row = 0; row < groups.row_count(); ++row) {
    EXPECT_EQ(groups.GetInt64(1, row), 2) << groups.GetString(0, row);
  }
  EXPECT_EQ(Query("SELECT count(*) FROM batch_rows() AS x JOIN batch_rows() AS y ON x.s = y.s")
                .GetInt64(0, 0),
            static_cast<int64_t>(4 * texts.size()));
  EXPECT_EQ(Query("SELECT count(*) FROM batch_rows() WHERE s > 'h' AND s LIKE '%twelve'")
                .GetInt64(0, 0),
            2);
  // Against constants (DuckDB's own strings): equal, and ordered, byte for byte.
  std::vector<std::string> sorted = texts;
  std::sort(sorted.begin(), sorted.end());
  for (const std::string& text : texts) {
    const int64_t below = std::lower_bound(sorted.begin(), sorted.end(), text) - sorted.begin();
    QueryResult counts = Query(fmt::format(
        "SELECT count(*) FILTER (s = '{0}'), count(*) FILTER (s < '{0}'), "
        "count(*) FILTER (s > '{0}') FROM batch_rows()",
        text));
    EXPECT_EQ(counts.GetInt64(0, 0), 2) << text;
    EXPECT_EQ(counts.GetInt64(1, 0), 2 * below) << text;
    EXPECT_EQ(counts.GetInt64(2, 0), 2 * (static_cast<int64_t>(texts.size()) - below - 1))
        << text;
  }
  // The batch changes; the table and the result keep the texts.
  batch.Clear();
  for (size_t i = 0; i < 2 * texts.size(); ++i) {
    batch.AppendString(std::string(64, 'z'));
    batch.AppendString(std::string(64, 'z'));
    batch.EndRow();
  }
  batch.Clear();
  scan_->Reset();
  QueryResult kept = Query("SELECT s, b FROM kept");
  ASSERT_EQ(kept.row_count(), 2 * texts.size());
  ASSERT_EQ(materialized.row_count(), 2 * texts.size());
  for (size_t row = 0; row < kept.row_count(); ++row) {
    const std::string& text = texts[row % texts.size()];
    EXPECT_EQ(kept.GetString(0, row), text) << row;
    EXPECT_EQ(kept.GetBlob(1, row), text + std::string(1, '\0') + "tail") << row;
    EXPECT_EQ(materialized.GetString(0, row), text) << row;
    EXPECT_EQ(materialized.GetInt64(1, row), static_cast<int64_t>(text.size() + 5)) << row;
  }
}

TEST_F(RowBatchTest, QueriesWithoutABatchFailNamingTheFunction) {
  auto unset = conn_->Query("SELECT * FROM batch_rows()");
  ASSERT_FALSE(unset.ok());
  EXPECT_NE(unset.status().message().find("batch_rows"), std::string::npos)
      << unset.status().ToString();
  RowBatch batch({{"a", BatchType::kBigInt}});
  scan_->Set(&batch);
  EXPECT_TRUE(conn_->Query("SELECT * FROM batch_rows()").ok());
  scan_->Reset();
  EXPECT_FALSE(conn_->Query("SELECT * FROM batch_rows()").ok());
  scan_->Set(&batch);
  scan_.reset();  // the function stays registered but reads nothing
  EXPECT_FALSE(conn_->Query("SELECT * FROM batch_rows()").ok());
  auto again = conn_->CreateBatchScan("batch_rows");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_TRUE(conn_->CreateBatchScan("other_rows").ok());
}

TEST_F(RowBatchTest, CopyToParquetKeepsTypesAndValues) {
  testing::TempDir dir;
  RowBatch batch({{"id", BatchType::kBigInt},
                  {"amount", BatchType::kDecimal, 12, 2},
                  {"happened", BatchType::kTimestampTz},
                  {"note", BatchType::kVarchar}});
  for (int i = 0; i < 3000; ++i) {
    batch.AppendInt64(i);
    batch.AppendInt64(i * 101);
    batch.AppendInt64(int64_t{1700000000000000} + i);
    batch.AppendString(fmt::format("note {}", i));
    batch.EndRow();
  }
  scan_->Set(&batch);
  const std::string file = (dir.path() / "rows.parquet").string();
  ASSERT_TRUE(conn_
                  ->Execute(fmt::format("COPY (SELECT * FROM batch_rows()) TO {} "
                                        "(FORMAT parquet)",
                                        QuoteLiteral(file)))
                  .ok());
  QueryResult back =
      Query(fmt::format("SELECT count(*), sum(amount)::VARCHAR, min(happened) = "
                        "make_timestamptz(1700000000000000), "
                        "max(note), typeof(any_value(amount)) FROM read_parquet({})",
                        QuoteLiteral(file)));
  EXPECT_EQ(back.GetInt64(0, 0), 3000);
  EXPECT_EQ(back.GetString(1, 0), "4543485.00");  // 101 * (0 + ... + 2999) / 100
  EXPECT_TRUE(back.GetBool(2, 0));
  EXPECT_EQ(back.GetString(3, 0), "note 999");
  EXPECT_EQ(back.GetString(4, 0), "DECIMAL(12,2)");
}

}  // namespace
}  // namespace tributary::sql

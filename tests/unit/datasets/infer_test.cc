#include "datasets/infer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "datasets/load.h"

namespace tributary::datasets {
namespace {

using ::testing::ElementsAre;

std::vector<Row> Column1(std::vector<std::optional<std::string>> values) {
  std::vector<Row> rows;
  for (auto& value : values) {
    rows.push_back({std::move(value)});
  }
  return rows;
}

ColumnSpec Infer(std::vector<std::optional<std::string>> values) {
  return InferColumn("c", Column1(std::move(values)), 0);
}

TEST(InferTest, Integers) {
  EXPECT_EQ(Infer({"1", "-20", "2147483647"}).type, ColumnType::kInteger);
  EXPECT_EQ(Infer({"1", "2147483648"}).type, ColumnType::kBigint);
  EXPECT_EQ(Infer({"-2147483648"}).type, ColumnType::kInteger);
  EXPECT_EQ(Infer({"-2147483649"}).type, ColumnType::kBigint);
  EXPECT_EQ(Infer({"9223372036854775807"}).type, ColumnType::kBigint);
  const ColumnSpec huge = Infer({"9223372036854775808"});
  EXPECT_EQ(huge.type, ColumnType::kNumeric);
  EXPECT_EQ(huge.precision, 19);
  EXPECT_EQ(huge.scale, 0);
}

TEST(InferTest, LeadingZerosStayText) {
  EXPECT_EQ(Infer({"01234", "12345"}).type, ColumnType::kText);
  EXPECT_EQ(Infer({"0", "10"}).type, ColumnType::kInteger);
}

TEST(InferTest, NumericPrecisionAndScaleExactFromText) {
  const ColumnSpec price = Infer({"3399.9900", "9.50", "120"});
  EXPECT_EQ(price.type, ColumnType::kNumeric);
  EXPECT_EQ(price.scale, 4);
  EXPECT_EQ(price.precision, 8);
  const ColumnSpec total = Infer({"356.9", "873.82", "-10.79", "12345.6"});
  EXPECT_EQ(total.precision, 7);
  EXPECT_EQ(total.scale, 2);
  const ColumnSpec fraction = Infer({"0.125", "-0.5"});
  EXPECT_EQ(fraction.precision, 3);
  EXPECT_EQ(fraction.scale, 3);
  EXPECT_EQ(ColumnTypeName(fraction), "numeric(3,3)");
}

TEST(InferTest, NotExactNumbersStayText) {
  EXPECT_EQ(Infer({"1e5"}).type, ColumnType::kText);
  EXPECT_EQ(Infer({".5"}).type, ColumnType::kText);
  EXPECT_EQ(Infer({"5."}).type, ColumnType::kText);
  EXPECT_EQ(Infer({"+5"}).type, ColumnType::kText);
  EXPECT_EQ(Infer({"1", "abc"}).type, ColumnType::kText);
  EXPECT_EQ(Infer({"NaN"}).type, ColumnType::kText);
  // More than 38 digits does not fit a Delta decimal.
  EXPECT_EQ(Infer({std::string(39, '9')}).type, ColumnType::kText);
}

TEST(InferTest, DatesAndTimestamps) {
  EXPECT_EQ(Infer({"2022-06-01", "2024-02-29"}).type, ColumnType::kDate);
  EXPECT_EQ(Infer({"2023-02-29"}).type, ColumnType::kText);
  EXPECT_EQ(Infer({"2022-13-01"}).type, ColumnType::kText);
  EXPECT_EQ(Infer({"2022-06-01 10:11:12", "2022-06-01T23:59:59.123456"}).type,
            ColumnType::kTimestamp);
  EXPECT_EQ(Infer({"2022-06-01", "2022-06-01 10:11:12"}).type, ColumnType::kTimestamp);
  EXPECT_EQ(Infer({"2022-06-01 24:00:00"}).type, ColumnType::kText);
  EXPECT_EQ(Infer({"2022-06-01 10:11:12.1234567"}).type, ColumnType::kText);
}

TEST(InferTest, BooleansNullsAndText) {
  EXPECT_EQ(Infer({"true", "FALSE", "True"}).type, ColumnType::kBoolean);
  EXPECT_EQ(Infer({"yes", "no"}).type, ColumnType::kText);
  const ColumnSpec with_null = Infer({"1", std::nullopt});
  EXPECT_EQ(with_null.type, ColumnType::kInteger);
  EXPECT_TRUE(with_null.nullable);
  EXPECT_FALSE(Infer({"1"}).nullable);
  EXPECT_EQ(Infer({std::nullopt, std::nullopt}).type, ColumnType::kText);
}

TEST(InferTest, NormalizesBooleansAndTimestamps) {
  std::vector<Row> rows = Column1({"TRUE", "False"});
  NormalizeValues(Infer({"TRUE", "False"}), 0, rows);
  EXPECT_EQ(rows[0][0], std::optional<std::string>("true"));
  EXPECT_EQ(rows[1][0], std::optional<std::string>("false"));
  std::vector<Row> timestamps = Column1({"2022-06-01", "2022-06-01T10:11:12"});
  NormalizeValues(Infer({"2022-06-01", "2022-06-01T10:11:12"}), 0, timestamps);
  EXPECT_EQ(timestamps[0][0], std::optional<std::string>("2022-06-01 00:00:00"));
  EXPECT_EQ(timestamps[1][0], std::optional<std::string>("2022-06-01 10:11:12"));
}

TableSpec SpecFor(const CsvDocument& doc) {
  TableSpec spec;
  for (size_t column_idx = 0; column_idx < doc.header.size(); ++column_idx) {
    spec.columns.push_back(InferColumn(doc.header[column_idx], doc.rows, column_idx));
  }
  return spec;
}

TEST(InferTest, PrimaryKeyFirstColumnWhenUnique) {
  auto doc = ParseCsv("id,name\n1,a\n2,a\n", "t.csv");
  ASSERT_TRUE(doc.ok());
  EXPECT_THAT(InferPrimaryKey(SpecFor(*doc), doc->rows), ElementsAre("id"));
}

TEST(InferTest, PrimaryKeyFirstColumnPlusOneSkippingMeasures) {
  // (order, total) is unique by accident; (order, line) is the key.
  auto doc = ParseCsv("order,date,total,line\n1,2022-01-01,1.50,1\n1,2022-01-01,2.50,2\n"
                      "2,2022-01-02,1.50,1\n",
                      "t.csv");
  ASSERT_TRUE(doc.ok());
  EXPECT_THAT(InferPrimaryKey(SpecFor(*doc), doc->rows), ElementsAre("order", "line"));
}

TEST(InferTest, PrimaryKeyLeadingPrefixThenNone) {
  auto doc = ParseCsv("a,b,c\n1,1,1\n1,2,1\n1,2,2\n2,1,1\n", "t.csv");
  ASSERT_TRUE(doc.ok());
  EXPECT_THAT(InferPrimaryKey(SpecFor(*doc), doc->rows), ElementsAre("a", "b", "c"));
  auto duplicates = ParseCsv("a,b\n1,1\n1,1\n", "t.csv");
  ASSERT_TRUE(duplicates.ok());
  EXPECT_TRUE(InferPrimaryKey(SpecFor(*duplicates), duplicates->rows).empty());
  auto nulls = ParseCsv("a,b\n,1\n2,1\n", "t.csv");
  ASSERT_TRUE(nulls.ok());
  EXPECT_TRUE(InferPrimaryKey(SpecFor(*nulls), nulls->rows).empty());
}

TEST(InferTest, SeedCsvDirectoryTypesAndKeys) {
  auto tables = ReadCsvDirectory(TRIB_SHARED_DIR "/seed-data/data-platform");
  ASSERT_TRUE(tables.ok()) << tables.status().ToString();
  ASSERT_EQ(tables->size(), 3u);
  const TableData& customer = (*tables)[0];
  const TableData& product = (*tables)[1];
  const TableData& salesorder = (*tables)[2];
  EXPECT_EQ(customer.spec.name, "customer");
  EXPECT_THAT(customer.spec.primary_key, ElementsAre("CustomerID"));
  EXPECT_EQ(customer.spec.columns[0].type, ColumnType::kInteger);
  EXPECT_EQ(customer.spec.columns[3].type, ColumnType::kText);
  EXPECT_EQ(product.spec.name, "product");
  EXPECT_THAT(product.spec.primary_key, ElementsAre("ProductID"));
  EXPECT_EQ(ColumnTypeName(product.spec.columns[3]), "numeric(8,4)");
  EXPECT_EQ(salesorder.spec.name, "salesorder");
  EXPECT_THAT(salesorder.spec.primary_key, ElementsAre("SalesOrderID", "LineItem"));
  EXPECT_EQ(salesorder.spec.columns[1].type, ColumnType::kDate);
  EXPECT_EQ(salesorder.spec.columns[6].type, ColumnType::kNumeric);
  EXPECT_EQ(salesorder.spec.columns[6].scale, 2);
  EXPECT_EQ(salesorder.source, "salesorder.csv");
  EXPECT_EQ(salesorder.source_lines.front(), 2);
  EXPECT_EQ(salesorder.rows.size(), salesorder.source_lines.size());
}

}  // namespace
}  // namespace tributary::datasets

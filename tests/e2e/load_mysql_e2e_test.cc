// `tributary load` against a real MariaDB: the seed CSV files from
// ../shared/seed-data/data-platform (read in place) and the generated store dataset, through
// multi-row INSERTs. Expected values come from the CSV text with exact decimal arithmetic.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "datasets/generate.h"
#include "datasets/load.h"
#include "testing/mariadb_fixture.h"
#include "testing/seed_csv.h"

namespace tributary {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::filesystem::path kSeedDir = testing::SeedDataDir();
using testing::ReadCsv;

/// "356.9" -> 35690 (no value in the seed files needs more than 64 bits).
int64_t ToCents(const std::string& text) {
  return static_cast<int64_t>(testing::ParseFixedPoint(text, 2));
}

std::string FormatCents(int64_t cents) {
  return testing::FormatFixedPoint(cents, 2);
}

class LoadMariaDbTest : public testing::MariaDbFixture {
 protected:
  std::string FreshDatabase(const std::string& name) {
    EXPECT_TRUE(mariadb().Exec(fmt::format("DROP DATABASE IF EXISTS `{}`", name)).ok());
    EXPECT_TRUE(mariadb().CreateDatabase(name).ok());
    return name;
  }

  std::string Scalar(const std::string& sql, const std::string& database) {
    auto rows = mariadb().Exec(sql, database);
    EXPECT_TRUE(rows.ok()) << sql << ": " << (rows.ok() ? "" : rows.status().ToString());
    return rows.ok() ? rows->Scalar() : "";
  }

  std::vector<std::string> PrimaryKey(const std::string& table, const std::string& database) {
    auto rows = mariadb().Exec(
        fmt::format("SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE "
                    "TABLE_SCHEMA = '{}' AND TABLE_NAME = '{}' AND CONSTRAINT_NAME = 'PRIMARY' "
                    "ORDER BY ORDINAL_POSITION",
                    database, table),
        database);
    EXPECT_TRUE(rows.ok());
    std::vector<std::string> columns;
    for (size_t row = 0; rows.ok() && row < rows->size(); ++row) {
      columns.push_back(rows->Text(row, 0));
    }
    return columns;
  }
};

TEST_F(LoadMariaDbTest, SeedCsvFilesLoadWithCountsKeysAndExactSums) {
  const std::string db = FreshDatabase("load_csv");
  datasets::LoadOptions options;
  options.mysql_batch_rows = 100;  // several batches per table
  auto report = datasets::LoadCsvDirectory(kSeedDir, mariadb().Url(db), options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->tables.size(), 3u);
  for (const auto& table : report->tables) {
    const auto lines = ReadCsv(kSeedDir / table.source).records;
    EXPECT_EQ(Scalar(fmt::format("SELECT count(*) FROM `{}`", table.table), db),
              std::to_string(lines.size()))
        << table.table;
  }
  EXPECT_THAT(PrimaryKey("customer", db), ElementsAre("CustomerID"));
  EXPECT_THAT(PrimaryKey("salesorder", db), ElementsAre("SalesOrderID", "LineItem"));

  std::map<std::string, std::string> category_of;
  for (const auto& fields : ReadCsv(kSeedDir / "product.csv").records) {
    category_of[fields[0]] = fields[2];
  }
  std::map<std::string, int64_t> by_category;
  for (const auto& fields : ReadCsv(kSeedDir / "salesorder.csv").records) {
    by_category[category_of[fields[4]]] += ToCents(fields[6]);
  }
  for (const auto& [category, cents] : by_category) {
    EXPECT_EQ(Scalar(fmt::format("SELECT SUM(s.`LineItemTotal`) FROM `salesorder` s JOIN "
                                 "`product` p USING (`ProductID`) WHERE p.`Category` = '{}'",
                                 category),
                     db),
              FormatCents(cents))
        << category;
  }
  EXPECT_EQ(Scalar("SELECT `ProductName` FROM `product` WHERE `ProductID` = 771", db),
            "Mountain-100 Silver, 38");
  EXPECT_EQ(Scalar("SELECT `LastName` FROM `customer` WHERE `CustomerID` = 205", db),
            "Mart¡nez");
}

TEST_F(LoadMariaDbTest, GeneratedStoreDataset) {
  const std::string db = FreshDatabase("load_store");
  auto tables = datasets::GenerateDataset("store", 1);
  ASSERT_TRUE(tables.ok());
  auto report = datasets::LoadDataset("store", 1, mariadb().Url(db));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  int64_t revenue_cents = 0;
  for (const auto& table : *tables) {
    EXPECT_EQ(Scalar(fmt::format("SELECT count(*) FROM `{}`", table.spec.name), db),
              std::to_string(table.rows.size()))
        << table.spec.name;
    EXPECT_EQ(Scalar(fmt::format("SELECT count(*) FROM information_schema.REFERENTIAL_CONSTRAINTS "
                                 "WHERE CONSTRAINT_SCHEMA = '{}' AND TABLE_NAME = '{}'",
                                 db, table.spec.name),
                     db),
              std::to_string(table.spec.foreign_keys.size()))
        << table.spec.name;
    if (table.spec.name == "order_item") {
      for (const auto& row : table.rows) {
        revenue_cents += std::stoll(*row[4]) * ToCents(*row[5]) - ToCents(*row[7]);
      }
    }
  }
  EXPECT_EQ(Scalar("SELECT SUM(quantity * unit_price - discount_amount) FROM order_item", db),
            FormatCents(revenue_cents));
  // Review bodies with quotes, line breaks and emoji survive.
  EXPECT_NE(Scalar("SELECT count(*) FROM review WHERE body LIKE '%\\n%'", db), "0");
  EXPECT_NE(Scalar("SELECT count(*) FROM review WHERE body LIKE '%🎁%'", db), "0");
}

TEST_F(LoadMariaDbTest, BadValueNamesFileLineAndLeavesNoTable) {
  const std::string db = FreshDatabase("load_bad");
  datasets::TableData table;
  table.spec.name = "amounts";
  table.spec.columns = {{"id", datasets::ColumnType::kInteger, 0, 0, false},
                        {"amount", datasets::ColumnType::kNumeric, 6, 2, true},
                        {"note", datasets::ColumnType::kText, 0, 0, true}};
  table.spec.primary_key = {"id"};
  table.source = "amounts.csv";
  table.rows = {{"1", "1.50", "it's \\ \"fine\"\n"}, {"2", std::nullopt, "ok"}, {"3", "12x", "bad"}};
  table.source_lines = {2, 3, 7};
  auto report = datasets::LoadTables({table}, mariadb().Url(db));
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.status().ToString(), HasSubstr("amounts.csv line 7"));
  EXPECT_THAT(report.status().ToString(), HasSubstr("amount"));
  EXPECT_EQ(Scalar(fmt::format("SELECT count(*) FROM information_schema.TABLES WHERE "
                               "TABLE_SCHEMA = '{}' AND TABLE_NAME = 'amounts'",
                               db),
                   db),
            "0");

  table.rows.pop_back();
  table.source_lines.pop_back();
  auto good = datasets::LoadTables({table}, mariadb().Url(db));
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(Scalar("SELECT note FROM amounts WHERE id = 1", db), "it's \\ \"fine\"\n");
  EXPECT_EQ(Scalar("SELECT amount IS NULL FROM amounts WHERE id = 2", db), "1");
}

}  // namespace
}  // namespace tributary

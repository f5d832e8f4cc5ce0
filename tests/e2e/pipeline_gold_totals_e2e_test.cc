// Issue 5, "Verification - Gold": for the retail CSVs (../shared/seed-data/data-platform,
// read in place), the gold totals by category and by month equal the same sums computed
// directly from the CSV files.
//
// The whole path runs for real: `tributary load --csv` into a throwaway PostgreSQL 15,
// `tributary run --once` with the shipped retail models (models/retail/models.toml), then
// the gold Delta tables are read back (log replay + read_parquet through DuckDB). The
// expected sums come from this file's own RFC 4180 reader over the CSV bytes and exact
// integer arithmetic (fixed-point at 4 decimals, rounded to cents the way a DECIMAL(18,2)
// cast rounds) - never from the silver tables or the loader's parser.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "pipeline_e2e_util.h"
#include "testing/seed_csv.h"

namespace tributary::pipeline_e2e {
namespace {

const fs::path kSeedDir = testing::SeedDataDir();
using testing::Csv;
using testing::ReadCsv;

/// "356.9" -> 3569000 (fixed-point with 4 decimals).
int64_t ToTenThousandths(const std::string& text) {
  return static_cast<int64_t>(testing::ParseFixedPoint(text, 4));
}

/// Rounds a 4-decimal fixed-point value to cents, half away from zero (DuckDB's rounding
/// when casting to a DECIMAL of smaller scale).
int64_t ToCents(int64_t ten_thousandths) {
  const int64_t magnitude = ten_thousandths < 0 ? -ten_thousandths : ten_thousandths;
  const int64_t cents = (magnitude + 50) / 100;
  return ten_thousandths < 0 ? -cents : cents;
}

/// Cents as "1234.50".
std::string FormatCents(int64_t cents) {
  return testing::FormatFixedPoint(cents, 2);
}

/// One (category, month) cell of the totals.
struct Totals {
  std::set<std::string> orders;
  int64_t quantity = 0;
  int64_t amount = 0;  ///< 4-decimal fixed-point
};

/// "category|year_month|orders|quantity|revenue" lines, sorted.
using Cells = std::vector<std::string>;

class PipelineGoldTotalsTest : public PipelinePostgresTest {};

TEST_F(PipelineGoldTotalsTest, RetailCsvTotalsByCategoryAndMonthMatchTheFiles) {
  ASSERT_TRUE(fs::is_directory(kSeedDir)) << kSeedDir;
  auto& pg = postgres();
  tributary::testing::TempDir dir("trib-gold-totals");
  const fs::path log = dir.path() / "run.log";

  // Load the CSVs with the CLI, as a user would.
  ASSERT_EQ(
      WaitExit(Spawn({"load", "--csv", kSeedDir.string(), "--into", pg.Dsn()}, log)), 0)
      << ReadFile(log);

  // Run the pipeline once with the shipped retail models.
  const fs::path lake = dir.path() / "lake";
  const fs::path models = fs::path(TRIB_SOURCE_DIR) / "models" / "retail" / "models.toml";
  ASSERT_TRUE(fs::exists(models)) << models;
  const fs::path config = dir.path() / "pipeline.toml";
  std::ofstream(config) << ConfigText(
      pg, lake, fmt::format("\n[gold]\ninclude = [\"{}\"]\n", models.string()));
  const fs::path run_log = dir.path() / "pipeline.log";
  ASSERT_EQ(WaitExit(Spawn({"run", "-c", config.string(), "--once"}, run_log)), 0)
      << ReadFile(run_log);
  const std::string run_output = ReadFile(run_log);
  // Gold waits for its silver inputs: no "does not exist" noise, no failed refresh.
  EXPECT_EQ(run_output.find("does not exist"), std::string::npos) << run_output;
  EXPECT_EQ(run_output.find("Z error "), std::string::npos) << run_output;  // log level

  // Expected: straight from the CSV files.
  const Csv products = ReadCsv(kSeedDir / "product.csv");
  const Csv orders = ReadCsv(kSeedDir / "salesorder.csv");
  ASSERT_FALSE(products.records.empty());
  ASSERT_FALSE(orders.records.empty());
  std::map<std::string, std::string> category_of;
  {
    const size_t id = products.Column("ProductID");
    const size_t category = products.Column("Category");
    for (const auto& row : products.records) {
      category_of[row[id]] = row[category];
    }
  }
  // Quoted product names hold commas ("Mountain-100 Silver, 38"): each stayed one field
  // (ReadCsv checks that every record has the header's field count).
  {
    const size_t name = products.Column("ProductName");
    EXPECT_TRUE(std::any_of(
        products.records.begin(), products.records.end(),
        [&](const auto& row) { return row[name].find(',') != std::string::npos; }));
  }
  std::map<std::pair<std::string, std::string>, Totals> expected_cells;
  std::map<std::string, int64_t> expected_by_category;
  std::map<std::string, int64_t> expected_by_month;
  int64_t expected_total = 0;
  {
    const size_t order_id = orders.Column("SalesOrderID");
    const size_t date = orders.Column("OrderDate");
    const size_t product = orders.Column("ProductID");
    const size_t quantity = orders.Column("OrderQty");
    const size_t total = orders.Column("LineItemTotal");
    for (const auto& row : orders.records) {
      auto found = category_of.find(row[product]);
      const std::string category = found == category_of.end() ? "Unknown" : found->second;
      ASSERT_GE(row[date].size(), 7u) << row[date];
      const std::string month = row[date].substr(0, 7);
      const int64_t amount = ToTenThousandths(row[total]);
      Totals& cell = expected_cells[{category, month}];
      cell.orders.insert(row[order_id]);
      cell.quantity += std::stoll(row[quantity]);
      cell.amount += amount;
      expected_by_category[category] += amount;
      expected_by_month[month] += amount;
      expected_total += amount;
    }
  }
  Cells expected;
  for (const auto& [key, cell] : expected_cells) {
    expected.push_back(fmt::format("{}|{}|{}|{}|{}", key.first, key.second,
                                   cell.orders.size(), cell.quantity,
                                   FormatCents(ToCents(cell.amount))));
  }
  std::sort(expected.begin(), expected.end());
  ASSERT_GT(expected_by_category.size(), 1u);
  ASSERT_GT(expected_by_month.size(), 1u);

  // gold/sales_by_category_month: every (category, month) cell, exact to the cent.
  auto cells = QueryTable(lake / "gold" / "sales_by_category_month",
                          "SELECT category, year_month, CAST(orders AS VARCHAR), "
                          "CAST(quantity AS VARCHAR), CAST(revenue AS VARCHAR) FROM {t}");
  ASSERT_TRUE(cells.ok()) << cells.status().ToString() << "\n" << run_output;
  Cells actual;
  std::map<std::string, int64_t> gold_by_category;
  std::map<std::string, int64_t> gold_by_month;
  for (size_t row = 0; row < cells->row_count(); ++row) {
    actual.push_back(fmt::format("{}|{}|{}|{}|{}", cells->GetString(0, row),
                                 cells->GetString(1, row), cells->GetString(2, row),
                                 cells->GetString(3, row), cells->GetString(4, row)));
    const int64_t revenue = ToTenThousandths(cells->GetString(4, row));
    gold_by_category[cells->GetString(0, row)] += revenue;
    gold_by_month[cells->GetString(1, row)] += revenue;
  }
  std::sort(actual.begin(), actual.end());
  EXPECT_EQ(actual, expected);

  // Totals by category and by month (rolled up from the cells) and the grand total.
  std::map<std::string, std::string> want_category;
  std::map<std::string, std::string> got_category;
  for (const auto& [category, amount] : expected_by_category) {
    want_category[category] = FormatCents(ToCents(amount));
  }
  for (const auto& [category, amount] : gold_by_category) {
    got_category[category] = FormatCents(ToCents(amount));
  }
  EXPECT_EQ(got_category, want_category);
  std::map<std::string, std::string> want_month;
  std::map<std::string, std::string> got_month;
  for (const auto& [month, amount] : expected_by_month) {
    want_month[month] = FormatCents(ToCents(amount));
  }
  for (const auto& [month, amount] : gold_by_month) {
    got_month[month] = FormatCents(ToCents(amount));
  }
  EXPECT_EQ(got_month, want_month);

  // The star schema gives the same totals: fact_sales by month, and by category through
  // dim_product (both gold tables, read as written).
  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  std::map<std::string, std::string> scans;
  for (const std::string& table :
       std::vector<std::string>{"fact_sales", "dim_product", "dim_date"}) {
    auto snapshot = lake::delta::Snapshot::LoadLatest(lake / "gold" / table);
    ASSERT_TRUE(snapshot.ok()) << table << ": " << snapshot.status().ToString();
    auto scan = lake::delta::BuildScanQuery(**snapshot, **conn);
    ASSERT_TRUE(scan.ok()) << table << ": " << scan.status().ToString();
    scans[table] = *scan;
  }
  auto star_month = (*conn)->Query(fmt::format(
      "SELECT d.year_month, CAST(sum(f.line_total) AS VARCHAR) FROM ({}) AS f "
      "JOIN ({}) AS d ON d.date_key = f.date_key GROUP BY ALL",
      scans["fact_sales"], scans["dim_date"]));
  ASSERT_TRUE(star_month.ok()) << star_month.status().ToString();
  std::map<std::string, std::string> star_by_month;
  for (size_t row = 0; row < star_month->row_count(); ++row) {
    star_by_month[star_month->GetString(0, row)] =
        FormatCents(ToCents(ToTenThousandths(star_month->GetString(1, row))));
  }
  EXPECT_EQ(star_by_month, want_month);
  auto star_category = (*conn)->Query(fmt::format(
      "SELECT coalesce(p.category, 'Unknown'), CAST(sum(f.line_total) AS VARCHAR) FROM "
      "({}) "
      "AS f LEFT JOIN ({}) AS p ON p.product_key = f.product_key GROUP BY ALL",
      scans["fact_sales"], scans["dim_product"]));
  ASSERT_TRUE(star_category.ok()) << star_category.status().ToString();
  std::map<std::string, std::string> star_by_category;
  int64_t star_total = 0;
  for (size_t row = 0; row < star_category->row_count(); ++row) {
    const int64_t amount = ToTenThousandths(star_category->GetString(1, row));
    star_by_category[star_category->GetString(0, row)] = FormatCents(ToCents(amount));
    star_total += amount;
  }
  EXPECT_EQ(star_by_category, want_category);
  EXPECT_EQ(FormatCents(ToCents(star_total)), FormatCents(ToCents(expected_total)));
}

}  // namespace
}  // namespace tributary::pipeline_e2e

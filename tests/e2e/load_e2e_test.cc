// `tributary load` against a real PostgreSQL 15: the seed CSV files from
// ../shared/seed-data/data-platform (read in place) and both generated datasets.
// Expected values are computed here from the CSV text with exact decimal arithmetic,
// independently of the loader's parser, and compared with what PostgreSQL holds.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <toml++/toml.h>

#include "datasets/generate.h"
#include "datasets/load.h"
#include "datasets/sql_dialect.h"
#include "sql/database.h"
#include "testing/postgres_fixture.h"
#include "testing/seed_csv.h"

namespace tributary {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const std::filesystem::path kSeedDir = testing::SeedDataDir();
using testing::Int128;
using testing::ReadCsv;

Int128 ToScaled(const std::string& text, int scale) {
  return testing::ParseFixedPoint(text, scale);
}

std::string FormatScaled(Int128 value, int scale) {
  return testing::FormatFixedPoint(value, scale);
}

class LoadPostgresTest : public testing::PostgresFixture {
 protected:
  /// A fresh database per test, so tests do not see each other's tables.
  std::string FreshDatabase(const std::string& name) {
    EXPECT_TRUE(postgres().Exec(fmt::format("DROP DATABASE IF EXISTS {}", name), "postgres").ok());
    EXPECT_TRUE(postgres().CreateDatabase(name).ok());
    return name;
  }

  std::string Scalar(const std::string& sql, const std::string& database) {
    auto rows = postgres().Exec(sql, database);
    EXPECT_TRUE(rows.ok()) << sql << ": " << (rows.ok() ? "" : rows.status().ToString());
    return rows.ok() ? rows->Scalar() : "";
  }

  std::map<std::string, std::string> KeyValues(const std::string& sql,
                                               const std::string& database) {
    std::map<std::string, std::string> out;
    auto rows = postgres().Exec(sql, database);
    EXPECT_TRUE(rows.ok()) << sql << ": " << (rows.ok() ? "" : rows.status().ToString());
    if (rows.ok()) {
      for (size_t row = 0; row < rows->size(); ++row) {
        out[rows->Text(row, 0)] = rows->Text(row, 1);
      }
    }
    return out;
  }

  std::vector<std::string> PrimaryKey(const std::string& table, const std::string& database) {
    auto rows = postgres().Exec(
        fmt::format("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
                    "i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = '\"{}\"'::regclass "
                    "AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)",
                    table),
        database);
    EXPECT_TRUE(rows.ok()) << (rows.ok() ? "" : rows.status().ToString());
    std::vector<std::string> columns;
    if (rows.ok()) {
      for (size_t row = 0; row < rows->size(); ++row) {
        columns.push_back(rows->Text(row, 0));
      }
    }
    return columns;
  }
};

TEST_F(LoadPostgresTest, SeedCsvFilesLoadWithCountsKeysAndExactSums) {
  const std::string db = FreshDatabase("load_csv");
  auto report = datasets::LoadCsvDirectory(kSeedDir, postgres().Dsn(db));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->tables.size(), 3u);

  for (const auto& table : report->tables) {
    const auto lines = ReadCsv(kSeedDir / table.source).records;
    EXPECT_EQ(table.rows, static_cast<int64_t>(lines.size())) << table.table;
    EXPECT_EQ(Scalar(fmt::format("SELECT count(*) FROM \"{}\"", table.table), db),
              std::to_string(lines.size()))
        << table.table;
  }
  EXPECT_THAT(PrimaryKey("customer", db), ElementsAre("CustomerID"));
  EXPECT_THAT(PrimaryKey("product", db), ElementsAre("ProductID"));
  EXPECT_THAT(PrimaryKey("salesorder", db), ElementsAre("SalesOrderID", "LineItem"));
  EXPECT_EQ(Scalar("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                   "'salesorder'::regclass AND attname = 'OrderDate'",
                   db),
            "date");

  // Expected sums from the CSV text: line totals by category and by month, list prices.
  std::map<std::string, std::string> category_of;
  Int128 list_price_sum = 0;
  for (const auto& fields : ReadCsv(kSeedDir / "product.csv").records) {
    ASSERT_EQ(fields.size(), 4u) << fields[0];
    category_of[fields[0]] = fields[2];
    list_price_sum += ToScaled(fields[3], 4);
  }
  std::map<std::string, Int128> by_category;
  std::map<std::string, Int128> by_month;
  Int128 total = 0;
  for (const auto& fields : ReadCsv(kSeedDir / "salesorder.csv").records) {
    ASSERT_EQ(fields.size(), 7u) << fields[0];
    const Int128 amount = ToScaled(fields[6], 2);
    ASSERT_TRUE(category_of.count(fields[4])) << "product " << fields[4];
    by_category[category_of[fields[4]]] += amount;
    by_month[fields[1].substr(0, 7)] += amount;
    total += amount;
  }
  std::map<std::string, std::string> expected_by_category;
  for (const auto& [category, sum] : by_category) {
    expected_by_category[category] = FormatScaled(sum, 2);
  }
  std::map<std::string, std::string> expected_by_month;
  for (const auto& [month, sum] : by_month) {
    expected_by_month[month] = FormatScaled(sum, 2);
  }
  EXPECT_EQ(KeyValues("SELECT p.\"Category\", sum(s.\"LineItemTotal\") FROM \"salesorder\" s "
                      "JOIN \"product\" p USING (\"ProductID\") GROUP BY 1",
                      db),
            expected_by_category);
  EXPECT_EQ(KeyValues("SELECT to_char(\"OrderDate\", 'YYYY-MM'), sum(\"LineItemTotal\") "
                      "FROM \"salesorder\" GROUP BY 1",
                      db),
            expected_by_month);
  EXPECT_EQ(Scalar("SELECT sum(\"LineItemTotal\") FROM \"salesorder\"", db),
            FormatScaled(total, 2));
  EXPECT_EQ(Scalar("SELECT sum(\"ListPrice\") FROM \"product\"", db),
            FormatScaled(list_price_sum, 4));

  // Quoted commas and UTF-8 arrive intact.
  EXPECT_EQ(Scalar("SELECT \"ProductName\" FROM \"product\" WHERE \"ProductID\" = 771", db),
            "Mountain-100 Silver, 38");
  EXPECT_EQ(Scalar("SELECT \"LastName\" FROM \"customer\" WHERE \"CustomerID\" = 205", db),
            "Mart¡nez");
  EXPECT_EQ(Scalar("SELECT count(*) FROM \"customer\" WHERE \"FirstName\" = 'François'", db),
            "2");
}

TEST_F(LoadPostgresTest, ExistingTablesAreRefusedUnlessReplaced) {
  const std::string db = FreshDatabase("load_again");
  ASSERT_TRUE(datasets::LoadCsvDirectory(kSeedDir, postgres().Dsn(db)).ok());
  auto again = datasets::LoadCsvDirectory(kSeedDir, postgres().Dsn(db));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_THAT(again.status().ToString(), HasSubstr("'customer' already exists"));
  datasets::LoadOptions replace;
  replace.replace_existing = true;
  auto replaced = datasets::LoadCsvDirectory(kSeedDir, postgres().Dsn(db), replace);
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_EQ(Scalar("SELECT count(*) FROM \"customer\"", db),
            std::to_string(ReadCsv(kSeedDir / "customer.csv").records.size()));
}

TEST_F(LoadPostgresTest, BadValueNamesFileLineAndColumnAndLeavesNoTable) {
  const std::string db = FreshDatabase("load_bad");
  datasets::TableData table;
  table.spec.name = "amounts";
  table.spec.columns = {{"id", datasets::ColumnType::kInteger, 0, 0, false},
                        {"amount", datasets::ColumnType::kNumeric, 6, 2, true}};
  table.spec.primary_key = {"id"};
  table.source = "amounts.csv";
  table.rows = {{"1", "1.50"}, {"2", std::nullopt}, {"3", "12x"}};
  table.source_lines = {2, 3, 7};
  auto report = datasets::LoadTables({table}, postgres().Dsn(db));
  ASSERT_FALSE(report.ok());
  const std::string message = report.status().ToString();
  EXPECT_THAT(message, HasSubstr("amounts.csv line 7"));
  EXPECT_THAT(message, HasSubstr("column amount"));
  EXPECT_THAT(message, HasSubstr("invalid input syntax for type numeric"));
  EXPECT_EQ(Scalar("SELECT count(*) FROM pg_class WHERE relname = 'amounts'", db), "0");

  // A duplicate key is named by its line too.
  table.rows = {{"1", "1.50"}, {"1", "2.50"}};
  table.source_lines = {2, 9};
  auto duplicate = datasets::LoadTables({table}, postgres().Dsn(db));
  ASSERT_FALSE(duplicate.ok());
  EXPECT_THAT(duplicate.status().ToString(), HasSubstr("amounts.csv line 9"));
  EXPECT_THAT(duplicate.status().ToString(), HasSubstr("duplicate key"));
}

TEST_F(LoadPostgresTest, ValuesNeedingCopyEscapesRoundTrip) {
  const std::string db = FreshDatabase("load_escape");
  datasets::TableData table;
  table.spec.name = "Odd \"Name\"";
  table.spec.columns = {{"id", datasets::ColumnType::kInteger, 0, 0, false},
                        {"text col", datasets::ColumnType::kText, 0, 0, true}};
  table.spec.primary_key = {"id"};
  const std::string tricky = "tab\there\\back\nnew\r\"q\" ünï 🎁 \\N";
  table.rows = {{"1", tricky}, {"2", std::nullopt}, {"3", ""}};
  auto report = datasets::LoadTables({table}, postgres().Dsn(db));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(Scalar("SELECT \"text col\" FROM \"Odd \"\"Name\"\"\" WHERE id = 1", db), tricky);
  EXPECT_EQ(Scalar("SELECT \"text col\" IS NULL FROM \"Odd \"\"Name\"\"\" WHERE id = 2", db), "t");
  EXPECT_EQ(Scalar("SELECT \"text col\" = '' FROM \"Odd \"\"Name\"\"\" WHERE id = 3", db), "t");
}

/// Loads a generated dataset and checks row counts, primary keys, declared foreign keys
/// and that no foreign key value is missing from its parent.
void CheckGeneratedDataset(devserver::PostgresServer& postgres,
                           const std::string& name, const std::string& db) {
  auto tables = datasets::GenerateDataset(name, 1);
  ASSERT_TRUE(tables.ok());
  auto report = datasets::LoadDataset(name, 1, postgres.Dsn(db));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->tables.size(), tables->size());
  size_t foreign_key_count = 0;
  for (const auto& table : *tables) {
    SCOPED_TRACE(table.spec.name);
    auto count = postgres.Exec(fmt::format("SELECT count(*) FROM \"{}\"", table.spec.name), db);
    ASSERT_TRUE(count.ok()) << count.status().ToString();
    EXPECT_EQ(count->Scalar(), std::to_string(table.rows.size()));
    EXPECT_GT(table.rows.size(), 0u);
    auto key = postgres.Exec(
        fmt::format("SELECT count(*) FROM pg_constraint WHERE conrelid = '\"{}\"'::regclass AND "
                    "contype = 'p'",
                    table.spec.name),
        db);
    ASSERT_TRUE(key.ok());
    EXPECT_EQ(key->Scalar(), "1");
    auto foreign_keys = postgres.Exec(
        fmt::format("SELECT count(*) FROM pg_constraint WHERE conrelid = '\"{}\"'::regclass AND "
                    "contype = 'f'",
                    table.spec.name),
        db);
    ASSERT_TRUE(foreign_keys.ok());
    EXPECT_EQ(foreign_keys->Scalar(), std::to_string(table.spec.foreign_keys.size()));
    for (const auto& foreign_key : table.spec.foreign_keys) {
      ++foreign_key_count;
      std::string join;
      for (size_t idx = 0; idx < foreign_key.columns.size(); ++idx) {
        join += fmt::format("{}c.\"{}\" = p.\"{}\"", idx > 0 ? " AND " : "",
                            foreign_key.columns[idx], foreign_key.ref_columns[idx]);
      }
      auto orphans = postgres.Exec(
          fmt::format("SELECT count(*) FROM \"{}\" c WHERE c.\"{}\" IS NOT NULL AND NOT EXISTS "
                      "(SELECT 1 FROM \"{}\" p WHERE {})",
                      table.spec.name, foreign_key.columns[0], foreign_key.ref_table, join),
          db);
      ASSERT_TRUE(orphans.ok()) << orphans.status().ToString();
      EXPECT_EQ(orphans->Scalar(), "0") << foreign_key.columns[0];
    }
  }
  EXPECT_GT(foreign_key_count, 0u);
}

TEST_F(LoadPostgresTest, GeneratedRetailDataset) {
  const std::string db = FreshDatabase("load_retail");
  CheckGeneratedDataset(postgres(), "retail", db);
  // Generated retail has the seed CSVs' column names, so the same queries work on both.
  EXPECT_EQ(Scalar("SELECT count(*) FROM \"salesorder\" s JOIN \"product\" p USING "
                   "(\"ProductID\") JOIN \"customer\" c USING (\"CustomerID\")",
                   db),
            Scalar("SELECT count(*) FROM \"salesorder\"", db));
}

TEST_F(LoadPostgresTest, GeneratedStoreDataset) {
  const std::string db = FreshDatabase("load_store");
  CheckGeneratedDataset(postgres(), "store", db);
  // Revenue, cost and profit computed in C++ from the generated text equal the database's.
  auto tables = datasets::GenerateDataset("store", 1);
  ASSERT_TRUE(tables.ok());
  Int128 revenue = 0;
  Int128 cost = 0;
  for (const auto& table : *tables) {
    if (table.spec.name != "order_item") {
      continue;
    }
    for (const auto& row : table.rows) {
      const Int128 quantity = ToScaled(*row[4], 0);
      revenue += quantity * ToScaled(*row[5], 2) - ToScaled(*row[7], 2);
      cost += quantity * ToScaled(*row[6], 2);
    }
  }
  EXPECT_EQ(Scalar("SELECT sum(quantity * unit_price - discount_amount) FROM order_item", db),
            FormatScaled(revenue, 2));
  EXPECT_EQ(Scalar("SELECT sum(quantity * unit_cost) FROM order_item", db),
            FormatScaled(cost, 2));
  EXPECT_GT(revenue, cost);
  // The order status and reason lookups are referenced.
  EXPECT_EQ(Scalar("SELECT count(DISTINCT status_id) FROM orders", db), "6");
  EXPECT_NE(Scalar("SELECT count(*) FROM order_reason", db), "0");
}

/// Runs `command` through the shell, returning its exit status and combined output.
std::pair<int, std::string> RunCommand(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    return {-1, "popen failed"};
  }
  char buffer[4096];
  size_t read = 0;
  while ((read = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    output.append(buffer, read);
  }
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

TEST_F(LoadPostgresTest, CliLoadsCsvAndDatasetWithoutPrintingThePassword) {
  const std::string db = FreshDatabase("load_cli");
  // Loopback connections are trusted, so the server never asks for this password; it
  // is in the URI only to check that tributary does not print it.
  const std::string uri = fmt::format("postgresql://{}:not-a-real-secret@{}:{}/{}",
                                      postgres().superuser(), postgres().host(),
                                      postgres().port(), db);
  auto [status, output] = RunCommand(fmt::format("'{}' load --csv '{}' --into '{}'",
                                                 TRIB_BINARY_PATH, kSeedDir.string(), uri));
  EXPECT_EQ(status, 0) << output;
  EXPECT_THAT(output, HasSubstr("loaded 3 tables"));
  EXPECT_THAT(output, HasSubstr("key (SalesOrderID, LineItem)"));
  EXPECT_THAT(output, Not(HasSubstr("not-a-real-secret")));
  EXPECT_EQ(Scalar("SELECT count(*) FROM \"customer\"", db),
            std::to_string(ReadCsv(kSeedDir / "customer.csv").records.size()));

  // A second load into the same tables is refused, naming the table, without the password.
  auto [again_status, again_output] = RunCommand(fmt::format(
      "'{}' load --csv '{}' --into '{}'", TRIB_BINARY_PATH, kSeedDir.string(), uri));
  EXPECT_EQ(again_status, 1) << again_output;
  EXPECT_THAT(again_output, HasSubstr("'customer' already exists"));
  EXPECT_THAT(again_output, Not(HasSubstr("not-a-real-secret")));

  const std::string store_db = FreshDatabase("load_cli_store");
  auto [store_status, store_output] =
      RunCommand(fmt::format("'{}' load --dataset store --scale 2 --into '{}'",
                             TRIB_BINARY_PATH, postgres().Dsn(store_db)));
  EXPECT_EQ(store_status, 0) << store_output;
  EXPECT_EQ(Scalar("SELECT count(*) FROM orders", store_db), "1200");
}

// ---------------------------------------------------------------------------------------
// Gold models (models/<dataset>/*.sql) run by DuckDB over silver tables built from the
// same rows the loader writes, with silver's metadata columns added. This checks that
// every model parses and runs, that its declared key is unique and non-null, and that
// its amounts equal sums computed here from the source text.

struct ModelEntry {
  std::string name;
  std::string sql;
  std::vector<std::string> key;
  std::string materialization;
};

std::vector<ModelEntry> ReadModels(const std::string& dataset) {
  const std::filesystem::path dir = std::filesystem::path(TRIB_SOURCE_DIR) / "models" / dataset;
  std::vector<ModelEntry> models;
  try {
    const toml::table config = toml::parse_file((dir / "models.toml").string());
    const toml::array* entries = config["gold"]["models"].as_array();
    EXPECT_NE(entries, nullptr);
    if (entries == nullptr) {
      return models;
    }
    for (const toml::node& node : *entries) {
      const toml::table& entry = *node.as_table();
      ModelEntry model;
      model.name = entry["name"].value_or(std::string());
      model.materialization = entry["materialization"].value_or(std::string("table"));
      if (const toml::array* key = entry["key"].as_array()) {
        for (const toml::node& column : *key) {
          model.key.push_back(column.value_or(std::string()));
        }
      }
      std::ifstream in(dir / entry["sql"].value_or(std::string()));
      EXPECT_TRUE(in.good()) << model.name;
      std::stringstream text;
      text << in.rdbuf();
      model.sql = text.str();
      models.push_back(std::move(model));
    }
  } catch (const toml::parse_error& error) {
    ADD_FAILURE() << "models/" << dataset << "/models.toml: " << error.description();
  }
  return models;
}

/// Creates silver.<table> for each table (its columns plus the silver metadata columns
/// _source_position, _source_commit_ts, _processed_at, _bronze_version) and appends the rows.
void BuildSilver(sql::Connection& conn, const std::vector<datasets::TableData>& tables) {
  ASSERT_TRUE(conn.Execute("CREATE SCHEMA IF NOT EXISTS silver").ok());
  ASSERT_TRUE(conn.Execute("CREATE SCHEMA IF NOT EXISTS gold").ok());
  for (const auto& table : tables) {
    std::string ddl = fmt::format("CREATE TABLE silver.{} (",
                                  datasets::QuoteIdentifier(table.spec.name, datasets::Dialect::kPostgres));
    for (const auto& column : table.spec.columns) {
      ddl += fmt::format("{} {}, ", datasets::QuoteIdentifier(column.name, datasets::Dialect::kPostgres),
                         datasets::SqlColumnType(column, datasets::Dialect::kPostgres, false));
    }
    ddl += "_source_position BIGINT, _source_commit_ts TIMESTAMP, _processed_at TIMESTAMP, "
           "_bronze_version BIGINT)";
    auto created = conn.Execute(ddl);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    auto appender = conn.CreateAppender("silver", table.spec.name);
    ASSERT_TRUE(appender.ok()) << appender.status().ToString();
    int64_t position = 0;
    for (const auto& row : table.rows) {
      for (const auto& value : row) {
        ASSERT_TRUE((value ? (*appender)->AppendString(*value) : (*appender)->AppendNull()).ok());
      }
      ASSERT_TRUE((*appender)->AppendInt64(++position).ok());
      ASSERT_TRUE((*appender)->AppendString("2024-01-01 12:00:00").ok());
      ASSERT_TRUE((*appender)->AppendString("2024-01-01 12:00:01").ok());
      ASSERT_TRUE((*appender)->AppendInt64(1).ok());
      ASSERT_TRUE((*appender)->EndRow().ok());
    }
    auto closed = (*appender)->Close();
    ASSERT_TRUE(closed.ok()) << table.spec.name << ": " << closed.status().ToString();
  }
}

/// Runs every model in order as CREATE TABLE gold.<name> AS <sql> and checks its key.
void RunModels(sql::Connection& conn, const std::string& dataset, size_t expected_models) {
  const auto models = ReadModels(dataset);
  ASSERT_EQ(models.size(), expected_models);
  for (const auto& model : models) {
    SCOPED_TRACE(dataset + "/" + model.name);
    ASSERT_FALSE(model.key.empty());
    EXPECT_TRUE(model.materialization == "table" || model.materialization == "incremental" ||
                model.materialization == "scd2")
        << model.materialization;
    auto created = conn.Execute(fmt::format("CREATE TABLE gold.\"{}\" AS {}", model.name, model.sql));
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    std::string key_list;
    std::string not_null;
    for (const auto& column : model.key) {
      key_list += fmt::format("{}\"{}\"", key_list.empty() ? "" : ", ", column);
      not_null += fmt::format("{}\"{}\" IS NULL", not_null.empty() ? "" : " OR ", column);
    }
    auto check = conn.Query(fmt::format(
        "SELECT count(*), (SELECT count(*) FROM (SELECT DISTINCT {0} FROM gold.\"{1}\")), "
        "count(*) FILTER (WHERE {2}) FROM gold.\"{1}\"",
        key_list, model.name, not_null));
    ASSERT_TRUE(check.ok()) << check.status().ToString();
    EXPECT_GT(check->GetInt64(0, 0), 0) << "model produced no rows";
    EXPECT_EQ(check->GetInt64(0, 0), check->GetInt64(1, 0)) << "key is not unique";
    EXPECT_EQ(check->GetInt64(2, 0), 0) << "key has NULLs";
  }
}

std::map<std::string, std::string> QueryPairs(sql::Connection& conn, const std::string& sql) {
  std::map<std::string, std::string> out;
  auto result = conn.Query(sql);
  EXPECT_TRUE(result.ok()) << sql << ": " << (result.ok() ? "" : result.status().ToString());
  if (result.ok()) {
    for (size_t row = 0; row < result->row_count(); ++row) {
      out[result->GetString(0, row)] = result->GetString(1, row);
    }
  }
  return out;
}

std::string QueryScalar(sql::Connection& conn, const std::string& sql) {
  auto result = conn.Query(sql);
  EXPECT_TRUE(result.ok()) << sql << ": " << (result.ok() ? "" : result.status().ToString());
  return result.ok() && result->row_count() > 0 ? result->GetString(0, 0) : "";
}

TEST(LoadGoldModelsTest, RetailModelsOverSeedCsvsMatchCsvTotals) {
  auto tables = datasets::ReadCsvDirectory(kSeedDir);
  ASSERT_TRUE(tables.ok()) << tables.status().ToString();
  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  BuildSilver(**conn, *tables);
  RunModels(**conn, "retail", 6);

  // Totals by category and by month from the CSV text, exactly.
  std::map<std::string, std::string> category_of;
  for (const auto& fields : ReadCsv(kSeedDir / "product.csv").records) {
    category_of[fields[0]] = fields[2];
  }
  std::map<std::string, Int128> by_category;
  std::map<std::string, Int128> by_month;
  std::map<std::string, Int128> by_category_month;
  size_t lines = 0;
  for (const auto& fields : ReadCsv(kSeedDir / "salesorder.csv").records) {
    const Int128 amount = ToScaled(fields[6], 2);
    by_category[category_of[fields[4]]] += amount;
    by_month[fields[1].substr(0, 7)] += amount;
    by_category_month[category_of[fields[4]] + "|" + fields[1].substr(0, 7)] += amount;
    ++lines;
  }
  auto format_all = [](const std::map<std::string, Int128>& sums) {
    std::map<std::string, std::string> out;
    for (const auto& [key, sum] : sums) {
      out[key] = FormatScaled(sum, 2);
    }
    return out;
  };
  auto& db = **conn;
  EXPECT_EQ(QueryScalar(db, "SELECT count(*) FROM gold.fact_sales"), std::to_string(lines));
  EXPECT_EQ(QueryPairs(db, "SELECT p.category, sum(f.line_total) FROM gold.fact_sales f JOIN "
                           "gold.dim_product p USING (product_key) GROUP BY ALL"),
            format_all(by_category));
  EXPECT_EQ(QueryPairs(db, "SELECT d.year_month, sum(f.line_total) FROM gold.fact_sales f JOIN "
                           "gold.dim_date d USING (date_key) GROUP BY ALL"),
            format_all(by_month));
  EXPECT_EQ(QueryPairs(db, "SELECT category || '|' || year_month, revenue FROM "
                           "gold.sales_by_category_month"),
            format_all(by_category_month));
  // Every fact row finds its dimensions.
  EXPECT_EQ(QueryScalar(db, "SELECT count(*) FROM gold.fact_sales f JOIN gold.dim_customer "
                            "USING (customer_key) JOIN gold.dim_product USING (product_key) "
                            "JOIN gold.dim_date USING (date_key)"),
            std::to_string(lines));
  EXPECT_EQ(QueryScalar(db, "SELECT min(date) || ' ' || max(date) FROM gold.dim_date"),
            "2022-01-01 2022-12-31");
  EXPECT_EQ(QueryScalar(db, "SELECT full_name FROM gold.dim_customer WHERE customer_key = 205"),
            "Frank Mart¡nez");
}

TEST(LoadGoldModelsTest, RetailModelsOverGeneratedData) {
  auto tables = datasets::GenerateDataset("retail", 1);
  ASSERT_TRUE(tables.ok());
  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok());
  BuildSilver(**conn, *tables);
  RunModels(**conn, "retail", 6);
  Int128 total = 0;
  for (const auto& row : (*tables)[2].rows) {
    total += ToScaled(*row[6], 2);
  }
  EXPECT_EQ(QueryScalar(**conn, "SELECT sum(revenue) FROM gold.sales_by_category_month"),
            FormatScaled(total, 2));
  EXPECT_EQ(QueryScalar(**conn, "SELECT count(*) FROM gold.dim_date"), "730");
}

TEST(LoadGoldModelsTest, StoreModelsOverGeneratedData) {
  auto tables = datasets::GenerateDataset("store", 1);
  ASSERT_TRUE(tables.ok());
  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok());
  BuildSilver(**conn, *tables);
  RunModels(**conn, "store", 10);
  auto& db = **conn;

  Int128 revenue = 0;
  Int128 cost = 0;
  size_t item_count = 0;
  size_t reason_count = 0;
  for (const auto& table : *tables) {
    if (table.spec.name == "order_item") {
      for (const auto& row : table.rows) {
        const Int128 quantity = ToScaled(*row[4], 0);
        revenue += quantity * ToScaled(*row[5], 2) - ToScaled(*row[7], 2);
        cost += quantity * ToScaled(*row[6], 2);
        ++item_count;
      }
    } else if (table.spec.name == "order_reason") {
      reason_count = table.rows.size();
    }
  }
  EXPECT_EQ(QueryScalar(db, "SELECT count(*) FROM gold.FactSales"), std::to_string(item_count));
  EXPECT_EQ(QueryScalar(db, "SELECT sum(Revenue) FROM gold.FactSales"), FormatScaled(revenue, 2));
  EXPECT_EQ(QueryScalar(db, "SELECT sum(Cost) FROM gold.FactSales"), FormatScaled(cost, 2));
  EXPECT_EQ(QueryScalar(db, "SELECT sum(Profit) FROM gold.FactSales"),
            FormatScaled(revenue - cost, 2));
  EXPECT_EQ(QueryScalar(db, "SELECT count(*) FROM gold.FactOrderReason"),
            std::to_string(reason_count));
  // Every fact row resolves every dimension key.
  EXPECT_EQ(QueryScalar(db, "SELECT count(*) FROM gold.FactSales f "
                            "JOIN gold.DimDate d ON d.DateKey = f.DateKey "
                            "JOIN gold.DimCustomer c ON c.CustomerKey = f.CustomerKey "
                            "JOIN gold.DimProduct p ON p.ProductKey = f.ProductKey "
                            "JOIN gold.DimCategory g ON g.CategoryKey = f.CategoryKey "
                            "JOIN gold.DimSeller s ON s.SellerKey = f.SellerKey "
                            "JOIN gold.DimOrderStatus o ON o.OrderStatusKey = f.OrderStatusKey"),
            std::to_string(item_count));
  EXPECT_EQ(QueryScalar(db, "SELECT count(*) FROM gold.FactOrderReason JOIN gold.DimReason "
                            "USING (ReasonKey) JOIN gold.DimDate USING (DateKey)"),
            std::to_string(reason_count));
  // Child categories know their parent; the status lookup is complete.
  EXPECT_EQ(QueryScalar(db, "SELECT count(*) FROM gold.DimCategory WHERE Level = 2 AND "
                            "ParentCategoryName IS NULL"),
            "0");
  EXPECT_EQ(QueryScalar(db, "SELECT count(*) FROM gold.DimOrderStatus"), "6");
}

}  // namespace
}  // namespace tributary

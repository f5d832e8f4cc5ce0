#include "datasets/generate.h"

#include <map>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "datasets/csv.h"
#include "datasets/infer.h"
#include "datasets/internal/generator_util.h"

namespace tributary::datasets {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Names(const std::vector<TableData>& tables) {
  std::vector<std::string> names;
  for (const TableData& table : tables) {
    names.push_back(table.spec.name);
  }
  return names;
}

const TableData& Find(const std::vector<TableData>& tables, std::string_view name) {
  for (const TableData& table : tables) {
    if (table.spec.name == name) {
      return table;
    }
  }
  ADD_FAILURE() << "no table " << name;
  return tables.front();
}

TEST(GeneratorUtilTest, Calendar) {
  EXPECT_EQ(internal::DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(internal::FormatDate(internal::DaysFromCivil(2024, 2, 29)), "2024-02-29");
  EXPECT_EQ(internal::FormatDate(internal::DaysFromCivil(2024, 2, 29) + 1), "2024-03-01");
  EXPECT_EQ(internal::FormatTimestamp(0, 3661), "1970-01-01 01:01:01");
  EXPECT_EQ(internal::FormatCents(-1234), "-12.34");
  EXPECT_EQ(internal::FormatCents(5), "0.05");
  EXPECT_EQ(internal::FormatFixed(125, 3), "0.125");
}

TEST(GeneratorUtilTest, RngIsFixedAndInRange) {
  internal::Rng a(42);
  internal::Rng b(42);
  for (int i = 0; i < 1000; ++i) {
    const int64_t value = a.Uniform(-3, 3);
    EXPECT_EQ(value, b.Uniform(-3, 3));
    EXPECT_GE(value, -3);
    EXPECT_LE(value, 3);
  }
  // The first SplitMix64 output for seed 0 (reference value from the paper's code).
  internal::Rng zero(0);
  EXPECT_EQ(zero.Next(), 0xE220A8397B1DCDAFULL);
}

TEST(GenerateTest, RetailTablesAndShape) {
  auto tables = GenerateDataset("retail", 1);
  ASSERT_TRUE(tables.ok()) << tables.status().ToString();
  EXPECT_THAT(Names(*tables), ElementsAre("customer", "product", "salesorder"));
  const TableData& salesorder = Find(*tables, "salesorder");
  EXPECT_THAT(salesorder.spec.primary_key, ElementsAre("SalesOrderID", "LineItem"));
  EXPECT_EQ(Find(*tables, "customer").rows.size(), 300u);
  EXPECT_EQ(Find(*tables, "product").rows.size(), 120u);
  EXPECT_GE(salesorder.rows.size(), 400u);
  EXPECT_LE(salesorder.rows.size(), 2000u);
}

TEST(GenerateTest, RetailColumnsMatchTheSeedCsvFiles) {
  auto generated = GenerateDataset("retail", 1);
  ASSERT_TRUE(generated.ok());
  auto seed_dir = std::filesystem::path(TRIB_SHARED_DIR "/seed-data/data-platform");
  for (const TableData& table : *generated) {
    auto csv = ReadCsvFile(seed_dir / (table.spec.name + ".csv"));
    ASSERT_TRUE(csv.ok()) << csv.status().ToString();
    std::vector<std::string> columns;
    for (const ColumnSpec& column : table.spec.columns) {
      columns.push_back(column.name);
    }
    EXPECT_EQ(columns, csv->header) << table.spec.name;
  }
}

TEST(GenerateTest, SameSeedSameRowsOtherSeedOtherRows) {
  for (const std::string& name : DatasetNames()) {
    auto first = GenerateDataset(name, 2, 7);
    auto second = GenerateDataset(name, 2, 7);
    auto other = GenerateDataset(name, 2, 8);
    ASSERT_TRUE(first.ok() && second.ok() && other.ok());
    ASSERT_EQ(first->size(), second->size());
    bool any_difference = false;
    for (size_t table_idx = 0; table_idx < first->size(); ++table_idx) {
      EXPECT_EQ((*first)[table_idx].rows, (*second)[table_idx].rows)
          << name << "." << (*first)[table_idx].spec.name;
      any_difference = any_difference || (*first)[table_idx].rows != (*other)[table_idx].rows;
    }
    EXPECT_TRUE(any_difference) << name;
  }
}

TEST(GenerateTest, ScaleChangesCounts) {
  for (const std::string& name : DatasetNames()) {
    auto one = GenerateDataset(name, 1);
    auto three = GenerateDataset(name, 3);
    ASSERT_TRUE(one.ok() && three.ok());
    size_t rows_one = 0;
    size_t rows_three = 0;
    for (size_t table_idx = 0; table_idx < one->size(); ++table_idx) {
      rows_one += (*one)[table_idx].rows.size();
      rows_three += (*three)[table_idx].rows.size();
      EXPECT_GE((*three)[table_idx].rows.size(), (*one)[table_idx].rows.size());
    }
    EXPECT_GT(rows_three, rows_one * 5 / 2) << name;
  }
  auto customer_1 = Find(*GenerateDataset("retail", 1), "customer").rows.size();
  auto customer_4 = Find(*GenerateDataset("retail", 4), "customer").rows.size();
  EXPECT_EQ(customer_4, customer_1 * 4);
}

TEST(GenerateTest, RejectsUnknownNameAndBadScale) {
  auto unknown = GenerateDataset("nope", 1);
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(), HasSubstr("retail, store"));
  EXPECT_FALSE(GenerateDataset("retail", 0).ok());
  EXPECT_FALSE(GenerateDataset("store", kMaxScale + 1).ok());
}

/// Checks what the database will check: column counts, NOT NULL, primary keys unique,
/// every foreign key found in a table loaded earlier.
void CheckIntegrity(const std::vector<TableData>& tables) {
  std::map<std::string, std::set<std::vector<std::string>>> keys;
  for (const TableData& table : tables) {
    const TableSpec& spec = table.spec;
    SCOPED_TRACE(spec.name);
    ASSERT_FALSE(spec.primary_key.empty());
    std::vector<size_t> key_idxs;
    for (const std::string& column : spec.primary_key) {
      ASSERT_TRUE(spec.ColumnIndex(column).has_value()) << column;
      key_idxs.push_back(*spec.ColumnIndex(column));
    }
    auto& table_keys = keys[spec.name];
    for (const Row& row : table.rows) {
      ASSERT_EQ(row.size(), spec.columns.size());
      for (size_t column_idx = 0; column_idx < row.size(); ++column_idx) {
        if (!spec.columns[column_idx].nullable) {
          ASSERT_TRUE(row[column_idx].has_value()) << spec.columns[column_idx].name;
        }
      }
      std::vector<std::string> key;
      for (size_t idx : key_idxs) {
        key.push_back(*row[idx]);
      }
      ASSERT_TRUE(table_keys.insert(key).second) << "duplicate key " << key[0];
    }
    for (const ForeignKey& foreign_key : spec.foreign_keys) {
      ASSERT_TRUE(keys.count(foreign_key.ref_table)) << "loaded after " << foreign_key.ref_table;
      const auto& parent_keys = keys[foreign_key.ref_table];
      for (const Row& row : table.rows) {
        std::vector<std::string> value;
        bool has_null = false;
        for (const std::string& column : foreign_key.columns) {
          const auto& cell = row[*spec.ColumnIndex(column)];
          has_null = has_null || !cell;
          value.push_back(cell.value_or(""));
        }
        if (!has_null) {
          ASSERT_TRUE(parent_keys.count(value))
              << foreign_key.columns[0] << "=" << value[0] << " not in " << foreign_key.ref_table;
        }
      }
    }
  }
}

TEST(GenerateTest, KeysAndForeignKeysHold) {
  for (const std::string& name : DatasetNames()) {
    SCOPED_TRACE(name);
    auto tables = GenerateDataset(name, 2);
    ASSERT_TRUE(tables.ok());
    CheckIntegrity(*tables);
  }
}

TEST(GenerateTest, StoreHasEveryTable) {
  auto tables = GenerateDataset("store", 1);
  ASSERT_TRUE(tables.ok());
  EXPECT_THAT(Names(*tables),
              ElementsAre("order_status", "reason", "payment_method", "address", "category",
                          "seller", "customer", "product", "inventory", "orders", "order_item",
                          "order_reason", "payment", "review"));
  EXPECT_EQ(Find(*tables, "orders").rows.size(), 600u);
  EXPECT_EQ(Find(*tables, "order_status").rows.size(), 6u);
  std::set<std::string> statuses;
  for (const Row& row : Find(*tables, "orders").rows) {
    statuses.insert(*row[2]);
  }
  EXPECT_EQ(statuses.size(), 6u) << "every order status occurs";
}

/// Generated values must be what CSV inference would read back: the generators' declared
/// types agree with the text they produce (so an exported CSV loads with the same types).
TEST(GenerateTest, ValuesSurviveCsvRoundTripWithTheirTypes) {
  for (const std::string& name : DatasetNames()) {
    auto tables = GenerateDataset(name, 1);
    ASSERT_TRUE(tables.ok());
    for (const TableData& table : *tables) {
      SCOPED_TRACE(name + "." + table.spec.name);
      auto doc = ParseCsv(FormatCsv(table), table.spec.name + ".csv");
      ASSERT_TRUE(doc.ok()) << doc.status().ToString();
      // Empty strings never occur in generated data, so NULLs survive the round trip.
      EXPECT_EQ(doc->rows, table.rows);
      for (size_t column_idx = 0; column_idx < table.spec.columns.size(); ++column_idx) {
        const ColumnSpec& declared = table.spec.columns[column_idx];
        const ColumnSpec inferred = InferColumn(declared.name, doc->rows, column_idx);
        if (declared.type == ColumnType::kNumeric) {
          ASSERT_EQ(inferred.type, ColumnType::kNumeric) << declared.name;
          EXPECT_LE(inferred.scale, declared.scale) << declared.name;
          EXPECT_LE(inferred.precision - inferred.scale, declared.precision - declared.scale)
              << declared.name;
        } else {
          EXPECT_EQ(inferred.type, declared.type) << declared.name;
        }
      }
    }
  }
}

}  // namespace
}  // namespace tributary::datasets

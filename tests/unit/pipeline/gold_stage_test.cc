#include "pipeline/gold_stage.h"

#include <gtest/gtest.h>

#include "core/value.h"
#include "lake/delta/writer.h"
#include "pipeline/silver_stage.h"
#include "pipeline_test_util.h"
#include "testing/temp_dir.h"

namespace tributary::pipeline {
namespace {

using core::DataType;
using core::Op;
using core::TypeKind;
using core::Value;
using testing::MakeEvent;
using testing::MakeSchema;
using testing::Records;
using testing::TableRows;

class GoldStageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    product_ = MakeSchema("product", {{"id", DataType::Of(TypeKind::kInt32)},
                                      {"category", DataType::Of(TypeKind::kString)},
                                      {"price", DataType::Decimal(10, 2)}});
    SilverOptions options;
    options.silver_root = dir_.path() / "silver";
    options.bronze_root = dir_.path() / "bronze" / "all_events";
    auto silver = SilverStage::Open(options);
    ASSERT_TRUE(silver.ok());
    silver_ = std::move(*silver);
  }

  core::ChangeEvent Product(Op op, int32_t id, std::string category, std::string price,
                            uint64_t lsn, uint64_t index = 0) {
    core::Row row{Value::Int32(id), Value::String(std::move(category)),
                  Value::Numeric(*core::Decimal::FromString(price))};
    if (op == Op::kDelete) {
      return MakeEvent(op, product_, row, std::nullopt, lsn, index);
    }
    return MakeEvent(op, product_, std::nullopt, row, lsn, index);
  }

  std::unique_ptr<GoldStage> OpenGold() {
    GoldOptions options;
    options.lake_root = dir_.path();
    options.models = {
        {"by_category", "SELECT category, sum(price) AS total, count(*) AS n FROM "
                        "silver.product GROUP BY category;",
         {}, GoldMaterialization::kTable},
        {"by_category_inc", "SELECT category, sum(price) AS total FROM silver.product GROUP BY "
                            "category",
         {"category"}, GoldMaterialization::kIncremental},
        {"dim_product", "SELECT id, category, price FROM silver.product", {"id"},
         GoldMaterialization::kScd2},
        {"top_category", "SELECT category FROM gold.by_category ORDER BY total DESC LIMIT 1",
         {}, GoldMaterialization::kTable},
    };
    auto gold = GoldStage::Open(options, &metrics_);
    EXPECT_TRUE(gold.ok()) << (gold.ok() ? "" : gold.status().ToString());
    return gold.ok() ? std::move(*gold) : nullptr;
  }

  tributary::testing::TempDir dir_{"trib-gold"};
  std::shared_ptr<const core::TableSchema> product_;
  std::unique_ptr<SilverStage> silver_;
  PipelineMetrics metrics_;
};

TEST_F(GoldStageTest, MaterializesTableIncrementalAndScd2Models) {
  ASSERT_TRUE(silver_
                  ->Apply(1, Records({Product(Op::kCreate, 1, "bikes", "100.00", 100),
                                      Product(Op::kCreate, 2, "bikes", "50.50", 100, 1),
                                      Product(Op::kCreate, 3, "helmets", "20.00", 100, 2)}))
                  .ok());
  auto gold = OpenGold();
  ASSERT_NE(gold, nullptr);
  ASSERT_TRUE(gold->Refresh(1).ok());
  const auto root = dir_.path() / "gold";
  EXPECT_EQ(TableRows(root / "by_category", "category, total, n"),
            (std::vector<std::string>{"bikes|150.50|2", "helmets|20.00|1"}));
  EXPECT_EQ(TableRows(root / "by_category_inc", "category, total"),
            (std::vector<std::string>{"bikes|150.50", "helmets|20.00"}));
  EXPECT_EQ(TableRows(root / "dim_product", "id, price, is_current, valid_to IS NULL"),
            (std::vector<std::string>{"1|100.00|true|true", "2|50.50|true|true",
                                      "3|20.00|true|true"}));
  EXPECT_EQ(TableRows(root / "top_category", "category"), (std::vector<std::string>{"bikes"}));
  auto txn = lake::delta::ReadAppTransactionVersion(root / "by_category", kGoldAppId);
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(*txn, std::optional<int64_t>(1));

  // Price change of 2, helmets vanish, a new category appears.
  ASSERT_TRUE(silver_
                  ->Apply(2, Records({Product(Op::kUpdate, 2, "bikes", "60.50", 200),
                                      Product(Op::kDelete, 3, "helmets", "20.00", 208),
                                      Product(Op::kCreate, 4, "locks", "500.00", 216)}))
                  .ok());
  ASSERT_TRUE(gold->Refresh(2).ok());
  EXPECT_EQ(TableRows(root / "by_category", "category, total, n"),
            (std::vector<std::string>{"bikes|160.50|2", "locks|500.00|1"}));
  EXPECT_EQ(TableRows(root / "by_category_inc", "category, total"),
            (std::vector<std::string>{"bikes|160.50", "locks|500.00"}));
  EXPECT_EQ(TableRows(root / "dim_product", "id, price, is_current, valid_to IS NULL"),
            (std::vector<std::string>{"1|100.00|true|true", "2|50.50|false|false",
                                      "2|60.50|true|true", "3|20.00|false|false",
                                      "4|500.00|true|true"}));
  EXPECT_EQ(TableRows(root / "top_category", "category"), (std::vector<std::string>{"locks"}));
  // Already at version 2: nothing is recomputed.
  int64_t refreshes = metrics_.gold_refreshes.load();
  ASSERT_TRUE(gold->Refresh(2).ok());
  EXPECT_EQ(metrics_.gold_refreshes.load(), refreshes);
}

TEST(GoldModelInputsTest, FindsSilverAndGoldTablesOutsideCommentsAndStrings) {
  EXPECT_EQ(
      ModelInputs("-- reads silver.commented\n/* and silver.blocked */\n"
                  "SELECT 'silver.literal', 'it''s silver.quoted' AS x, s.\"Silver\"\n"
                  "FROM silver.SalesOrder AS s JOIN \"silver\" . \"Product\" AS p ON true\n"
                  "JOIN gold.dim_date d ON true, silver.salesorder AS again"),
      (std::vector<std::string>{"silver.salesorder", "silver.product", "gold.dim_date"}));
  EXPECT_TRUE(ModelInputs("SELECT 1 AS one").empty());
  EXPECT_EQ(ModelInputs("SELECT * FROM \"silver\".\"we\"\"ird\""),
            (std::vector<std::string>{"silver.we\"ird"}));
}

// Issue 5: the first gold refresh ran before silver had created every table and logged
// "does not exist" errors. A model waits (no error, no table) until all its inputs exist.
TEST_F(GoldStageTest, ModelWaitsForItsInputTablesThenRealErrorsStillFail) {
  ASSERT_TRUE(
      silver_->Apply(1, Records({Product(Op::kCreate, 1, "bikes", "100.00", 100)})).ok());
  GoldOptions options;
  options.lake_root = dir_.path();
  options.models = {
      {"by_category", "SELECT category, sum(price) AS total FROM silver.product GROUP BY ALL",
       {}, GoldMaterialization::kTable},
      {"order_count", "SELECT count(*) AS n FROM silver.orders", {},
       GoldMaterialization::kTable},
      {"after_orders", "SELECT n FROM gold.order_count", {}, GoldMaterialization::kTable},
  };
  auto gold = GoldStage::Open(options, &metrics_);
  ASSERT_TRUE(gold.ok()) << gold.status().ToString();
  Status refreshed = (*gold)->Refresh(1);
  EXPECT_TRUE(refreshed.ok()) << refreshed.error().ToString();
  EXPECT_EQ(metrics_.gold_failures.load(), 0);
  EXPECT_EQ(TableRows(dir_.path() / "gold" / "by_category", "category, total"),
            (std::vector<std::string>{"bikes|100.00"}));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "gold" / "order_count"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "gold" / "after_orders"));

  // The input appears: the waiting models run, in order, at the next refresh.
  auto orders = MakeSchema("orders", {{"id", DataType::Of(TypeKind::kInt32)}});
  ASSERT_TRUE(silver_
                  ->Apply(2, Records({MakeEvent(Op::kCreate, orders, std::nullopt,
                                                core::Row{Value::Int32(7)}, 200)}))
                  .ok());
  refreshed = (*gold)->Refresh(2);
  EXPECT_TRUE(refreshed.ok()) << refreshed.error().ToString();
  EXPECT_EQ(TableRows(dir_.path() / "gold" / "after_orders", "n"),
            (std::vector<std::string>{"1"}));
  EXPECT_EQ(metrics_.gold_failures.load(), 0);

  // With every input present, a broken model is an error naming it.
  options.models = {{"broken", "SELECT no_such_column FROM silver.product", {},
                     GoldMaterialization::kTable}};
  auto broken = GoldStage::Open(options, &metrics_);
  ASSERT_TRUE(broken.ok());
  refreshed = (*broken)->Refresh(3);
  ASSERT_FALSE(refreshed.ok());
  EXPECT_NE(refreshed.error().ToString().find("gold model broken"), std::string::npos)
      << refreshed.error().ToString();
  EXPECT_EQ(metrics_.gold_failures.load(), 1);
}

TEST_F(GoldStageTest, RegistersLakeViewsByLayer) {
  ASSERT_TRUE(
      silver_->Apply(1, Records({Product(Op::kCreate, 1, "bikes", "100.00", 100)})).ok());
  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok());
  auto views = RegisterLakeViews(**conn, dir_.path());
  ASSERT_TRUE(views.ok()) << views.status().ToString();
  EXPECT_EQ(*views, (std::vector<std::string>{"silver.product"}));
  auto rows = (*conn)->Query("SELECT category FROM silver.product");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->GetString(0, 0), "bikes");
}

}  // namespace
}  // namespace tributary::pipeline

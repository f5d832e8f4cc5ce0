// SilverStage's per-table write plan (one stage table kept between commits) and its
// maintenance (compaction checks, progress commits) run in Apply or deferred to
// RunMaintenance().

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/value.h"
#include "pipeline/silver_stage.h"
#include "pipeline_test_util.h"
#include "testing/temp_dir.h"

namespace tributary::pipeline {
namespace {

namespace fs = std::filesystem;
using core::DataType;
using core::Op;
using core::TypeKind;
using core::Value;
using testing::MakeEvent;
using testing::MakeSchema;
using testing::Records;
using testing::TableRows;

// The commitInfo operations of the table's commits, in version order.
std::vector<std::string> Operations(const fs::path& table_root) {
  std::vector<std::string> out;
  for (int64_t version = 0;; ++version) {
    std::ifstream in(table_root / "_delta_log" / fmt::format("{:020}.json", version));
    if (!in) {
      break;
    }
    std::string operation = "?";
    for (std::string line; std::getline(in, line);) {
      auto action = nlohmann::json::parse(line);
      if (action.contains("commitInfo")) {
        operation = action["commitInfo"].value("operation", "?");
      }
    }
    out.push_back(operation);
  }
  return out;
}

int64_t Count(const std::vector<std::string>& operations, std::string_view operation) {
  return std::count(operations.begin(), operations.end(), operation);
}

// The latest txn version of `app_id` in the table's commits; -1 when none.
int64_t TxnVersion(const fs::path& table_root, std::string_view app_id) {
  int64_t found = -1;
  for (int64_t version = 0;; ++version) {
    std::ifstream in(table_root / "_delta_log" / fmt::format("{:020}.json", version));
    if (!in) {
      break;
    }
    for (std::string line; std::getline(in, line);) {
      auto action = nlohmann::json::parse(line);
      if (action.contains("txn") && action["txn"].value("appId", "") == app_id) {
        found = action["txn"].value("version", int64_t{-1});
      }
    }
  }
  return found;
}

class SilverMaintenanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    schema_ = MakeSchema("item", {{"id", DataType::Of(TypeKind::kInt64)},
                                  {"name", DataType::Of(TypeKind::kString)}});
  }

  std::unique_ptr<SilverStage> Open(const SilverOptions& base) {
    SilverOptions options = base;
    options.silver_root = dir_.path() / "silver";
    options.bronze_root = dir_.path() / "bronze" / "all_events";
    auto stage = SilverStage::Open(options, &metrics_);
    EXPECT_TRUE(stage.ok()) << (stage.ok() ? "" : stage.status().ToString());
    return stage.ok() ? std::move(*stage) : nullptr;
  }

  core::ChangeEvent Insert(int64_t id, std::string name) {
    return MakeEvent(Op::kCreate, schema_, std::nullopt,
                     core::Row{Value::Int64(id), Value::String(std::move(name))}, NextLsn());
  }

  uint64_t NextLsn() { return lsn_ += 16; }

  fs::path Item() const { return dir_.path() / "silver" / "item"; }

  // Options that make a compaction due every 2 commits of a table with 3 small files.
  static SilverOptions Compacting() {
    SilverOptions options;
    options.compaction.min_files = 3;
    options.compaction.check_every_commits = 2;
    return options;
  }

  tributary::testing::TempDir dir_{"trib-silver-maint"};
  std::shared_ptr<const core::TableSchema> schema_;
  PipelineMetrics metrics_;
  uint64_t lsn_ = 1000;
};

// The write plan (row batch) is kept between commits and replaced when the schema changes
// (columns added by a schema change, events of the old and the new schema in one batch);
// a write that fails leaves nothing behind for the next one.
TEST_F(SilverMaintenanceTest, StageTableIsReusedAcrossCommitsAndSchemaChanges) {
  auto stage = Open(SilverOptions{});
  ASSERT_NE(stage, nullptr);
  ASSERT_TRUE(stage->Apply(0, Records({Insert(1, "a"), Insert(2, "b")})).ok());
  ASSERT_TRUE(stage->Apply(1, Records({Insert(3, "c")})).ok());
  auto wider = MakeSchema("item", {{"id", DataType::Of(TypeKind::kInt64)},
                                   {"name", DataType::Of(TypeKind::kString)},
                                   {"price", DataType::Decimal(8, 2)}});
  auto priced = [&](int64_t id, std::string name, std::string price) {
    return MakeEvent(Op::kCreate, wider, std::nullopt,
                     core::Row{Value::Int64(id), Value::String(std::move(name)),
                               Value::String(std::move(price))},
                     NextLsn());
  };
  // Version 2 fails: "oops" is no decimal. Nothing of it may reach a later commit.
  Status failed = stage->Apply(2, Records({priced(4, "d", "1.50"), priced(5, "e", "oops")}));
  ASSERT_FALSE(failed.ok());
  // Its replay with a good value; an event of the old schema after the new one.
  ASSERT_TRUE(stage->Apply(2, Records({priced(4, "d", "1.50"), priced(5, "e", "2.25"),
                                       Insert(6, "f")}))
                  .ok());
  ASSERT_TRUE(stage->Apply(3, Records({priced(1, "a2", "9.99"), Insert(7, "g")})).ok());
  ASSERT_TRUE(stage
                  ->Apply(4, Records({MakeEvent(Op::kDelete, schema_,
                                                core::Row{Value::Int64(2), Value::Null()},
                                                std::nullopt, NextLsn())}))
                  .ok());
  EXPECT_EQ(TableRows(Item(), "id, name, price, _bronze_version"),
            (std::vector<std::string>{"1|a2|9.99|3", "3|c|NULL|1", "4|d|1.50|2", "5|e|2.25|2",
                                      "6|f|NULL|2", "7|g|NULL|3"}));
  // A truncate, then rows again through the same stage.
  core::ChangeEvent truncate = MakeEvent(Op::kTruncate, wider, std::nullopt, std::nullopt,
                                         NextLsn());
  ASSERT_TRUE(stage->Apply(5, Records({truncate, priced(8, "h", "0.10")})).ok());
  ASSERT_TRUE(stage->Apply(6, Records({Insert(9, "i")})).ok());
  EXPECT_EQ(TableRows(Item(), "id, name, price"),
            (std::vector<std::string>{"8|h|0.10", "9|i|NULL"}));
  EXPECT_EQ(metrics_.silver_commits.load(), 7);
}

// maintain_in_apply = false: Apply leaves compaction checks and progress commits to
// RunMaintenance(), which does them one step at a time.
TEST_F(SilverMaintenanceTest, DeferredMaintenanceRunsInRunMaintenance) {
  SilverOptions options = Compacting();
  options.maintain_in_apply = false;
  options.progress_every_versions = 3;
  auto stage = Open(options);
  ASSERT_NE(stage, nullptr);
  EXPECT_FALSE(stage->maintenance_due());
  for (int64_t version = 0; version < 6; ++version) {
    ASSERT_TRUE(stage->Apply(version, Records({Insert(version, "row")})).ok());
  }
  EXPECT_EQ(Count(Operations(Item()), "OPTIMIZE"), 0);
  EXPECT_FALSE(fs::exists(dir_.path() / "silver" / "_dead_letter"));
  EXPECT_TRUE(stage->maintenance_due());
  int steps = 0;
  while (true) {
    auto ran = stage->RunMaintenance();
    ASSERT_TRUE(ran.ok()) << ran.status().ToString();
    if (!*ran) {
      break;
    }
    ++steps;
    ASSERT_LT(steps, 10);
  }
  EXPECT_EQ(steps, 2);  // the table's compaction check, the progress commit
  EXPECT_FALSE(stage->maintenance_due());
  EXPECT_EQ(Count(Operations(Item()), "OPTIMIZE"), 1);
  EXPECT_EQ(metrics_.compactions.load(), 1);
  EXPECT_EQ(TxnVersion(dir_.path() / "silver" / "_dead_letter", kSilverAppId), 5);
  EXPECT_EQ(TableRows(Item(), "count(*), min(id), max(id)"),
            std::vector<std::string>{"6|0|5"});
  // The progress marker is where a restart resumes.
  stage.reset();
  stage = Open(options);
  ASSERT_NE(stage, nullptr);
  EXPECT_EQ(stage->position(), 5);
}

// A caller that is never idle (never calls RunMaintenance) still gets its tables
// compacted and its progress recorded, by Apply, once they waited
// max_maintenance_delay_versions versions.
TEST_F(SilverMaintenanceTest, DeferredMaintenanceStillRunsWhenOverdue) {
  SilverOptions options = Compacting();
  options.maintain_in_apply = false;
  options.max_maintenance_delay_versions = 4;
  options.progress_every_versions = 3;
  auto stage = Open(options);
  ASSERT_NE(stage, nullptr);
  for (int64_t version = 0; version < 12; ++version) {
    ASSERT_TRUE(stage->Apply(version, Records({Insert(version, "row")})).ok());
  }
  EXPECT_GE(Count(Operations(Item()), "OPTIMIZE"), 1);
  EXPECT_GE(TxnVersion(dir_.path() / "silver" / "_dead_letter", kSilverAppId), 3);
  EXPECT_EQ(TableRows(Item(), "count(*), min(id), max(id)"),
            std::vector<std::string>{"12|0|11"});
}

// The default (maintain_in_apply): Apply compacts as before, and checks that find too
// few small files do not compact.
TEST_F(SilverMaintenanceTest, ApplyCompactsWhenDueByDefault) {
  auto stage = Open(Compacting());
  ASSERT_NE(stage, nullptr);
  ASSERT_TRUE(stage->Apply(0, Records({Insert(0, "row")})).ok());
  ASSERT_TRUE(stage->Apply(1, Records({Insert(1, "row")})).ok());
  EXPECT_EQ(Count(Operations(Item()), "OPTIMIZE"), 0);  // 2 files: below min_files
  EXPECT_FALSE(stage->maintenance_due());
  ASSERT_TRUE(stage->Apply(2, Records({Insert(2, "row")})).ok());
  ASSERT_TRUE(stage->Apply(3, Records({Insert(3, "row")})).ok());
  EXPECT_EQ(Count(Operations(Item()), "OPTIMIZE"), 1);
  // New rows add files; the table is compacted again when they pile up.
  for (int64_t version = 4; version < 12; ++version) {
    ASSERT_TRUE(stage->Apply(version, Records({Insert(version, "row")})).ok());
  }
  EXPECT_GE(Count(Operations(Item()), "OPTIMIZE"), 2);
  EXPECT_EQ(metrics_.compactions.load(), Count(Operations(Item()), "OPTIMIZE"));
  ASSERT_TRUE(stage
                  ->Apply(12, Records({MakeEvent(Op::kUpdate, schema_, std::nullopt,
                                                 core::Row{Value::Int64(0), Value::String("v")},
                                                 NextLsn())}))
                  .ok());
  EXPECT_EQ(TableRows(Item(), "count(*), min(id), max(id), count(*) FILTER (WHERE name = 'v')"),
            std::vector<std::string>{"12|0|11|1"});
}

}  // namespace
}  // namespace tributary::pipeline

// Cost of SilverStage::Apply per row (issue #5): applies versions of inserts and updates
// to a 9-column table, checks the result and prints the CPU time per row. The row count
// defaults to a quick 4,000; TRIB_SILVER_COST_ROWS raises it for a measurement, e.g.
//   TRIB_SILVER_COST_ROWS=60000 build/dev/tests/unit_pipeline
//     --gtest_filter='SilverApplyCostTest.*'

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include "core/value.h"
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
using testing::TableRows;

int64_t CpuMicros() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return (static_cast<int64_t>(usage.ru_utime.tv_sec) + usage.ru_stime.tv_sec) *
             1'000'000 +
         usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
}

TEST(SilverApplyCostTest, InsertsThenUpdatesInBatches) {
  int64_t total_rows = 4000;
  if (const char* env = std::getenv("TRIB_SILVER_COST_ROWS")) {
    total_rows = std::max<int64_t>(1000, std::atoll(env));
  }
  constexpr int64_t kRowsPerVersion = 1000;
  auto schema = MakeSchema("orders", {{"id", DataType::Of(TypeKind::kInt64)},
                                      {"customer", DataType::Of(TypeKind::kInt32)},
                                      {"status", DataType::Of(TypeKind::kString)},
                                      {"amount", DataType::Decimal(12, 2)},
                                      {"note", DataType::Of(TypeKind::kString)},
                                      {"qty", DataType::Of(TypeKind::kInt32)},
                                      {"flag", DataType::Of(TypeKind::kBool)},
                                      {"code", DataType::Of(TypeKind::kString)},
                                      {"score", DataType::Of(TypeKind::kDouble)}});
  auto row = [](int64_t id, int64_t round) {
    return core::Row{Value::Int64(id),
                     Value::Int32(static_cast<int32_t>(id % 97)),
                     Value::String(round == 0 ? "new" : "paid"),
                     Value::Numeric(*core::Decimal::FromString(
                         std::to_string(id % 1000 + round) + ".25")),
                     Value::String("note for order " + std::to_string(id)),
                     Value::Int32(static_cast<int32_t>(round + 1)),
                     Value::Bool(id % 2 == 0),
                     Value::String("C" + std::to_string(id % 13)),
                     Value::Double(static_cast<double>(id) / 8.0)};
  };
  // Versions: the first half inserts the ids, the second half updates them once.
  std::vector<std::vector<BronzeRecord>> versions;
  const int64_t ids = total_rows / 2;
  uint64_t lsn = 1000;
  for (int64_t round = 0; round < 2; ++round) {
    for (int64_t first = 0; first < ids; first += kRowsPerVersion) {
      std::vector<BronzeRecord> records;
      for (int64_t id = first; id < std::min(ids, first + kRowsPerVersion); ++id) {
        BronzeRecord record;
        record.event =
            round == 0 ? MakeEvent(Op::kCreate, schema, std::nullopt, row(id, 0), lsn)
                       : MakeEvent(Op::kUpdate, schema, std::nullopt, row(id, 1), lsn);
        record.value_json = "{}";
        records.push_back(std::move(record));
        lsn += 16;
      }
      versions.push_back(std::move(records));
    }
  }
  tributary::testing::TempDir dir("trib-silver-cost");
  SilverOptions options;
  options.silver_root = dir.path() / "silver";
  options.bronze_root = dir.path() / "bronze" / "all_events";
  auto stage = SilverStage::Open(options);
  ASSERT_TRUE(stage.ok()) << stage.status().ToString();
  const int64_t start = CpuMicros();
  for (size_t index = 0; index < versions.size(); ++index) {
    Status applied = (*stage)->Apply(static_cast<int64_t>(index), versions[index]);
    ASSERT_TRUE(applied.ok()) << applied.error().ToString();
  }
  const int64_t cpu_us = CpuMicros() - start;
  std::printf("silver apply: %lld rows in %zu versions, %.1f us CPU per row\n",
              static_cast<long long>(total_rows), versions.size(),
              static_cast<double>(cpu_us) / static_cast<double>(total_rows));
  auto summary =
      TableRows(dir.path() / "silver" / "orders",
                "count(*), count(*) FILTER (WHERE status = 'paid' AND qty = 2), "
                "min(id), max(id)");
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_EQ(summary[0], fmt::format("{}|{}|0|{}", ids, ids, ids - 1));
  EXPECT_EQ(
      TableRows(dir.path() / "silver" / "orders",
                "id, customer, status, amount, note, qty, flag, code, score", "id = 7"),
      (std::vector<std::string>{"7|7|paid|8.25|note for order 7|2|false|C7|0.875"}));
}

}  // namespace
}  // namespace tributary::pipeline

#include "pipeline/bronze_sink.h"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "core/value.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/writer.h"
#include "pipeline/silver_stage.h"
#include "pipeline/types.h"
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

class BronzeSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    schema_ = MakeSchema("orders", {{"id", DataType::Of(TypeKind::kInt64)},
                                    {"total", DataType::Decimal(12, 2)},
                                    {"at", DataType::Of(TypeKind::kTimestampTz)},
                                    {"day", DataType::Of(TypeKind::kDate)},
                                    {"tags", DataType::ArrayOf(DataType::Of(TypeKind::kString))},
                                    {"note", DataType::Of(TypeKind::kString)}});
  }

  std::filesystem::path root() const { return dir_.path() / "bronze" / "all_events"; }

  std::unique_ptr<BronzeSink> Open() {
    BronzeOptions options;
    options.table_root = root();
    options.source = "pg";
    auto sink = BronzeSink::Open(options, &metrics_);
    EXPECT_TRUE(sink.ok()) << (sink.ok() ? "" : sink.status().ToString());
    return sink.ok() ? std::move(*sink) : nullptr;
  }

  core::ChangeEvent Insert(int64_t id, uint64_t lsn, uint64_t index = 0) {
    return MakeEvent(
        Op::kCreate, schema_, std::nullopt,
        core::Row{Value::Int64(id), Value::Numeric(*core::Decimal::FromString("12.34")),
                  Value::TimestampTz(1'700'000'000'123'456), Value::Date(19700),
                  Value::Array({Value::String("a,b"), Value::String("c")}),
                  Value::String("note " + std::to_string(id))},
        lsn, index);
  }

  core::ChangeBatch Batch(std::vector<core::ChangeEvent> events, uint64_t commit_lsn) {
    core::ChangeBatch batch;
    batch.events = std::move(events);
    batch.ends_transaction = true;
    batch.resume_position = core::PostgresPosition{commit_lsn, commit_lsn, 0, 0};
    return batch;
  }

  tributary::testing::TempDir dir_{"trib-bronze"};
  std::shared_ptr<const core::TableSchema> schema_;
  PipelineMetrics metrics_;
};

TEST_F(BronzeSinkTest, CommitsWholeTransactionsWithTxnAndRoundTripsEvents) {
  auto sink = Open();
  ASSERT_NE(sink, nullptr);
  EXPECT_FALSE(sink->ResumePosition().has_value());
  ASSERT_TRUE(sink->WriteBatch(Batch({Insert(1, 100, 0), Insert(2, 100, 1)}, 100)).ok());
  // A partial transaction is not committed.
  core::ChangeBatch partial = Batch({Insert(3, 200, 0)}, 200);
  partial.ends_transaction = false;
  partial.resume_position = {};
  ASSERT_TRUE(sink->WriteBatch(partial).ok());
  auto commit = sink->Commit();
  ASSERT_TRUE(commit.ok()) << commit.status().ToString();
  ASSERT_TRUE(commit->has_value());
  EXPECT_EQ((*commit)->event_count, 2);
  EXPECT_EQ((*commit)->records.size(), 2u);
  EXPECT_EQ(sink->DurablePosition(), core::SourcePosition(core::PostgresPosition{100, 100, 0, 0}));
  auto txn = lake::delta::ReadAppTransactionVersion(root(), "bronze:pg");
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(*txn, std::optional<int64_t>(100));

  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok());
  auto rows = ReadBronzeVersion(**conn, root(), (*commit)->version);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->records.size(), 2u);
  EXPECT_TRUE(rows->undecodable.empty());
  const core::ChangeEvent& original = (*commit)->records[0].event;
  const core::ChangeEvent& decoded = rows->records[0].event;
  EXPECT_EQ(decoded.position, original.position);
  EXPECT_EQ(decoded.op, Op::kCreate);
  EXPECT_EQ(decoded.table, original.table);
  ASSERT_TRUE(decoded.after.has_value());
  ASSERT_EQ(decoded.after->size(), original.after->size());
  for (size_t i = 0; i < decoded.after->size(); ++i) {
    EXPECT_EQ(ValueText((*decoded.after)[i]), ValueText((*original.after)[i])) << i;
  }
  ASSERT_TRUE(decoded.schema);
  EXPECT_EQ(decoded.schema->primary_key, std::vector<size_t>{0});
  EXPECT_EQ(TableRows(root(), "source, source_table, op, position_lsn, event_index"),
            (std::vector<std::string>{"pg|public.orders|c|100|0", "pg|public.orders|c|100|1"}));

  // The open transaction completes and commits next.
  ASSERT_TRUE(sink->WriteBatch(Batch({Insert(4, 200, 1)}, 200)).ok());
  ASSERT_TRUE(sink->Flush().ok());
  EXPECT_EQ(TableRows(root(), "count(*)").at(0), "4");
}

TEST_F(BronzeSinkTest, BatchWindowKeepsABatchOpenAndStagesAcrossManyBatches) {
  BronzeOptions options;
  options.table_root = root();
  options.source = "pg";
  options.max_interval = std::chrono::milliseconds(1);
  auto opened = BronzeSink::Open(options, &metrics_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto& sink = *opened;
  // Group commit: the last commit took 400 ms, so the next batch stays open that long.
  sink->SetBatchWindow(std::chrono::milliseconds(400));
  const auto first = std::chrono::steady_clock::now();
  for (int64_t txn = 0; txn < 50; ++txn) {
    uint64_t lsn = 100 + static_cast<uint64_t>(txn) * 10;
    ASSERT_TRUE(sink->WriteBatch(Batch({Insert(txn * 2, lsn, 0), Insert(txn * 2 + 1, lsn, 1)},
                                       lsn))
                    .ok());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (std::chrono::steady_clock::now() - first < std::chrono::milliseconds(350)) {
    EXPECT_FALSE(sink->CommitDue()) << "due before the batch window passed";
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(420));
  EXPECT_TRUE(sink->CommitDue());
  auto commit = sink->Commit();
  ASSERT_TRUE(commit.ok()) << commit.status().ToString();
  ASSERT_TRUE(commit->has_value());
  EXPECT_EQ((*commit)->event_count, 100);
  EXPECT_EQ(TableRows(root(), "count(*), count(DISTINCT commit_seq)"),
            (std::vector<std::string>{"100|100"}));
  // A zero window leaves max_interval alone (an hour would be capped at kMaxBatchWindow).
  sink->SetBatchWindow(std::chrono::hours(1));
  ASSERT_TRUE(sink->WriteBatch(Batch({Insert(1000, 5000)}, 5000)).ok());
  sink->SetBatchWindow(std::chrono::milliseconds(0));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(sink->CommitDue());
  ASSERT_TRUE(sink->Flush().ok());
  EXPECT_EQ(TableRows(root(), "count(*)").at(0), "101");
}

TEST_F(BronzeSinkTest, RestartDropsReplayedEvents) {
  {
    auto sink = Open();
    ASSERT_NE(sink, nullptr);
    ASSERT_TRUE(sink->WriteBatch(Batch({Insert(1, 100)}, 100)).ok());
    ASSERT_TRUE(sink->WriteBatch(Batch({Insert(2, 200)}, 200)).ok());
    ASSERT_TRUE(sink->Flush().ok());
  }
  auto sink = Open();
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(sink->ResumePosition().has_value());
  EXPECT_EQ(sink->ResumePosition()->postgres()->commit_lsn, 200u);
  // The source replays from its older confirmed position: 100 and 200 again, then 300.
  ASSERT_TRUE(sink->WriteBatch(Batch({Insert(1, 100)}, 100)).ok());
  ASSERT_TRUE(sink->WriteBatch(Batch({Insert(2, 200)}, 200)).ok());
  ASSERT_TRUE(sink->WriteBatch(Batch({Insert(3, 300)}, 300)).ok());
  ASSERT_TRUE(sink->Flush().ok());
  EXPECT_EQ(metrics_.bronze_replayed_events_dropped.load(), 2);
  EXPECT_EQ(TableRows(root(), "position_lsn, count(*)", "true GROUP BY position_lsn"),
            (std::vector<std::string>{"100|1", "200|1", "300|1"}));
}

TEST_F(BronzeSinkTest, SilverReplayFromBronzeMatchesTheMemoryPath) {
  auto sink = Open();
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(sink->WriteBatch(Batch({Insert(1, 100), Insert(2, 100, 1)}, 100)).ok());
  auto first = sink->Commit();
  ASSERT_TRUE(first.ok() && first->has_value());
  auto update = MakeEvent(
      Op::kUpdate, schema_, std::nullopt,
      core::Row{Value::Int64(2), Value::Numeric(*core::Decimal::FromString("99.99")),
                Value::TimestampTz(1'700'000'000'000'000), Value::Date(19701),
                Value::Array({}), Value::Unavailable()},
      200);
  ASSERT_TRUE(sink->WriteBatch(Batch({update}, 200)).ok());
  auto second = sink->Commit();
  ASSERT_TRUE(second.ok() && second->has_value());

  SilverOptions memory_options;
  memory_options.silver_root = dir_.path() / "silver_memory";
  memory_options.bronze_root = root();
  auto memory = SilverStage::Open(memory_options);
  ASSERT_TRUE(memory.ok());
  ASSERT_TRUE((*memory)->ApplyCommit(**first).ok());
  ASSERT_TRUE((*memory)->ApplyCommit(**second).ok());

  SilverOptions replay_options = memory_options;
  replay_options.silver_root = dir_.path() / "silver_replay";
  auto replay = SilverStage::Open(replay_options);
  ASSERT_TRUE(replay.ok());
  ASSERT_TRUE((*replay)->CatchUp((*second)->version).ok());

  const std::string columns = "id, total, \"at\", day, tags, note";
  auto expected = TableRows(dir_.path() / "silver_memory" / "orders", columns);
  EXPECT_EQ(expected.size(), 2u);
  EXPECT_EQ(expected, TableRows(dir_.path() / "silver_replay" / "orders", columns));
  EXPECT_EQ(expected.at(1), "2|99.99|2023-11-14 22:13:20+00|2023-12-10|[]|note 2");
}

}  // namespace
}  // namespace tributary::pipeline

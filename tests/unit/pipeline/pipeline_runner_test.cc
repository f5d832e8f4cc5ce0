// The Pipeline runner (pipeline.h) with a scripted in-memory ChangeSource: acknowledgement
// order, every event in bronze and silver, and bronze compaction on the maintenance thread.

#include "pipeline/pipeline.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/change_source.h"
#include "pipeline_test_util.h"
#include "testing/temp_dir.h"

namespace tributary::pipeline {
namespace {

namespace fs = std::filesystem;
using core::DataType;
using core::Op;
using core::Value;
using testing::MakeEvent;
using testing::MakeSchema;
using testing::TableRows;

/// Emits `transactions` inserts into public.item (ids 1..n), one transaction of `per_poll`
/// rows per Poll, then nothing. Records what it was told to acknowledge.
class ScriptedSource : public core::ChangeSource {
 public:
  explicit ScriptedSource(int transactions, int per_poll = 1)
      : transactions_(transactions), per_poll_(per_poll) {
    schema_ = MakeSchema("item", {{"id", DataType::Of(core::TypeKind::kInt64)}, {"name", DataType::Of(core::TypeKind::kString)}});
  }

  std::string name() const override { return "pg"; }
  Status Start(const std::optional<core::SourcePosition>& resume_after) override {
    started_after_ = resume_after;
    return OkStatus();
  }
  Result<core::ChangeBatch> Poll(std::chrono::milliseconds timeout) override {
    core::ChangeBatch batch;
    if (next_ > transactions_) {
      std::this_thread::sleep_for(std::min(timeout, std::chrono::milliseconds(5)));
      return batch;
    }
    const uint64_t lsn = 1000 + static_cast<uint64_t>(next_) * 16;
    for (int row = 0; row < per_poll_ && next_ <= transactions_; ++row) {
      const int id = next_++;
      batch.events.push_back(MakeEvent(
          Op::kCreate, schema_, std::nullopt,
          core::Row{Value::Int64(id), Value::String("item " + std::to_string(id))}, lsn,
          static_cast<uint64_t>(row)));
      emitted_ = id;
    }
    batch.resume_position = batch.events.back().position;
    return batch;
  }
  Status Acknowledge(const core::SourcePosition& position) override {
    std::lock_guard<std::mutex> lock(*mutex_);
    acknowledged_->push_back(position.ToString());
    return OkStatus();
  }
  Status Close() override { return OkStatus(); }

  /// Shared with the test (the pipeline owns the source).
  std::shared_ptr<std::mutex> mutex_ = std::make_shared<std::mutex>();
  std::shared_ptr<std::vector<std::string>> acknowledged_ =
      std::make_shared<std::vector<std::string>>();
  std::atomic<int> emitted_{0};

 private:
  int transactions_;
  int per_poll_;
  int next_ = 1;
  std::shared_ptr<const core::TableSchema> schema_;
  std::optional<core::SourcePosition> started_after_;
};

// Versions of `root` whose commitInfo names `operation`.
int CommitsWithOperation(const fs::path& root, const std::string& operation) {
  int count = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root / "_delta_log", ec)) {
    if (entry.path().extension() != ".json") {
      continue;
    }
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      if (line.find("\"commitInfo\"") != std::string::npos &&
          line.find("\"operation\":\"" + operation + "\"") != std::string::npos) {
        ++count;
      }
    }
  }
  return count;
}

TEST(PipelineRunnerTest, CommitsEveryTransactionAndCompactsBronzeOffThePath) {
  ::tributary::testing::TempDir dir;
  constexpr int kTransactions = 24;
  PipelineOptions options;
  options.lake_root = dir.path() / "lake";
  // One bronze commit per transaction: many small bronze files.
  options.batch_max_rows = 1;
  options.batch_interval = std::chrono::milliseconds(1);
  options.poll_timeout = std::chrono::milliseconds(5);
  options.compaction.min_files = 4;
  options.compaction.check_every_commits = 1;  // bronze: checked every 4 bronze commits
  auto source = std::make_unique<ScriptedSource>(kTransactions);
  auto acknowledged = source->acknowledged_;
  auto ack_mutex = source->mutex_;
  std::vector<PipelineSource> sources;
  sources.push_back(PipelineSource{std::move(source), nullptr});
  auto pipeline = Pipeline::Create(options, std::move(sources));
  ASSERT_TRUE(pipeline.ok()) << pipeline.status().ToString();

  std::stop_source stop;
  Status run_status = OkStatus();
  std::thread runner([&] { run_status = (*pipeline)->Run(stop.get_token()); });
  const fs::path bronze = options.lake_root / "bronze" / "all_events";
  const fs::path silver = options.lake_root / "silver" / "item";
  // Wait until silver holds every row and bronze was compacted at least once.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool done = false;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!fs::exists(silver / "_delta_log") ||
        CommitsWithOperation(bronze, "OPTIMIZE") == 0) {
      continue;
    }
    done = (*pipeline)->metrics().silver_rows_upserted.load() >= kTransactions;
  }
  stop.request_stop();
  runner.join();
  ASSERT_TRUE(run_status.ok()) << run_status.error().ToString();
  ASSERT_TRUE(done) << "silver rows: " << (*pipeline)->metrics().silver_rows_upserted.load()
                    << ", bronze OPTIMIZE commits: " << CommitsWithOperation(bronze, "OPTIMIZE");

  // Every event exactly once in bronze (compaction rewrote files, not rows) and silver.
  EXPECT_EQ(TableRows(bronze, "count(*), count(DISTINCT position)"),
            std::vector<std::string>{"24|24"});
  EXPECT_EQ(TableRows(silver, "count(*), min(id), max(id)"),
            std::vector<std::string>{"24|1|24"});
  EXPECT_GE((*pipeline)->metrics().compactions.load(), 1);

  // Acknowledged only positions bronze held, in source order, ending at the last one.
  std::lock_guard<std::mutex> lock(*ack_mutex);
  ASSERT_FALSE(acknowledged->empty());
  const std::string last = MakeEvent(Op::kCreate,
                                     MakeSchema("item", {{"id", DataType::Of(core::TypeKind::kInt64)}}),
                                     std::nullopt, core::Row{Value::Int64(kTransactions)},
                                     1000 + static_cast<uint64_t>(kTransactions) * 16)
                               .position.ToString();
  EXPECT_EQ(acknowledged->back(), last);
  for (size_t i = 1; i < acknowledged->size(); ++i) {
    EXPECT_NE((*acknowledged)[i - 1], (*acknowledged)[i]);
  }
}

// Issue 5: a backlog lengthens the bronze batch interval (fewer, bigger commits) up to
// batch_interval_max, and it returns to batch_interval once the pipeline caught up.
TEST(PipelineRunnerTest, BatchIntervalAdaptsToABacklogAndReturnsWhenCaughtUp) {
  ::tributary::testing::TempDir dir;
  constexpr int kRows = 1500;
  PipelineOptions options;
  options.lake_root = dir.path() / "lake";
  // The scripted source has the whole backlog ready at once, in 30 transactions of 50
  // rows: the capture thread queues them faster than bronze stages them.
  options.batch_interval = std::chrono::milliseconds(1);
  options.batch_interval_max = std::chrono::milliseconds(64);
  options.poll_timeout = std::chrono::milliseconds(5);
  options.compaction.min_files = 0;
  auto source = std::make_unique<ScriptedSource>(kRows, 50);
  std::vector<PipelineSource> sources;
  sources.push_back(PipelineSource{std::move(source), nullptr});
  auto pipeline = Pipeline::Create(options, std::move(sources));
  ASSERT_TRUE(pipeline.ok()) << pipeline.status().ToString();
  const PipelineMetrics& metrics = (*pipeline)->metrics();
  EXPECT_EQ(metrics.bronze_batch_interval_ms.load(), 1);

  std::stop_source stop;
  Status run_status = OkStatus();
  std::thread runner([&] { run_status = (*pipeline)->Run(stop.get_token()); });
  int64_t longest = 0;
  bool caught_up = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    longest = std::max(longest, metrics.bronze_batch_interval_ms.load());
    if (metrics.silver_rows_upserted.load() >= kRows &&
        metrics.bronze_batch_interval_ms.load() == 1) {
      caught_up = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  stop.request_stop();
  runner.join();
  ASSERT_TRUE(run_status.ok()) << run_status.error().ToString();
  EXPECT_TRUE(caught_up) << "silver rows: " << metrics.silver_rows_upserted.load()
                         << ", interval: " << metrics.bronze_batch_interval_ms.load();
  EXPECT_GT(longest, 1);
  EXPECT_LE(longest, 64);
  const fs::path silver = options.lake_root / "silver" / "item";
  EXPECT_EQ(TableRows(silver, "count(*), min(id), max(id)"),
            std::vector<std::string>{"1500|1|1500"});
}

}  // namespace
}  // namespace tributary::pipeline

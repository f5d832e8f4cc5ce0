#include "lake/delta/optimize.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "lake/delta/commit.h"
#include "lake/delta/scan.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/writer.h"
#include "sql/database.h"
#include "testing/temp_dir.h"

namespace tributary::lake::delta {
namespace {

namespace fs = std::filesystem;

class OptimizeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conn = sql::Database::OpenInMemoryConnection();
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(*conn);
    root_ = dir_.path() / "table";
    CreateTableOptions create;
    StructField id;
    id.name = "id";
    id.type = DataType::Primitive(TypeKind::kLong);
    StructField part;
    part.name = "part";
    part.type = DataType::Primitive(TypeKind::kString);
    create.schema.fields = {id, part};
    create.partition_columns = {"part"};
    ASSERT_TRUE(CreateTable(root_, create).ok());
  }

  std::string Rows(const Snapshot& snapshot) {
    auto scan = BuildScanQuery(snapshot, *conn_);
    EXPECT_TRUE(scan.ok());
    auto result = conn_->Query("SELECT count(*), sum(id), count(DISTINCT part) FROM (" +
                               *scan + ")");
    EXPECT_TRUE(result.ok());
    return result->GetString(0, 0) + "|" + result->GetString(1, 0) + "|" +
           result->GetString(2, 0);
  }

  std::shared_ptr<const Snapshot> Latest() {
    auto snapshot = Snapshot::LoadLatest(root_);
    EXPECT_TRUE(snapshot.ok());
    return *snapshot;
  }

  testing::TempDir dir_;
  fs::path root_;
  std::unique_ptr<sql::Connection> conn_;
};

TEST_F(OptimizeTest, BinPacksSmallFilesPerPartitionWithoutDataChange) {
  for (int i = 0; i < 6; ++i) {
    auto written = Append(*conn_, root_,
                          fmt::format("SELECT i AS id, CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' "
                                      "END AS part FROM range({}, {}) t(i)",
                                      i * 10, i * 10 + 10));
    ASSERT_TRUE(written.ok());
  }
  auto before = Latest();
  ASSERT_EQ(before->files().size(), 12u);
  std::string rows_before = Rows(*before);

  auto optimized = Optimize(*conn_, root_);
  ASSERT_TRUE(optimized.ok()) << optimized.status().ToString();
  EXPECT_EQ(optimized->files_removed, 12);
  EXPECT_EQ(optimized->files_added, 2);
  EXPECT_EQ(optimized->partitions_optimized, 2);
  auto after = Latest();
  EXPECT_EQ(after->version(), before->version() + 1);
  EXPECT_EQ(after->files().size(), 2u);
  EXPECT_EQ(Rows(*after), rows_before);
  auto actions = ReadCommit(root_, after->version());
  ASSERT_TRUE(actions.ok());
  for (const auto& action : *actions) {
    if (const auto* add = std::get_if<AddFile>(&action)) {
      EXPECT_FALSE(add->data_change);
      EXPECT_FALSE(add->stats.empty());
    } else if (const auto* remove = std::get_if<RemoveFile>(&action)) {
      EXPECT_FALSE(remove->data_change);
    } else if (const auto* info = std::get_if<CommitInfo>(&action)) {
      EXPECT_EQ(info->operation, "OPTIMIZE");
      EXPECT_EQ(info->operation_metrics.at("numRemovedFiles"), "12");
    }
  }
  // Nothing left to compact: no commit.
  auto again = Optimize(*conn_, root_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->version, -1);
  auto latest = LatestCommitVersion(root_);
  EXPECT_EQ(*latest, after->version());
}

TEST_F(OptimizeTest, LeavesFilesAtTargetSizeAlone) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Append(*conn_, root_, fmt::format("SELECT {} AS id, 'a' AS part", i)).ok());
  }
  OptimizeOptions options;
  options.target_file_size_bytes = 1;  // every file is already "big"
  auto optimized = Optimize(*conn_, root_, options);
  ASSERT_TRUE(optimized.ok());
  EXPECT_EQ(optimized->version, -1);
  EXPECT_EQ(Latest()->files().size(), 3u);
}

TEST_F(OptimizeTest, ConcurrentAppendDoesNotConflictButConcurrentDeleteDoes) {
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(Append(*conn_, root_, fmt::format("SELECT {} AS id, 'a' AS part", i)).ok());
  }
  auto snapshot = Latest();
  // Simulate optimize racing with a blind append: commit an append first, then an
  // optimize-shaped commit that read the older version.
  ASSERT_TRUE(Append(*conn_, root_, "SELECT 100 AS id, 'a' AS part").ok());
  CommitRequest compact;
  compact.read_set.read_version = snapshot->version();
  for (const auto& add : snapshot->files()) {
    RemoveFile remove;
    remove.path = add.path;
    remove.data_change = false;
    compact.actions.emplace_back(remove);
    compact.read_set.read_files.insert(add.path);
  }
  compact.commit_info.operation = "OPTIMIZE";
  auto committed = Commit(root_, compact);
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_EQ(committed->version, snapshot->version() + 2);
  EXPECT_EQ(committed->attempts, 2);

  // A delete of a file the compaction read makes the compaction fail.
  compact.read_set.read_version = committed->version - 2;
  auto conflict = Commit(root_, compact);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.status().code(), ErrorCode::kConflict);
}

}  // namespace
}  // namespace tributary::lake::delta

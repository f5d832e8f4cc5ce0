#include "lake/delta/vacuum.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "lake/delta/commit.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/writer.h"
#include "sql/database.h"
#include "testing/temp_dir.h"

namespace tributary::lake::delta {
namespace {

namespace fs = std::filesystem;

class VacuumTest : public ::testing::Test {
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
    create.schema.fields = {id};
    ASSERT_TRUE(CreateTable(root_, create).ok());
    ASSERT_TRUE(Append(*conn_, root_, "SELECT 1 AS id").ok());
    ASSERT_TRUE(Append(*conn_, root_, "SELECT 2 AS id").ok());
    // Overwrite: the two files above become tombstones.
    ASSERT_TRUE(Overwrite(*conn_, root_, "SELECT 3 AS id").ok());
    // An orphan left by a failed write, and hidden/underscore files vacuum must not touch.
    std::ofstream(root_ / "part-99999-orphan-c000.snappy.parquet") << "x";
    std::ofstream(root_ / ".hidden") << "x";
    fs::create_directories(root_ / "_tmp");
    std::ofstream(root_ / "_tmp" / "y.parquet") << "x";
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

TEST_F(VacuumTest, DefaultRetentionKeepsRecentFiles) {
  auto result = Vacuum(root_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->files.empty());
  EXPECT_EQ(result->retention_ms, 168LL * 3600 * 1000);
}

TEST_F(VacuumTest, RefusesShortRetentionUnlessForced) {
  VacuumOptions options;
  options.retention_hours = 1;
  auto refused = Vacuum(root_, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("168"), std::string::npos);
}

TEST_F(VacuumTest, DryRunListsAndRealRunDeletesOnlyUnreferencedFiles) {
  auto snapshot = Latest();
  ASSERT_EQ(snapshot->files().size(), 1u);
  auto live = snapshot->ResolvePath(snapshot->files()[0].path);
  ASSERT_TRUE(live.ok());
  VacuumOptions options;
  options.retention_hours = 0;
  options.force = true;
  // Pretend it is an hour from now so every file is older than the retention.
  options.now_ms = NowMillis() + 3600 * 1000;
  options.dry_run = true;
  auto dry = Vacuum(root_, options);
  ASSERT_TRUE(dry.ok()) << dry.status().ToString();
  // Two tombstoned data files + the orphan.
  EXPECT_EQ(dry->files.size(), 3u);
  for (const auto& file : dry->files) {
    EXPECT_TRUE(fs::exists(root_ / file)) << file;
    EXPECT_NE(file.rfind('_', 0), 0u) << file;
  }
  options.dry_run = false;
  auto real = Vacuum(root_, options);
  ASSERT_TRUE(real.ok());
  EXPECT_EQ(real->files, dry->files);
  for (const auto& file : real->files) {
    EXPECT_FALSE(fs::exists(root_ / file)) << file;
  }
  EXPECT_TRUE(fs::exists(*live));
  EXPECT_TRUE(fs::exists(root_ / ".hidden"));
  EXPECT_TRUE(fs::exists(root_ / "_tmp" / "y.parquet"));
  EXPECT_TRUE(fs::exists(CommitFilePath(root_, 0)));
  // The table still reads.
  auto after = Latest();
  EXPECT_EQ(after->files().size(), 1u);
  auto rows = conn_->Query("SELECT id FROM read_parquet(" + sql::QuoteLiteral(live->string()) +
                           ")");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->GetInt64(0, 0), 3);
}

TEST_F(VacuumTest, TombstonesWithinRetentionAreKept) {
  VacuumOptions options;
  options.retention_hours = 1;
  options.force = true;
  auto result = Vacuum(root_, options);
  ASSERT_TRUE(result.ok());
  // Files were just written: younger than an hour, nothing goes.
  EXPECT_TRUE(result->files.empty());
}

}  // namespace
}  // namespace tributary::lake::delta

#include "lake/delta/log_cleanup.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "lake/delta/checkpoint_writer.h"
#include "lake/delta/commit.h"
#include "lake/delta/scan.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/writer.h"
#include "sql/database.h"
#include "testing/temp_dir.h"

namespace tributary::lake::delta {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

std::string LogName(int64_t version, std::string_view suffix) {
  return fmt::format("{:020}{}", version, suffix);
}

// Tables with a checkpoint every 2 commits and a log retention of 1 day, written for
// real; expiry is simulated by moving commit file times into the past (or `now_ms` into
// the future), so nothing sleeps.
class LogCleanupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conn = sql::Database::OpenInMemoryConnection();
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(*conn);
    root_ = dir_.path() / "table";
    log_ = DeltaLogDir(root_);
  }

  // Creates the table (version 0) and appends versions 1..last; checkpoints at 2, 4, ...
  void WriteTable(int64_t last, std::map<std::string, std::string> properties = {}) {
    CreateTableOptions create;
    StructField id;
    id.name = "id";
    id.type = DataType::Primitive(TypeKind::kLong);
    create.schema.fields = {id};
    create.properties = {{"delta.checkpointInterval", "2"},
                         {"delta.logRetentionDuration", "interval 1 day"}};
    for (auto& [key, value] : properties) {
      create.properties[key] = value;
    }
    ASSERT_TRUE(CreateTable(root_, create).ok());
    for (int64_t version = 1; version <= last; ++version) {
      WriteOptions options;
      options.txn = SetTransaction{"app", version * 10, std::nullopt};
      auto written =
          Append(*conn_, root_, fmt::format("SELECT {} AS id", version), options);
      ASSERT_TRUE(written.ok()) << written.status().ToString();
      ASSERT_EQ(written->version, version);
      ASSERT_EQ(written->checkpoint_written, version % 2 == 0) << version;
    }
  }

  // Commit files of versions <= `version` (and the checkpoints among them) get a
  // modification time two days ago.
  void Age(int64_t up_to_version) {
    const auto old = fs::file_time_type::clock::now() - hours(48);
    for (const auto& entry : fs::directory_iterator(log_)) {
      const std::string name = entry.path().filename().string();
      if (name.size() >= 20 && name[0] != '.' && name[0] != '_' &&
          std::stoll(name.substr(0, 20)) <= up_to_version) {
        fs::last_write_time(entry.path(), old);
      }
    }
  }

  std::set<std::string> LogNames() {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(log_)) {
      names.insert(entry.path().filename().string());
    }
    return names;
  }

  std::shared_ptr<const Snapshot> Load(std::optional<int64_t> version = std::nullopt) {
    SnapshotOptions options;
    options.version = version;
    options.connection = conn_.get();
    auto snapshot = Snapshot::Load(root_, options);
    EXPECT_TRUE(snapshot.ok()) << snapshot.status().ToString();
    return snapshot.ok() ? *snapshot : nullptr;
  }

  std::string Rows(const Snapshot& snapshot) {
    auto scan = BuildScanQuery(snapshot, *conn_);
    EXPECT_TRUE(scan.ok()) << scan.status().ToString();
    if (!scan.ok()) {
      return "";
    }
    auto result = conn_->Query("SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM (" +
                               *scan + ")");
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? result->GetOptionalString(0, 0).value_or("NULL") : "";
  }

  Metadata LatestMetadata() {
    auto snapshot = Load();
    return snapshot != nullptr ? snapshot->metadata() : Metadata{};
  }

  static void Touch(const fs::path& path) { std::ofstream(path) << "x"; }

  testing::TempDir dir_;
  fs::path root_;
  fs::path log_;
  std::unique_ptr<sql::Connection> conn_;
};

TEST(LogCleanupPropertiesTest, DefaultsAndParsing) {
  Metadata metadata;
  EXPECT_EQ(*LogRetentionMillis(metadata), 30 * kDayMs);
  EXPECT_TRUE(*ExpiredLogCleanupEnabled(metadata));
  metadata.configuration["delta.logRetentionDuration"] = "interval 2 hours";
  metadata.configuration["delta.enableExpiredLogCleanup"] = "FALSE";
  EXPECT_EQ(*LogRetentionMillis(metadata), 2 * 3600 * 1000);
  EXPECT_FALSE(*ExpiredLogCleanupEnabled(metadata));
  metadata.configuration["delta.logRetentionDuration"] = "a while";
  metadata.configuration["delta.enableExpiredLogCleanup"] = "yes";
  auto retention = LogRetentionMillis(metadata);
  ASSERT_FALSE(retention.ok());
  EXPECT_EQ(retention.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(retention.status().ToString().find("delta.logRetentionDuration"),
            std::string::npos);
  auto enabled = ExpiredLogCleanupEnabled(metadata);
  ASSERT_FALSE(enabled.ok());
  EXPECT_NE(enabled.status().ToString().find("delta.enableExpiredLogCleanup"),
            std::string::npos);
}

TEST_F(LogCleanupTest, DeletesEverythingBeforeTheNewestExpiredCheckpoint) {
  WriteTable(7);  // checkpoints at 2, 4, 6
  // Other log files the cleanup knows, and some it must leave alone.
  Touch(log_ / LogName(1, ".crc"));
  Touch(log_ / LogName(5, ".crc"));
  Touch(log_ / LogName(3, ".checkpoint.0000000001.0000000002.parquet"));  // incomplete
  Touch(log_ / (LogName(1, ".") + LogName(3, ".compacted.json")));
  Touch(log_ / (LogName(4, ".") + LogName(5, ".compacted.json")));
  Touch(log_ / LogName(1, ".json.bak"));
  Touch(log_ / "notes.txt");
  fs::create_directories(log_ / "_sidecars");
  Touch(log_ / "_sidecars" / "old.parquet");
  Age(5);
  auto before = Load();
  ASSERT_NE(before, nullptr);
  const std::string rows_before = Rows(*before);
  EXPECT_EQ(rows_before, "1,2,3,4,5,6,7");

  // Commits 0..5 are two days old, 6 and 7 new: the cutoff commit is 5 and the newest
  // checkpoint at or below it is 4.
  auto result = CleanUpExpiredLogs(root_, LatestMetadata(), NowMillis());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->enabled);
  EXPECT_EQ(result->oldest_version_kept, 4);
  // 0..3.json, 1.crc, checkpoint 2, the part of 3, compaction 1..3.
  EXPECT_EQ(result->files_deleted, 8);
  const std::set<std::string> expected = {
      LogName(4, ".json"),
      LogName(4, ".checkpoint.parquet"),
      LogName(4, ".") + LogName(5, ".compacted.json"),
      LogName(5, ".json"),
      LogName(5, ".crc"),
      LogName(6, ".json"),
      LogName(6, ".checkpoint.parquet"),
      LogName(7, ".json"),
      LogName(1, ".json.bak"),
      "notes.txt",
      "_last_checkpoint",
      "_sidecars",
  };
  EXPECT_EQ(LogNames(), expected);
  EXPECT_TRUE(fs::exists(log_ / "_sidecars" / "old.parquet"));

  // The latest state is unchanged.
  auto after = Load();
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(after->version(), 7);
  EXPECT_EQ(Rows(*after), rows_before);
  EXPECT_EQ(after->files().size(), before->files().size());
  EXPECT_EQ(after->GetAppTransactionVersion("app"), 70);

  // Time travel from the kept checkpoint on works; before it, a clear error.
  for (int64_t version : {4, 5, 6}) {
    auto old = Load(version);
    ASSERT_NE(old, nullptr) << version;
    EXPECT_EQ(old->GetAppTransactionVersion("app"), version * 10);
    std::string ids;
    for (int64_t id = 1; id <= version; ++id) {
      ids += (id == 1 ? "" : ",") + std::to_string(id);
    }
    EXPECT_EQ(Rows(*old), ids) << version;
  }
  auto gone = Snapshot::LoadAtVersion(root_, 3);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(gone.status().ToString().find("version 3 cannot be reconstructed"),
            std::string::npos)
      << gone.status().ToString();
  EXPECT_NE(gone.status().ToString().find("the oldest readable version is 4"),
            std::string::npos)
      << gone.status().ToString();
  auto by_time = Snapshot::LoadAtTimestamp(root_, NowMillis());
  ASSERT_TRUE(by_time.ok()) << by_time.status().ToString();
  EXPECT_EQ((*by_time)->version(), 7);

  // Running again deletes nothing more; the table keeps working for writers.
  auto again = CleanUpExpiredLogs(root_, LatestMetadata(), NowMillis());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->files_deleted, 0);
  EXPECT_EQ(again->oldest_version_kept, 4);
  auto v8 = Append(*conn_, root_, "SELECT 8 AS id");
  ASSERT_TRUE(v8.ok()) << v8.status().ToString();
  EXPECT_EQ(v8->version, 8);
  auto latest = Load();
  ASSERT_NE(latest, nullptr);
  EXPECT_EQ(Rows(*latest), "1,2,3,4,5,6,7,8");
}

TEST_F(LogCleanupTest, EverythingExpiredKeepsTheNewestCheckpointAndAfter) {
  WriteTable(5);  // checkpoints at 2, 4
  const std::string rows_before = Rows(*Load());
  // A week from now every commit is past the 1-day retention.
  auto result = CleanUpExpiredLogs(root_, LatestMetadata(), NowMillis() + 7 * kDayMs);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->oldest_version_kept, 4);
  EXPECT_EQ(result->files_deleted, 5);  // 0..3.json, checkpoint 2
  EXPECT_EQ(LogNames(),
            (std::set<std::string>{LogName(4, ".json"), LogName(4, ".checkpoint.parquet"),
                                   LogName(5, ".json"), "_last_checkpoint"}));
  auto after = Load();
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(after->version(), 5);
  EXPECT_EQ(Rows(*after), rows_before);
}

// A cleanup that finds nothing expired remembers the table's oldest commit and checks
// only that one next time (no listing); once commits expire, or the table is written
// anew at the same path, the cleanup still deletes what it must.
TEST_F(LogCleanupTest, RepeatedCleanupsDeleteWhatExpiresLaterAndFollowARecreatedTable) {
  WriteTable(7);  // checkpoints at 2, 4, 6
  for (int round = 0; round < 3; ++round) {
    auto nothing = CleanUpExpiredLogs(root_, LatestMetadata(), NowMillis());
    ASSERT_TRUE(nothing.ok()) << nothing.status().ToString();
    EXPECT_EQ(nothing->files_deleted, 0) << round;
  }
  const auto names = LogNames();
  Age(5);
  auto expired = CleanUpExpiredLogs(root_, LatestMetadata(), NowMillis());
  ASSERT_TRUE(expired.ok()) << expired.status().ToString();
  EXPECT_EQ(expired->oldest_version_kept, 4);
  EXPECT_EQ(expired->files_deleted, 5);  // 0..3.json, checkpoint 2
  EXPECT_EQ(names.size() - 5, LogNames().size());
  auto again = CleanUpExpiredLogs(root_, LatestMetadata(), NowMillis());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->files_deleted, 0);
  EXPECT_EQ(Rows(*Load()), "1,2,3,4,5,6,7");

  // The same path, a new table whose commit 4 (the remembered oldest) is new but 0..3
  // expired: the older commits are found again.
  // (Written with the cleanup off, so that the writer's checkpoints do not clean up.)
  fs::remove_all(root_);
  WriteTable(7, {{"delta.enableExpiredLogCleanup", "false"}});
  Age(3);
  Metadata metadata = LatestMetadata();
  metadata.configuration["delta.enableExpiredLogCleanup"] = "true";
  auto recreated = CleanUpExpiredLogs(root_, metadata, NowMillis());
  ASSERT_TRUE(recreated.ok()) << recreated.status().ToString();
  EXPECT_EQ(recreated->oldest_version_kept, 2);
  EXPECT_EQ(recreated->files_deleted, 2);  // 0..1.json
  EXPECT_FALSE(fs::exists(log_ / LogName(0, ".json")));
  EXPECT_TRUE(fs::exists(log_ / LogName(2, ".json")));
}

TEST_F(LogCleanupTest, LogStartingAtACheckpointWithoutItsCommitLoads) {
  WriteTable(5);
  ASSERT_TRUE(CleanUpExpiredLogs(root_, LatestMetadata(), NowMillis() + 7 * kDayMs).ok());
  // Other writers may have removed the commit at the checkpoint too: the log then starts
  // at a bare checkpoint, which still reconstructs versions 4 and 5.
  ASSERT_TRUE(fs::remove(log_ / LogName(4, ".json")));
  auto at_checkpoint = Load(4);
  ASSERT_NE(at_checkpoint, nullptr);
  EXPECT_EQ(Rows(*at_checkpoint), "1,2,3,4");
  auto latest = Load();
  ASSERT_NE(latest, nullptr);
  EXPECT_EQ(latest->version(), 5);
  EXPECT_EQ(Rows(*latest), "1,2,3,4,5");
}

TEST_F(LogCleanupTest, NothingDeletedBeforeRetention) {
  WriteTable(5);
  const auto names = LogNames();
  auto result = CleanUpExpiredLogs(root_, LatestMetadata(), NowMillis());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->files_deleted, 0);
  EXPECT_FALSE(result->oldest_version_kept.has_value());
  EXPECT_EQ(LogNames(), names);

  // Commits 0..1 expired, but no checkpoint at or below version 1: still nothing.
  Age(1);
  result = CleanUpExpiredLogs(root_, LatestMetadata(), NowMillis());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->files_deleted, 0);
  EXPECT_FALSE(result->oldest_version_kept.has_value());
  EXPECT_EQ(LogNames(), names);
}

TEST_F(LogCleanupTest, ANewerCommitStopsTheCutoff) {
  WriteTable(5);
  // Version 1 is new, 2..5 old (a clock that went backwards): the cutoff commit is 0,
  // before any checkpoint, so nothing goes.
  Age(5);
  fs::last_write_time(log_ / LogName(1, ".json"), fs::file_time_type::clock::now());
  const auto names = LogNames();
  auto result = CleanUpExpiredLogs(root_, LatestMetadata(), NowMillis());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->files_deleted, 0);
  EXPECT_EQ(LogNames(), names);
}

TEST_F(LogCleanupTest, DisabledByTableProperty) {
  WriteTable(5, {{"delta.enableExpiredLogCleanup", "false"}});
  Age(5);
  const auto names = LogNames();
  auto result = CleanUpExpiredLogs(root_, LatestMetadata(), NowMillis() + 7 * kDayMs);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_FALSE(result->enabled);
  EXPECT_EQ(result->files_deleted, 0);
  EXPECT_EQ(LogNames(), names);
  auto info = WriteCheckpointAt(*conn_, root_, 5);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->log_files_deleted, 0);
  EXPECT_FALSE(info->cleanup_error.has_value());
  EXPECT_TRUE(fs::exists(log_ / LogName(0, ".json")));
}

TEST_F(LogCleanupTest, InCommitTimestampsDecideWhenEnabled) {
  WriteTable(5, {{"delta.enableInCommitTimestamps", "true"}});
  // File times say two days old, but the in-commit timestamps are now: nothing expired.
  Age(5);
  auto result = CleanUpExpiredLogs(root_, LatestMetadata(), NowMillis());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->files_deleted, 0);
  // A week later they are.
  result = CleanUpExpiredLogs(root_, LatestMetadata(), NowMillis() + 7 * kDayMs);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->oldest_version_kept, 4);
  EXPECT_EQ(result->files_deleted, 5);
  auto latest = Load();
  ASSERT_NE(latest, nullptr);
  EXPECT_EQ(Rows(*latest), "1,2,3,4,5");
}

TEST_F(LogCleanupTest, CheckpointRunsTheCleanup) {
  WriteTable(7);
  Age(6);
  // Checkpointing version 7 cleans up to the newest expired checkpoint (6).
  auto info = WriteCheckpointAt(*conn_, root_, 7);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_FALSE(info->cleanup_error.has_value()) << *info->cleanup_error;
  EXPECT_EQ(info->log_files_deleted, 8);  // 0..5.json, checkpoints 2 and 4
  EXPECT_EQ(info->log_oldest_version_kept, 6);
  EXPECT_FALSE(fs::exists(log_ / LogName(5, ".json")));
  EXPECT_TRUE(fs::exists(log_ / LogName(6, ".json")));
  EXPECT_TRUE(fs::exists(log_ / LogName(6, ".checkpoint.parquet")));
  EXPECT_TRUE(fs::exists(log_ / LogName(7, ".checkpoint.parquet")));
  auto latest = Load();
  ASSERT_NE(latest, nullptr);
  EXPECT_EQ(Rows(*latest), "1,2,3,4,5,6,7");
}

TEST_F(LogCleanupTest, WritesCheckpointAndCleanUpAsTheyGo) {
  // Zero retention: every auto checkpoint of the writer (Append) deletes the whole log
  // before it, the way a pipeline table with a short retention behaves.
  WriteTable(6, {{"delta.logRetentionDuration", "interval 0 seconds"}});
  EXPECT_EQ(LogNames(),
            (std::set<std::string>{LogName(6, ".json"), LogName(6, ".checkpoint.parquet"),
                                   "_last_checkpoint"}));
  auto v7 = Append(*conn_, root_, "SELECT 7 AS id");
  ASSERT_TRUE(v7.ok()) << v7.status().ToString();
  auto latest = Load();
  ASSERT_NE(latest, nullptr);
  EXPECT_EQ(latest->version(), 7);
  EXPECT_EQ(latest->GetAppTransactionVersion("app"), 60);
  EXPECT_EQ(Rows(*latest), "1,2,3,4,5,6,7");
}

TEST_F(LogCleanupTest, CleanupErrorDoesNotFailTheCheckpoint) {
  WriteTable(3, {{"delta.logRetentionDuration", "interval forever"}});
  Age(3);
  auto info = WriteCheckpointAt(*conn_, root_, 3);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(fs::exists(log_ / LogName(3, ".checkpoint.parquet")));
  ASSERT_TRUE(info->cleanup_error.has_value());
  EXPECT_NE(info->cleanup_error->find("delta.logRetentionDuration"), std::string::npos)
      << *info->cleanup_error;
  EXPECT_EQ(info->log_files_deleted, 0);
  EXPECT_TRUE(fs::exists(log_ / LogName(0, ".json")));
}

TEST_F(LogCleanupTest, NotATable) {
  auto result = CleanUpExpiredLogs(dir_.path() / "missing", Metadata{}, NowMillis());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace tributary::lake::delta

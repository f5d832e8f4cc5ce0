#include "lake/delta/commit.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace tributary::lake::delta {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<Action> ReadActions(const fs::path& root, int64_t version) {
  auto parsed = ParseCommitText(ReadFile(CommitFilePath(root, version)));
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.status().ToString());
  return parsed.ok() ? *parsed : std::vector<Action>{};
}

CommitRequest AppendRequest(int64_t read_version, const std::string& path) {
  CommitRequest request;
  AddFile add;
  add.path = path;
  add.size = 1;
  add.stats = R"({"numRecords":1})";
  request.actions.emplace_back(add);
  request.commit_info.operation = "WRITE";
  request.commit_info.is_blind_append = true;
  request.read_set.read_version = read_version;
  return request;
}

CommitRequest CreateRequest() {
  CommitRequest request;
  request.actions.emplace_back(Protocol{});
  Metadata metadata;
  metadata.id = "test-table";
  metadata.schema_string = R"({"type":"struct","fields":[]})";
  request.actions.emplace_back(metadata);
  request.commit_info.operation = "CREATE TABLE";
  request.read_set.read_version = -1;
  return request;
}

size_t CountLogFiles(const fs::path& root) {
  size_t count = 0;
  for (const auto& entry : fs::directory_iterator(DeltaLogDir(root))) {
    (void)entry;
    ++count;
  }
  return count;
}

TEST(CommitTest, WriteFileIfAbsentNeverReplaces) {
  testing::TempDir dir;
  fs::path file = dir.path() / "00000000000000000000.json";
  ASSERT_TRUE(WriteFileIfAbsent(file, "first\n").ok());
  Status second = WriteFileIfAbsent(file, "second\n");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(ReadFile(file), "first\n");
  // No temp files are left behind.
  size_t entries = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1u);
}

TEST(CommitTest, WritesCommitInfoFirstWithProvenance) {
  testing::TempDir dir;
  auto created = Commit(dir.path(), CreateRequest());
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->version, 0);
  auto request = AppendRequest(0, "a.parquet");
  request.commit_info.operation_metrics["numFiles"] = "1";
  auto appended = Commit(dir.path(), std::move(request));
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  EXPECT_EQ(appended->version, 1);
  auto actions = ReadActions(dir.path(), 1);
  ASSERT_EQ(actions.size(), 2u);
  const auto* info = std::get_if<CommitInfo>(&actions[0]);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->operation, "WRITE");
  EXPECT_EQ(info->engine_info, "tributary/0.1.0");
  EXPECT_EQ(info->read_version, 0);
  EXPECT_EQ(info->is_blind_append, true);
  EXPECT_EQ(info->operation_metrics.at("numFiles"), "1");
  EXPECT_TRUE(info->timestamp.has_value());
  EXPECT_FALSE(info->in_commit_timestamp.has_value());
  EXPECT_TRUE(std::holds_alternative<AddFile>(actions[1]));
}

TEST(CommitTest, SyncDataFilesSkipsWhatItCannotOwn) {
  testing::TempDir dir;
  // A percent-encoded partition directory, a change data file, a file that is not there
  // and a non-local URI: the existing files and their directories are synced, the rest
  // skipped.
  fs::create_directories(dir.path() / "p=a b");
  std::ofstream(dir.path() / "p=a b" / "f.parquet") << "data";
  fs::create_directories(dir.path() / "_change_data");
  std::ofstream(dir.path() / "_change_data" / "c.parquet") << "cdc";
  std::vector<Action> actions;
  AddFile add;
  add.path = "p=a%20b/f.parquet";
  actions.emplace_back(add);
  add.path = "missing.parquet";
  actions.emplace_back(add);
  add.path = "s3://bucket/table/x.parquet";
  actions.emplace_back(add);
  AddCdcFile cdc;
  cdc.path = "_change_data/c.parquet";
  actions.emplace_back(cdc);
  Status synced = SyncDataFiles(dir.path(), actions);
  EXPECT_TRUE(synced.ok()) << synced.status().ToString();
}

TEST(CommitTest, ACommitWhoseDataCannotBeSyncedIsNotWritten) {
  testing::TempDir dir;
  ASSERT_TRUE(Commit(dir.path(), CreateRequest()).ok());
  // The add's directory is a regular file: the data cannot be made durable, so the log
  // entry naming it must not appear.
  std::ofstream(dir.path() / "plain") << "not a directory";
  auto committed = Commit(dir.path(), AppendRequest(0, "plain/x.parquet"));
  ASSERT_FALSE(committed.ok());
  EXPECT_EQ(committed.status().code(), ErrorCode::kIo);
  EXPECT_NE(committed.status().ToString().find("plain/x.parquet"), std::string::npos)
      << committed.status().ToString();
  EXPECT_EQ(CountLogFiles(dir.path()), 1u);
}

TEST(CommitTest, CreatingAnExistingTableFails) {
  testing::TempDir dir;
  ASSERT_TRUE(Commit(dir.path(), CreateRequest()).ok());
  auto again = Commit(dir.path(), CreateRequest());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), ErrorCode::kAlreadyExists);
}

TEST(CommitTest, InCommitTimestampsAreStrictlyIncreasing) {
  testing::TempDir dir;
  auto create = CreateRequest();
  create.in_commit_timestamps = true;
  ASSERT_TRUE(Commit(dir.path(), std::move(create)).ok());
  int64_t previous = 0;
  for (int64_t version = 1; version <= 5; ++version) {
    auto request = AppendRequest(version - 1, "f" + std::to_string(version) + ".parquet");
    request.in_commit_timestamps = true;
    auto committed = Commit(dir.path(), std::move(request));
    ASSERT_TRUE(committed.ok());
    auto actions = ReadActions(dir.path(), version);
    const auto* info = std::get_if<CommitInfo>(&actions.at(0));
    ASSERT_NE(info, nullptr);
    ASSERT_TRUE(info->in_commit_timestamp.has_value());
    EXPECT_GT(*info->in_commit_timestamp, previous);
    previous = *info->in_commit_timestamp;
    // PROTOCOL.md: inCommitTimestamp is the first field of the first action.
    std::string first_line = ReadFile(CommitFilePath(dir.path(), version));
    EXPECT_EQ(first_line.rfind(R"({"commitInfo":{"inCommitTimestamp":)", 0), 0u) << first_line;
  }
}

TEST(CommitTest, LostRaceWithConflictFailsAndLeavesNoCommit) {
  testing::TempDir dir;
  ASSERT_TRUE(Commit(dir.path(), CreateRequest()).ok());
  ASSERT_TRUE(Commit(dir.path(), AppendRequest(0, "victim.parquet")).ok());
  // Both transactions read version 1 and delete victim.parquet.
  auto make_delete = [](const std::string& added) {
    CommitRequest request;
    RemoveFile remove;
    remove.path = "victim.parquet";
    request.actions.emplace_back(remove);
    AddFile add;
    add.path = added;
    request.actions.emplace_back(add);
    request.commit_info.operation = "DELETE";
    request.commit_info.is_blind_append = false;
    request.read_set.read_version = 1;
    request.read_set.scope = ReadSet::Scope::kAll;
    request.read_set.read_files = {"victim.parquet"};
    return request;
  };
  ASSERT_TRUE(Commit(dir.path(), make_delete("winner.parquet")).ok());
  size_t before = CountLogFiles(dir.path());
  auto loser = Commit(dir.path(), make_delete("loser.parquet"));
  ASSERT_FALSE(loser.ok());
  EXPECT_EQ(loser.status().code(), ErrorCode::kConflict);
  EXPECT_NE(loser.status().message().find("commit 2"), std::string::npos)
      << loser.status().ToString();
  EXPECT_FALSE(fs::exists(CommitFilePath(dir.path(), 3)));
  EXPECT_EQ(CountLogFiles(dir.path()), before);
}

TEST(CommitTest, ConcurrentThreadsAppendingAllSucceed) {
  testing::TempDir dir;
  ASSERT_TRUE(Commit(dir.path(), CreateRequest()).ok());
  constexpr int kThreads = 4;
  constexpr int kCommits = 15;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCommits; ++i) {
        // Every writer read version 0: all later commits are lost races to retry past.
        auto result = Commit(dir.path(), AppendRequest(0, fmt::format("t{}-{}.parquet", t, i)));
        if (!result.ok()) {
          ++failures[static_cast<size_t>(t)];
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(failures[static_cast<size_t>(t)], 0);
  }
  std::set<std::string> paths;
  for (int64_t version = 1; version <= kThreads * kCommits; ++version) {
    for (const auto& action : ReadActions(dir.path(), version)) {
      if (const auto* add = std::get_if<AddFile>(&action)) {
        EXPECT_TRUE(paths.insert(add->path).second) << add->path;
      }
    }
  }
  EXPECT_EQ(paths.size(), static_cast<size_t>(kThreads * kCommits));
  EXPECT_FALSE(fs::exists(CommitFilePath(dir.path(), kThreads * kCommits + 1)));
}

TEST(CommitTest, ConcurrentProcessesAppendingAllSucceed) {
  testing::TempDir dir;
  ASSERT_TRUE(Commit(dir.path(), CreateRequest()).ok());
  constexpr int kCommits = 25;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int failures = 0;
    for (int i = 0; i < kCommits; ++i) {
      auto result = Commit(dir.path(), AppendRequest(0, fmt::format("child-{}.parquet", i)));
      failures += result.ok() ? 0 : 1;
    }
    _exit(failures == 0 ? 0 : 1);
  }
  int failures = 0;
  for (int i = 0; i < kCommits; ++i) {
    auto result = Commit(dir.path(), AppendRequest(0, fmt::format("parent-{}.parquet", i)));
    failures += result.ok() ? 0 : 1;
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(failures, 0);
  int adds = 0;
  for (int64_t version = 1; version <= 2 * kCommits; ++version) {
    for (const auto& action : ReadActions(dir.path(), version)) {
      adds += std::holds_alternative<AddFile>(action) ? 1 : 0;
    }
  }
  EXPECT_EQ(adds, 2 * kCommits);
  EXPECT_FALSE(fs::exists(CommitFilePath(dir.path(), 2 * kCommits + 1)));
}

}  // namespace
}  // namespace tributary::lake::delta

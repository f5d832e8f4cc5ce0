#include "lake/delta/conflict.h"

#include <gtest/gtest.h>

namespace tributary::lake::delta {
namespace {

AddFile Add(std::string path, PartitionValues values = {}, bool data_change = true) {
  AddFile add;
  add.path = std::move(path);
  add.partition_values = std::move(values);
  add.size = 10;
  add.data_change = data_change;
  return add;
}

RemoveFile Remove(std::string path, bool data_change = true) {
  RemoveFile remove;
  remove.path = std::move(path);
  remove.data_change = data_change;
  return remove;
}

CommitInfo Info(bool blind_append) {
  CommitInfo info;
  info.operation = blind_append ? "WRITE" : "MERGE";
  info.is_blind_append = blind_append;
  return info;
}

TEST(ConflictTest, BlindAppendsDoNotConflict) {
  ReadSet read_set;
  read_set.read_version = 3;
  auto txn = SummarizeTransaction({Add("mine.parquet")}, read_set);
  EXPECT_TRUE(CheckConflict(txn, 4, {Info(true), Add("theirs.parquet")}).ok());
  // Even a non-blind winner's adds are fine when this transaction read nothing.
  EXPECT_TRUE(CheckConflict(txn, 4, {Info(false), Add("theirs.parquet")}).ok());
}

TEST(ConflictTest, ProtocolAndMetadataChangesConflict) {
  ReadSet read_set;
  read_set.read_version = 3;
  auto txn = SummarizeTransaction({Add("mine.parquet")}, read_set);
  Status protocol = CheckConflict(txn, 4, {Info(false), Protocol{}});
  ASSERT_FALSE(protocol.ok());
  EXPECT_EQ(protocol.status().code(), ErrorCode::kConflict);
  EXPECT_NE(protocol.status().message().find("commit 4"), std::string::npos);
  EXPECT_NE(protocol.status().message().find("protocol"), std::string::npos);
  Status metadata = CheckConflict(txn, 5, {Info(false), Metadata{}});
  ASSERT_FALSE(metadata.ok());
  EXPECT_NE(metadata.status().message().find("metadata"), std::string::npos);
}

TEST(ConflictTest, AddsInReadScopeConflictUnlessBlindAppend) {
  ReadSet read_set;
  read_set.read_version = 1;
  read_set.scope = ReadSet::Scope::kAll;
  auto txn = SummarizeTransaction({Remove("a.parquet"), Add("b.parquet")}, read_set);
  Status status = CheckConflict(txn, 2, {Info(false), Add("c.parquet")});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.status().code(), ErrorCode::kConflict);
  EXPECT_NE(status.status().message().find("c.parquet"), std::string::npos);
  // WriteSerializable: concurrent blind appends never conflict.
  EXPECT_TRUE(CheckConflict(txn, 2, {Info(true), Add("c.parquet")}).ok());
  // Compaction output (dataChange=false) does not conflict either.
  EXPECT_TRUE(CheckConflict(txn, 2, {Info(false), Add("d.parquet", {}, false)}).ok());
}

TEST(ConflictTest, PartitionScopedReadsOnlyConflictInTheirPartitions) {
  ReadSet read_set;
  read_set.read_version = 1;
  read_set.scope = ReadSet::Scope::kPartitions;
  read_set.partitions.push_back({{"day", "2024-01-01"}});
  auto txn = SummarizeTransaction({Add("x.parquet")}, read_set);
  EXPECT_TRUE(
      CheckConflict(txn, 2, {Info(false), Add("o.parquet", {{"day", "2024-01-02"}})}).ok());
  EXPECT_FALSE(
      CheckConflict(txn, 2, {Info(false), Add("o.parquet", {{"day", "2024-01-01"}})}).ok());
  EXPECT_TRUE(
      CheckConflict(txn, 2, {Info(false), Add("n.parquet", {{"day", std::nullopt}})}).ok());
}

TEST(ConflictTest, RemovedFilesConflictWithReadAndRemovedFiles) {
  ReadSet read_set;
  read_set.read_version = 7;
  read_set.read_files = {"read.parquet"};
  auto txn = SummarizeTransaction({Remove("gone.parquet"), Add("new.parquet")}, read_set);
  Status read = CheckConflict(txn, 8, {Info(false), Remove("read.parquet")});
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("ConcurrentDeleteRead"), std::string::npos);
  Status both = CheckConflict(txn, 8, {Info(false), Remove("gone.parquet", false)});
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.status().message().find("ConcurrentDeleteDelete"), std::string::npos);
  EXPECT_TRUE(CheckConflict(txn, 8, {Info(false), Remove("other.parquet")}).ok());
}

TEST(ConflictTest, SameAppIdConflicts) {
  ReadSet read_set;
  read_set.read_version = 2;
  SetTransaction mine;
  mine.app_id = "silver:pg";
  mine.version = 100;
  auto txn = SummarizeTransaction({mine, Add("a.parquet")}, read_set);
  SetTransaction theirs = mine;
  theirs.version = 99;
  Status status = CheckConflict(txn, 3, {Info(true), theirs, Add("b.parquet")});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.status().message().find("silver:pg"), std::string::npos);
  SetTransaction other;
  other.app_id = "bronze:pg";
  EXPECT_TRUE(CheckConflict(txn, 3, {Info(true), other, Add("b.parquet")}).ok());
}

TEST(ConflictTest, MetadataChangingTransactionConflictsWithAnyDataChange) {
  ReadSet read_set;
  read_set.read_version = 2;
  auto txn = SummarizeTransaction({Metadata{}}, read_set);
  EXPECT_FALSE(CheckConflict(txn, 3, {Info(true), Add("b.parquet")}).ok());
  EXPECT_TRUE(CheckConflict(txn, 3, {Info(true)}).ok());
}

}  // namespace
}  // namespace tributary::lake::delta

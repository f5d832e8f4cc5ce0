// Writes to tables with delta.enableChangeDataFeed=true (PROTOCOL.md "Change Data
// Files", "Add CDC File"): copy-on-write deletes and merges write `_change_data` files
// with a `_change_type` column and `cdc` actions; the change data feed reader returns
// exactly the changed rows, not the rows copied unchanged.

#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "lake/delta/cdf.h"
#include "lake/delta/commit.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/writer.h"
#include "sql/database.h"
#include "testing/temp_dir.h"

namespace tributary::lake::delta {
namespace {

namespace fs = std::filesystem;

StructField Field(const std::string& name, TypeKind kind) {
  StructField field;
  field.name = name;
  field.type = DataType::Primitive(kind);
  return field;
}

class CdfWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conn = sql::Database::OpenInMemoryConnection();
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(*conn);
    root_ = dir_.path() / "table";
  }

  // A table (id long, v string[, p string partition]) with CDF enabled by a metaData
  // commit, as Spark's ALTER TABLE SET TBLPROPERTIES does (writer version 4).
  void CreateCdfTable(bool partitioned) {
    CreateTableOptions create;
    create.schema.fields = {Field("id", TypeKind::kLong), Field("v", TypeKind::kString)};
    if (partitioned) {
      create.schema.fields.push_back(Field("p", TypeKind::kString));
      create.partition_columns = {"p"};
    }
    ASSERT_TRUE(CreateTable(root_, create).ok());
    auto snapshot = Snapshot::LoadLatest(root_);
    ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
    Metadata metadata = (*snapshot)->metadata();
    metadata.configuration["delta.enableChangeDataFeed"] = "true";
    Protocol protocol;
    protocol.min_reader_version = 1;
    protocol.min_writer_version = 4;
    CommitRequest request;
    request.actions.emplace_back(protocol);
    request.actions.emplace_back(metadata);
    request.commit_info.operation = "SET TBLPROPERTIES";
    request.read_set.read_version = (*snapshot)->version();
    request.read_set.scope = ReadSet::Scope::kAll;
    auto committed = Commit(root_, request);
    ASSERT_TRUE(committed.ok()) << committed.status().ToString();
    auto appended = Append(
        *conn_, root_,
        partitioned ? "SELECT i AS id, 'v' || i AS v, CASE WHEN i < 5 THEN 'a' ELSE "
                      "'b' END AS p FROM range(10) t(i)"
                    : "SELECT i AS id, 'v' || i AS v FROM range(10) t(i)");
    ASSERT_TRUE(appended.ok()) << appended.status().ToString();
    append_version_ = appended->version;
  }

  // The change data feed of versions after the append: id|v|_change_type|_commit_version.
  std::string Changes() {
    ChangeFeedOptions options;
    options.start_version = append_version_ + 1;
    auto query = BuildChangeFeedQuery(root_, *conn_, options);
    EXPECT_TRUE(query.ok()) << query.status().ToString();
    if (!query.ok()) {
      return "";
    }
    auto result = conn_->Query(fmt::format(
        "SELECT id, v, _change_type, _commit_version FROM ({}) ORDER BY _commit_version, "
        "id, _change_type",
        *query));
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    std::string out;
    for (size_t row = 0; result.ok() && row < result->row_count(); ++row) {
      out += fmt::format("{}|{}|{}|{}\n", result->GetString(0, row),
                         result->GetOptionalString(1, row).value_or("NULL"),
                         result->GetString(2, row), result->GetInt64(3, row));
    }
    return out;
  }

  testing::TempDir dir_;
  fs::path root_;
  std::unique_ptr<sql::Connection> conn_;
  int64_t append_version_ = -1;
};

TEST_F(CdfWriteTest, DeleteAndMergeWriteChangeDataFiles) {
  CreateCdfTable(/*partitioned=*/false);
  auto deleted = DeleteWhere(*conn_, root_, "id IN (1, 2)");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  MergeOptions merge;
  merge.key_columns = {"id"};
  merge.delete_flag_column = "del";
  auto merged = Merge(*conn_, root_,
                      "SELECT * FROM (VALUES (3, 'three', false), (4, NULL, true), (20, "
                      "'twenty', false)) t(id, v, del)",
                      merge);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  const int64_t d = deleted->version;
  const int64_t m = merged->version;
  EXPECT_EQ(Changes(),
            fmt::format("1|v1|delete|{0}\n2|v2|delete|{0}\n"
                        "3|three|update_postimage|{1}\n3|v3|update_preimage|{1}\n"
                        "4|v4|delete|{1}\n20|twenty|insert|{1}\n",
                        d, m));
  // The commits carry cdc actions for files under _change_data/.
  auto actions = ReadCommit(root_, m);
  ASSERT_TRUE(actions.ok()) << actions.status().ToString();
  int cdc_files = 0;
  for (const auto& action : *actions) {
    if (const auto* cdc = std::get_if<AddCdcFile>(&action)) {
      ++cdc_files;
      EXPECT_EQ(cdc->path.rfind("_change_data/", 0), 0u) << cdc->path;
      EXPECT_FALSE(cdc->data_change);
      EXPECT_TRUE(fs::exists(root_ / cdc->path));
    }
  }
  EXPECT_EQ(cdc_files, 1);
}

TEST_F(CdfWriteTest, CreateTableWithChangeDataFeedUsesWriterVersion4) {
  CreateTableOptions create;
  create.schema.fields = {Field("id", TypeKind::kLong)};
  create.properties["delta.enableChangeDataFeed"] = "true";
  ASSERT_TRUE(CreateTable(root_, create).ok());
  auto snapshot = Snapshot::LoadLatest(root_);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  EXPECT_EQ((*snapshot)->protocol().min_reader_version, 1);
  EXPECT_EQ((*snapshot)->protocol().min_writer_version, 4);
  ASSERT_TRUE(Append(*conn_, root_, "SELECT i AS id FROM range(3) t(i)").ok());
  auto deleted = DeleteWhere(*conn_, root_, "id = 1");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  auto actions = ReadCommit(root_, deleted->version);
  ASSERT_TRUE(actions.ok());
  int cdc_files = 0;
  for (const auto& action : *actions) {
    cdc_files += std::holds_alternative<AddCdcFile>(action) ? 1 : 0;
  }
  EXPECT_EQ(cdc_files, 1);
  create.properties["delta.enableDeletionVectors"] = "true";
  auto refused = CreateTable(dir_.path() / "both", create);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kUnsupported);
}

TEST_F(CdfWriteTest, PartitionedChangeFilesCarryPartitionValues) {
  CreateCdfTable(/*partitioned=*/true);
  auto deleted = DeleteWhere(*conn_, root_, "id IN (1, 7)");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(Changes(),
            fmt::format("1|v1|delete|{0}\n7|v7|delete|{0}\n", deleted->version));
  auto actions = ReadCommit(root_, deleted->version);
  ASSERT_TRUE(actions.ok());
  int cdc_files = 0;
  for (const auto& action : *actions) {
    if (const auto* cdc = std::get_if<AddCdcFile>(&action)) {
      ++cdc_files;
      EXPECT_EQ(cdc->partition_values.count("p"), 1u);
      EXPECT_NE(cdc->path.find("p="), std::string::npos) << cdc->path;
    }
  }
  EXPECT_EQ(cdc_files, 2);
}

TEST_F(CdfWriteTest, DeletionVectorTablesWithChangeDataFeedStillRefuseRemoves) {
  CreateTableOptions create;
  create.schema.fields = {Field("id", TypeKind::kLong)};
  create.properties["delta.enableDeletionVectors"] = "true";
  ASSERT_TRUE(CreateTable(root_, create).ok());
  auto snapshot = Snapshot::LoadLatest(root_);
  ASSERT_TRUE(snapshot.ok());
  Metadata metadata = (*snapshot)->metadata();
  metadata.configuration["delta.enableChangeDataFeed"] = "true";
  Protocol protocol = (*snapshot)->protocol();
  protocol.writer_features->push_back("changeDataFeed");
  CommitRequest request;
  request.actions.emplace_back(protocol);
  request.actions.emplace_back(metadata);
  request.read_set.read_version = 0;
  ASSERT_TRUE(Commit(root_, request).ok());
  ASSERT_TRUE(Append(*conn_, root_, "SELECT 1 AS id").ok());
  auto deleted = DeleteWhere(*conn_, root_, "id = 1");
  ASSERT_FALSE(deleted.ok());
  EXPECT_EQ(deleted.status().code(), ErrorCode::kUnsupported);
}

}  // namespace
}  // namespace tributary::lake::delta

#include "lake/delta/writer.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lake/delta/commit.h"
#include "lake/delta/scan.h"
#include "lake/delta/snapshot.h"
#include "sql/database.h"
#include "testing/temp_dir.h"

namespace tributary::lake::delta {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

StructType Schema(std::vector<std::pair<std::string, DataType>> columns) {
  StructType schema;
  for (auto& [name, type] : columns) {
    StructField field;
    field.name = name;
    field.type = type;
    schema.fields.push_back(field);
  }
  return schema;
}

StructType PeopleSchema() {
  return Schema({{"id", DataType::Primitive(TypeKind::kLong)},
                 {"name", DataType::Primitive(TypeKind::kString)},
                 {"amount", DataType::Decimal(10, 2)},
                 {"born", DataType::Primitive(TypeKind::kDate)},
                 {"seen", DataType::Primitive(TypeKind::kTimestamp)}});
}

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conn = sql::Database::OpenInMemoryConnection();
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(*conn);
    root_ = dir_.path() / "table";
  }

  std::shared_ptr<const Snapshot> Latest() {
    SnapshotOptions options;
    options.connection = conn_.get();
    auto snapshot = Snapshot::Load(root_, options);
    EXPECT_TRUE(snapshot.ok()) << snapshot.status().ToString();
    return snapshot.ok() ? *snapshot : nullptr;
  }

  // The live Parquet files read directly by DuckDB (partition columns from Hive paths).
  std::string LiveFilesQuery(const Snapshot& snapshot) {
    std::string list;
    for (const auto& add : snapshot.files()) {
      auto path = snapshot.ResolvePath(add.path);
      EXPECT_TRUE(path.ok());
      list += (list.empty() ? "" : ", ") + sql::QuoteLiteral(path->string());
    }
    return "read_parquet([" + list + "], hive_partitioning = " +
           (snapshot.partition_columns().empty() ? "false" : "true") + ")";
  }

  std::string QueryText(const std::string& query) {
    auto result = conn_->Query(query);
    EXPECT_TRUE(result.ok()) << result.status().ToString() << "\n" << query;
    if (!result.ok()) {
      return "";
    }
    std::string out;
    for (size_t row = 0; row < result->row_count(); ++row) {
      for (size_t column = 0; column < result->column_count(); ++column) {
        out += (column == 0 ? "" : "|") +
               result->GetOptionalString(column, row).value_or("NULL");
      }
      out += "\n";
    }
    return out;
  }

  testing::TempDir dir_;
  fs::path root_;
  std::unique_ptr<sql::Connection> conn_;
};

TEST_F(WriterTest, CreateAppendAndReadBack) {
  CreateTableOptions create;
  create.schema = PeopleSchema();
  auto version = CreateTable(root_, create);
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(*version, 0);

  WriteOptions options;
  options.txn = SetTransaction{"silver:test", 42, std::nullopt};
  auto written = Append(*conn_, root_,
                        "SELECT i AS id, 'name-' || i AS name, (i * 1.25)::DECIMAL(10,2) AS "
                        "amount, DATE '2000-01-01' + i::INTEGER AS born, TIMESTAMPTZ "
                        "'2024-05-01 10:00:00+00' + INTERVAL (i) SECOND AS seen FROM range(1000) "
                        "t(i)",
                        options);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(written->version, 1);
  EXPECT_EQ(written->rows_written, 1000);
  EXPECT_EQ(written->files_added, 1);

  auto snapshot = Latest();
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->protocol().min_reader_version, 1);
  EXPECT_EQ(snapshot->protocol().min_writer_version, 2);
  EXPECT_EQ(snapshot->GetAppTransactionVersion("silver:test"), 42);
  auto txn_version = ReadAppTransactionVersion(root_, "silver:test");
  ASSERT_TRUE(txn_version.ok());
  EXPECT_EQ(*txn_version, 42);
  ASSERT_EQ(snapshot->files().size(), 1u);
  const AddFile& add = snapshot->files()[0];
  EXPECT_TRUE(add.data_change);
  EXPECT_NE(add.path.find("part-00000-"), std::string::npos);
  EXPECT_NE(add.path.find("-c000.snappy.parquet"), std::string::npos);
  json stats = json::parse(add.stats);
  EXPECT_EQ(stats["numRecords"], 1000);
  EXPECT_EQ(stats["minValues"]["id"], 0);
  EXPECT_EQ(stats["maxValues"]["id"], 999);
  EXPECT_EQ(stats["minValues"]["name"], "name-0");
  EXPECT_EQ(stats["maxValues"]["name"], "name-999");
  EXPECT_DOUBLE_EQ(stats["maxValues"]["amount"].get<double>(), 1248.75);
  EXPECT_EQ(stats["minValues"]["born"], "2000-01-01");
  EXPECT_EQ(stats["minValues"]["seen"], "2024-05-01T10:00:00.000Z");
  EXPECT_EQ(stats["maxValues"]["seen"], "2024-05-01T10:16:39.000Z");
  EXPECT_EQ(stats["nullCount"]["id"], 0);

  // commitInfo carries provenance and metrics.
  auto actions = ReadCommit(root_, 1);
  ASSERT_TRUE(actions.ok());
  const auto* info = std::get_if<CommitInfo>(&actions->at(0));
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->operation, "WRITE");
  EXPECT_EQ(info->operation_parameters.at("mode"), "Append");
  EXPECT_EQ(info->operation_metrics.at("numOutputRows"), "1000");
  EXPECT_EQ(info->operation_metrics.at("numFiles"), "1");
  EXPECT_EQ(info->engine_info, "tributary/0.1.0");

  // DuckDB reading the live files directly sees exactly the input rows.
  EXPECT_EQ(QueryText("SELECT count(*), sum(id), min(name), max(amount), max(born) FROM " +
                      LiveFilesQuery(*snapshot)),
            "1000|499500|name-0|1248.75|2002-09-26\n");
}

TEST_F(WriterTest, ReadsBackIdenticallyThroughSnapshotScan) {
  CreateTableOptions create;
  create.schema = Schema({{"id", DataType::Primitive(TypeKind::kLong)},
                          {"small", DataType::Primitive(TypeKind::kShort)},
                          {"price", DataType::Decimal(38, 6)},
                          {"ratio", DataType::Primitive(TypeKind::kDouble)},
                          {"flag", DataType::Primitive(TypeKind::kBoolean)},
                          {"raw", DataType::Primitive(TypeKind::kBinary)},
                          {"tags", DataType::Array(DataType::Primitive(TypeKind::kString))},
                          {"at", DataType::Primitive(TypeKind::kTimestamp)},
                          {"day", DataType::Primitive(TypeKind::kDate)},
                          {"hour", DataType::Primitive(TypeKind::kTimestamp)}});
  create.partition_columns = {"day", "hour"};
  ASSERT_TRUE(CreateTable(root_, create).ok());
  ASSERT_TRUE(conn_->Execute(
      "CREATE TABLE source AS SELECT i AS id, (i % 100)::SMALLINT AS small, "
      "(i * 1000000.123456)::DECIMAL(38,6) AS price, CASE WHEN i % 7 = 0 THEN NULL ELSE i / "
      "3.0 END AS ratio, i % 2 = 0 AS flag, ('\\x01\\x02' || i::VARCHAR)::BLOB AS raw, "
      "['t' || i, NULL] AS tags, TIMESTAMPTZ '2024-03-10 01:59:59.123456+00' + "
      "INTERVAL (i) MINUTE AS at, CASE WHEN i % 5 = 0 THEN NULL ELSE DATE '2024-01-01' + "
      "(i % 3)::INTEGER END AS day, TIMESTAMPTZ '2024-01-01 00:00:00+00' + INTERVAL (i % 2) "
      "HOUR AS hour FROM range(500) t(i)").ok());
  WriteOptions options;
  options.max_rows_per_file = 40;
  options.parquet.compression = "zstd";
  auto written = Append(*conn_, root_, "SELECT * FROM source", options);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_GE(written->files_added, 8);  // 8 partitions
  auto snapshot = Latest();
  ASSERT_NE(snapshot, nullptr);
  for (const auto& add : snapshot->files()) {
    EXPECT_NE(add.path.find(".zstd.parquet"), std::string::npos);
  }
  auto scan = BuildScanQuery(*snapshot, *conn_);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(QueryText("SELECT count(*) FROM (" + *scan + ")"), "500\n");
  EXPECT_EQ(QueryText("SELECT count(*) FROM ((" + *scan +
                      ") EXCEPT ALL SELECT * FROM source)"),
            "0\n");
  EXPECT_EQ(QueryText("SELECT count(*) FROM (SELECT * FROM source EXCEPT ALL (" + *scan +
                      "))"),
            "0\n");
}

TEST_F(WriterTest, PartitionedTableEscapesPathsAndSerializesValues) {
  CreateTableOptions create;
  create.schema = Schema({{"id", DataType::Primitive(TypeKind::kInteger)},
                          {"region", DataType::Primitive(TypeKind::kString)},
                          {"day", DataType::Primitive(TypeKind::kDate)}});
  create.partition_columns = {"region", "day"};
  ASSERT_TRUE(CreateTable(root_, create).ok());
  auto written = Append(*conn_, root_,
                        "SELECT * FROM (VALUES (1, 'a b/c:d', DATE '2024-01-02'), (2, "
                        "'a b/c:d', DATE '2024-01-02'), (3, NULL, DATE '2024-01-03'), (4, "
                        "'x%y', NULL)) t(id, region, day)");
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(written->files_added, 3);
  auto snapshot = Latest();
  ASSERT_NE(snapshot, nullptr);
  ASSERT_EQ(snapshot->files().size(), 3u);
  bool saw_escaped = false;
  for (const auto& add : snapshot->files()) {
    auto path = snapshot->ResolvePath(add.path);
    ASSERT_TRUE(path.ok());
    EXPECT_TRUE(fs::exists(*path)) << path->string();
    auto region = snapshot->PartitionValue(add, "region");
    if (region == "a b/c:d") {
      saw_escaped = true;
      // Hive escaping in the directory, percent-encoding of that in the URI.
      EXPECT_EQ(add.path.rfind("region=a%20b%252Fc%253Ad/day=2024-01-02/part-", 0), 0u)
          << add.path;
      EXPECT_EQ(snapshot->PartitionValue(add, "day"), "2024-01-02");
    }
    if (!region) {
      EXPECT_EQ(add.path.rfind("region=__HIVE_DEFAULT_PARTITION__/", 0), 0u) << add.path;
    }
    // Data files do not contain partition columns.
    EXPECT_EQ(QueryText("SELECT count(*) FROM (DESCRIBE SELECT * FROM read_parquet(" +
                        sql::QuoteLiteral(path->string()) + ", hive_partitioning = false))"),
              "1\n");
  }
  EXPECT_TRUE(saw_escaped);
}

TEST_F(WriterTest, SchemaMismatchNamesTableColumnAndTypesAndCommitsNothing) {
  CreateTableOptions create;
  create.schema = PeopleSchema();
  ASSERT_TRUE(CreateTable(root_, create).ok());
  auto wrong_type = Append(*conn_, root_, "SELECT 'one' AS id");
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.status().code(), ErrorCode::kInvalidArgument);
  const std::string& message = wrong_type.status().message();
  EXPECT_NE(message.find(root_.string()), std::string::npos) << message;
  EXPECT_NE(message.find("'id'"), std::string::npos) << message;
  EXPECT_NE(message.find("VARCHAR"), std::string::npos) << message;
  EXPECT_NE(message.find("long"), std::string::npos) << message;
  auto extra = Append(*conn_, root_, "SELECT 1 AS id, 2 AS bogus");
  ASSERT_FALSE(extra.ok());
  EXPECT_NE(extra.status().message().find("'bogus'"), std::string::npos);
  auto latest = LatestCommitVersion(root_);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(*latest, 0);
  // Missing nullable columns are nulls; narrower integers widen.
  auto narrow = Append(*conn_, root_, "SELECT 7::INTEGER AS ID");
  ASSERT_TRUE(narrow.ok()) << narrow.status().ToString();
  auto snapshot = Latest();
  EXPECT_EQ(QueryText("SELECT id, name FROM " + LiveFilesQuery(*snapshot)), "7|NULL\n");
}

TEST_F(WriterTest, MergeRewritesOnlyFilesWithMatchedKeys) {
  CreateTableOptions create;
  create.schema = Schema({{"id", DataType::Primitive(TypeKind::kLong)},
                          {"v", DataType::Primitive(TypeKind::kString)}});
  ASSERT_TRUE(CreateTable(root_, create).ok());
  // Ten files of 100 keys each: [0,100), [100,200), ...
  for (int file = 0; file < 10; ++file) {
    auto written = Append(*conn_, root_,
                          fmt::format("SELECT i AS id, 'v' || i AS v FROM range({}, {}) t(i)",
                                      file * 100, file * 100 + 100));
    ASSERT_TRUE(written.ok()) << written.status().ToString();
  }
  MergeOptions merge;
  merge.key_columns = {"id"};
  merge.delete_flag_column = "deleted";
  merge.write.txn = SetTransaction{"silver:merge", 7, std::nullopt};
  auto merged = Merge(*conn_, root_,
                      "SELECT * FROM (VALUES (150, 'updated', false), (160, NULL, true), "
                      "(5000, 'inserted', false), (6000, 'ghost', true)) t(id, v, deleted)",
                      merge);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(merged->files_removed, 1);
  EXPECT_EQ(merged->rows_updated, 1);
  EXPECT_EQ(merged->rows_deleted, 1);
  EXPECT_EQ(merged->rows_inserted, 1);
  EXPECT_EQ(merged->rows_copied, 98);
  auto snapshot = Latest();
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->GetAppTransactionVersion("silver:merge"), 7);
  EXPECT_EQ(snapshot->files().size(), 10u);
  EXPECT_EQ(QueryText("SELECT count(*), count(DISTINCT id) FROM " + LiveFilesQuery(*snapshot)),
            "1000|1000\n");
  EXPECT_EQ(QueryText("SELECT id, v FROM " + LiveFilesQuery(*snapshot) +
                      " WHERE id IN (150, 160, 5000, 6000, 151) ORDER BY id"),
            "150|updated\n151|v151\n5000|inserted\n");
  // The merge commit removed exactly one file and added its replacement in one commit.
  auto actions = ReadCommit(root_, snapshot->version());
  ASSERT_TRUE(actions.ok());
  int removes = 0;
  int adds = 0;
  for (const auto& action : *actions) {
    removes += std::holds_alternative<RemoveFile>(action) ? 1 : 0;
    adds += std::holds_alternative<AddFile>(action) ? 1 : 0;
  }
  EXPECT_EQ(removes, 1);
  EXPECT_EQ(adds, 1);

  // Duplicate keys in staging are refused.
  auto duplicate = Merge(*conn_, root_,
                         "SELECT * FROM (VALUES (1, 'a', false), (1, 'b', false)) t(id, v, "
                         "deleted)",
                         merge);
  ASSERT_FALSE(duplicate.ok());
  EXPECT_NE(duplicate.status().message().find("id=1"), std::string::npos);
}

// A repeatable staging query is read in place (no staging copy): the same results with an
// integer key (keys compared in C++) and a decimal key (planned in SQL), also when the
// table has change data feed on (the staging rows are read again for the change files).
TEST_F(WriterTest, MergeReadsRepeatableInputInPlace) {
  for (const bool decimal_key : {false, true}) {
    SCOPED_TRACE(decimal_key ? "decimal key" : "integer key");
    const fs::path root = dir_.path() / (decimal_key ? "decimal" : "integer");
    const std::string key_type = decimal_key ? "DECIMAL(12,2)" : "BIGINT";
    CreateTableOptions create;
    create.schema = Schema({{"id", decimal_key ? DataType::Decimal(12, 2)
                                               : DataType::Primitive(TypeKind::kLong)},
                            {"v", DataType::Primitive(TypeKind::kString)}});
    create.properties["delta.enableChangeDataFeed"] = "true";
    ASSERT_TRUE(CreateTable(root, create).ok());
    for (int file = 0; file < 3; ++file) {
      auto written = Append(*conn_, root,
                            fmt::format("SELECT CAST(i AS {}) AS id, 'v' || i AS v FROM "
                                        "range({}, {}) t(i)",
                                        key_type, file * 10, file * 10 + 10));
      ASSERT_TRUE(written.ok()) << written.status().ToString();
    }
    MergeOptions merge;
    merge.key_columns = {"id"};
    merge.delete_flag_column = "deleted";
    merge.write.repeatable_input = true;
    merge.write.input_columns = {{"id", key_type}, {"v", "VARCHAR"}, {"deleted", "BOOLEAN"}};
    merge.write.txn = SetTransaction{"silver:merge", 3, std::nullopt};
    auto merged = Merge(
        *conn_, root,
        fmt::format("SELECT CAST(id AS {}) AS id, v, deleted FROM (VALUES (15, 'updated', "
                    "false), (16, NULL, true), (500, 'inserted', false), (600, 'ghost', "
                    "true)) t(id, v, deleted)",
                    key_type),
        merge);
    ASSERT_TRUE(merged.ok()) << merged.status().ToString();
    EXPECT_EQ(merged->files_removed, 1);
    EXPECT_EQ(merged->rows_updated, 1);
    EXPECT_EQ(merged->rows_deleted, 1);
    EXPECT_EQ(merged->rows_inserted, 1);
    EXPECT_EQ(merged->rows_copied, 8);
    SnapshotOptions options;
    options.connection = conn_.get();
    auto snapshot = Snapshot::Load(root, options);
    ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
    EXPECT_EQ((*snapshot)->GetAppTransactionVersion("silver:merge"), 3);
    EXPECT_EQ(QueryText("SELECT count(*), count(DISTINCT id) FROM " +
                        LiveFilesQuery(**snapshot)),
              "30|30\n");
    EXPECT_EQ(QueryText("SELECT CAST(id AS BIGINT), v FROM " + LiveFilesQuery(**snapshot) +
                        " WHERE id IN (15, 16, 17, 500, 600) ORDER BY id"),
              "15|updated\n17|v17\n500|inserted\n");
    // Change data: the deleted and updated target rows, the new images.
    auto cdc = conn_->Query(fmt::format(
        "SELECT CAST(id AS BIGINT), _change_type FROM read_parquet('{}/_change_data/*.parquet') "
        "ORDER BY 1, 2",
        root.string()));
    ASSERT_TRUE(cdc.ok()) << cdc.status().ToString();
    std::string changes;
    for (size_t row = 0; row < cdc->row_count(); ++row) {
      changes += fmt::format("{} {}; ", cdc->GetInt64(0, row), cdc->GetString(1, row));
    }
    EXPECT_EQ(changes,
              "15 update_postimage; 15 update_preimage; 16 delete; 500 insert; ");
    // Duplicate keys are still refused, naming the key.
    auto duplicate = Merge(*conn_, root,
                           fmt::format("SELECT CAST(1 AS {}) AS id, 'a' AS v, false AS "
                                       "deleted FROM range(2)",
                                       key_type),
                           merge);
    ASSERT_FALSE(duplicate.ok());
    EXPECT_NE(duplicate.status().message().find("id=1"), std::string::npos)
        << duplicate.status().ToString();
  }
}

TEST_F(WriterTest, DeletionVectorsMarkRowsInsteadOfRewritingFiles) {
  CreateTableOptions create;
  create.schema = Schema({{"id", DataType::Primitive(TypeKind::kLong)},
                          {"v", DataType::Primitive(TypeKind::kString)}});
  create.properties["delta.enableDeletionVectors"] = "true";
  ASSERT_TRUE(CreateTable(root_, create).ok());
  ASSERT_TRUE(Append(*conn_, root_, "SELECT i AS id, 'v' || i AS v FROM range(1000) t(i)").ok());
  auto first = Latest();
  ASSERT_NE(first, nullptr);
  EXPECT_TRUE(first->protocol().HasReaderFeature("deletionVectors"));
  EXPECT_TRUE(first->protocol().HasWriterFeature("deletionVectors"));
  const std::string data_path = first->files().at(0).path;

  MergeOptions merge;
  merge.key_columns = {"id"};
  merge.delete_flag_column = "deleted";
  auto merged = Merge(*conn_, root_,
                      "SELECT * FROM (VALUES (10, 'ten', false), (20, NULL, true), (2000, "
                      "'new', false)) t(id, v, deleted)",
                      merge);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(merged->rows_updated, 1);
  EXPECT_EQ(merged->rows_deleted, 1);
  EXPECT_EQ(merged->rows_inserted, 1);
  auto snapshot = Latest();
  ASSERT_NE(snapshot, nullptr);
  ASSERT_EQ(snapshot->files().size(), 2u);
  const AddFile* original = nullptr;
  for (const auto& add : snapshot->files()) {
    if (add.path == data_path) {
      original = &add;
    }
  }
  ASSERT_NE(original, nullptr) << "the data file must be kept, with a deletion vector";
  ASSERT_TRUE(original->deletion_vector.has_value());
  EXPECT_EQ(original->deletion_vector->storage_type, "u");
  EXPECT_EQ(original->deletion_vector->cardinality, 2);
  EXPECT_NE(original->stats.find("\"tightBounds\":false"), std::string::npos);
  auto scan = BuildScanQuery(*snapshot, *conn_);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(QueryText("SELECT count(*), sum(id) FROM (" + *scan + ")"), "1000|501480\n");
  EXPECT_EQ(QueryText("SELECT id, v FROM (" + *scan + ") WHERE id IN (10, 20, 2000) ORDER BY id"),
            "10|ten\n2000|new\n");

  // A second merge and a delete extend the same file's DV (old rows stay deleted).
  ASSERT_TRUE(Merge(*conn_, root_, "SELECT 30 AS id, 'thirty' AS v, false AS deleted", merge).ok());
  auto deleted = DeleteWhere(*conn_, root_, "id < 5");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->rows_deleted, 5);
  snapshot = Latest();
  scan = BuildScanQuery(*snapshot, *conn_);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(QueryText("SELECT count(*), count(DISTINCT id), min(id) FROM (" + *scan + ")"),
            "995|995|5\n");
  EXPECT_EQ(QueryText("SELECT v FROM (" + *scan + ") WHERE id IN (10, 30) ORDER BY id"),
            "ten\nthirty\n");
  for (const auto& add : snapshot->files()) {
    if (add.path == data_path) {
      ASSERT_TRUE(add.deletion_vector.has_value());
      EXPECT_EQ(add.deletion_vector->cardinality, 8);  // 10, 20, 30 and 0..4
    }
  }
}

TEST_F(WriterTest, DeleteWhereAndOverwrite) {
  CreateTableOptions create;
  create.schema = Schema({{"id", DataType::Primitive(TypeKind::kLong)},
                          {"p", DataType::Primitive(TypeKind::kString)}});
  create.partition_columns = {"p"};
  ASSERT_TRUE(CreateTable(root_, create).ok());
  ASSERT_TRUE(Append(*conn_, root_,
                     "SELECT i AS id, CASE WHEN i % 2 = 0 THEN 'even' ELSE 'odd' END AS p "
                     "FROM range(100) t(i)")
                  .ok());
  auto deleted = DeleteWhere(*conn_, root_, "p = 'odd' AND id < 50");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->rows_deleted, 25);
  EXPECT_EQ(deleted->files_removed, 1);
  auto snapshot = Latest();
  EXPECT_EQ(QueryText("SELECT count(*), count(*) FILTER (WHERE p = 'odd') FROM " +
                      LiveFilesQuery(*snapshot)),
            "75|25\n");
  auto nothing = DeleteWhere(*conn_, root_, "id > 1000");
  ASSERT_TRUE(nothing.ok());
  EXPECT_EQ(nothing->version, -1);

  auto overwritten = Overwrite(*conn_, root_, "SELECT 1 AS id, 'one' AS p");
  ASSERT_TRUE(overwritten.ok()) << overwritten.status().ToString();
  EXPECT_EQ(overwritten->files_removed, 2);
  snapshot = Latest();
  EXPECT_EQ(QueryText("SELECT id, p FROM " + LiveFilesQuery(*snapshot)), "1|one\n");
}

TEST_F(WriterTest, TableFeaturesOnlyWhenNeeded) {
  CreateTableOptions create;
  create.schema = Schema({{"id", DataType::Primitive(TypeKind::kLong)},
                          {"at", DataType::Primitive(TypeKind::kTimestampNtz)}});
  create.properties["delta.enableInCommitTimestamps"] = "true";
  ASSERT_TRUE(CreateTable(root_, create).ok());
  ASSERT_TRUE(Append(*conn_, root_, "SELECT 1 AS id, TIMESTAMP '2024-01-01 12:00:00' AS at").ok());
  auto snapshot = Latest();
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->protocol().min_reader_version, 3);
  EXPECT_EQ(snapshot->protocol().min_writer_version, 7);
  EXPECT_TRUE(snapshot->protocol().HasReaderFeature("timestampNtz"));
  EXPECT_TRUE(snapshot->protocol().HasWriterFeature("inCommitTimestamp"));
  auto actions = ReadCommit(root_, 1);
  ASSERT_TRUE(actions.ok());
  const auto* info = std::get_if<CommitInfo>(&actions->at(0));
  ASSERT_NE(info, nullptr);
  EXPECT_TRUE(info->in_commit_timestamp.has_value());
  json stats = json::parse(snapshot->files().at(0).stats);
  EXPECT_EQ(stats["minValues"]["at"], "2024-01-01T12:00:00.000");

  // Change data files are written for copy-on-write changes only (cdf_write_test.cc).
  auto cdf = CreateTable(dir_.path() / "cdf",
                         CreateTableOptions{PeopleSchema(),
                                            {},
                                            {{"delta.enableChangeDataFeed", "true"},
                                             {"delta.enableDeletionVectors", "true"}},
                                            {},
                                            {}});
  ASSERT_FALSE(cdf.ok());
  EXPECT_EQ(cdf.status().code(), ErrorCode::kUnsupported);
}

TEST_F(WriterTest, AppendOnlyTablesRefuseDeletes) {
  CreateTableOptions create;
  create.schema = Schema({{"id", DataType::Primitive(TypeKind::kLong)}});
  create.properties["delta.appendOnly"] = "true";
  ASSERT_TRUE(CreateTable(root_, create).ok());
  ASSERT_TRUE(Append(*conn_, root_, "SELECT 1 AS id").ok());
  auto deleted = DeleteWhere(*conn_, root_, "id = 1");
  ASSERT_FALSE(deleted.ok());
  EXPECT_NE(deleted.status().message().find("append-only"), std::string::npos);
}

TEST_F(WriterTest, ConcurrentAppendsFromThreadsAndProcessesAllCommit) {
  CreateTableOptions create;
  create.schema = Schema({{"id", DataType::Primitive(TypeKind::kLong)},
                          {"writer", DataType::Primitive(TypeKind::kString)}});
  create.properties["delta.checkpointInterval"] = "5";
  ASSERT_TRUE(CreateTable(root_, create).ok());
  constexpr int kAppends = 6;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int failures = 0;
    auto conn = sql::Database::OpenInMemoryConnection();
    if (!conn.ok()) {
      _exit(2);
    }
    for (int i = 0; i < kAppends; ++i) {
      auto result = Append(**conn, root_,
                           fmt::format("SELECT {} AS id, 'process' AS writer", i));
      failures += result.ok() ? 0 : 1;
    }
    _exit(failures == 0 ? 0 : 1);
  }
  auto database = sql::Database::Open();
  ASSERT_TRUE(database.ok());
  std::vector<std::thread> threads;
  std::vector<std::string> errors(2);
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      auto conn = (*database)->Connect();
      if (!conn.ok()) {
        errors[static_cast<size_t>(t)] = conn.status().ToString();
        return;
      }
      for (int i = 0; i < kAppends; ++i) {
        auto result = Append(**conn, root_,
                             fmt::format("SELECT {} AS id, 'thread{}' AS writer", i, t));
        if (!result.ok()) {
          errors[static_cast<size_t>(t)] = result.status().ToString();
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[1], "");
  auto snapshot = Latest();
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->version(), 3 * kAppends);
  EXPECT_EQ(QueryText("SELECT writer, count(*), sum(id) FROM " + LiveFilesQuery(*snapshot) +
                      " GROUP BY writer ORDER BY writer"),
            "process|6|15\nthread0|6|15\nthread1|6|15\n");
}

}  // namespace
}  // namespace tributary::lake::delta

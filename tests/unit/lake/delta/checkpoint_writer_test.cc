#include "lake/delta/checkpoint_writer.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lake/delta/commit.h"
#include "lake/delta/scan.h"
#include "lake/delta/writer.h"
#include "sql/database.h"
#include "testing/temp_dir.h"

namespace tributary::lake::delta {
namespace {

namespace fs = std::filesystem;

class CheckpointWriterTest : public ::testing::Test {
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
    create.properties["delta.checkpointInterval"] = "5";
    ASSERT_TRUE(CreateTable(root_, create).ok());
  }

  std::string Query(const std::string& query) {
    auto result = conn_->Query(query);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    std::string out;
    if (result.ok()) {
      for (size_t row = 0; row < result->row_count(); ++row) {
        for (size_t column = 0; column < result->column_count(); ++column) {
          out += (column == 0 ? "" : "|") +
                 result->GetOptionalString(column, row).value_or("NULL");
        }
        out += "\n";
      }
    }
    return out;
  }

  testing::TempDir dir_;
  fs::path root_;
  std::unique_ptr<sql::Connection> conn_;
};

TEST(CheckpointIntervalTest, ParsesIntervals) {
  EXPECT_EQ(*ParseIntervalMillis("interval 1 week"), 7LL * 24 * 3600 * 1000);
  EXPECT_EQ(*ParseIntervalMillis("interval 168 hours"), 168LL * 3600 * 1000);
  EXPECT_EQ(*ParseIntervalMillis("INTERVAL 2 DAYS"), 2LL * 24 * 3600 * 1000);
  EXPECT_EQ(*ParseIntervalMillis("30 seconds"), 30000);
  EXPECT_FALSE(ParseIntervalMillis("forever").ok());
  Metadata metadata;
  EXPECT_EQ(CheckpointInterval(metadata), 10);
  metadata.configuration["delta.checkpointInterval"] = "3";
  EXPECT_EQ(CheckpointInterval(metadata), 3);
}

TEST(CheckpointWriterMemoryTest, CheckpointsUnderASmallMemoryLimit) {
  // The pipeline's stage databases run with memory_limit 512MB and one thread; the
  // checkpoint's JSON read used to ask for a 2 GiB buffer there and fail (silently: no
  // pipeline table was ever checkpointed). A wide table makes the metaData line long.
  sql::DatabaseOptions db_options;
  db_options.config["memory_limit"] = "256MB";
  db_options.config["threads"] = "1";
  auto db = sql::Database::Open(db_options);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto conn = (*db)->Connect();
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  testing::TempDir dir;
  const fs::path root = dir.path() / "wide";
  CreateTableOptions create;
  std::string select = "SELECT 1 AS c0";
  for (int i = 0; i < 3000; ++i) {
    StructField field;
    field.name = fmt::format("c{}_{}", i, std::string(40, 'x'));
    field.type = DataType::Primitive(TypeKind::kLong);
    create.schema.fields.push_back(field);
  }
  create.schema.fields[0].name = "c0";
  for (size_t i = 1; i < create.schema.fields.size(); ++i) {
    select += fmt::format(", {} AS \"{}\"", i, create.schema.fields[i].name);
  }
  create.properties["delta.checkpointInterval"] = "2";
  ASSERT_TRUE(CreateTable(root, create).ok());
  for (int i = 1; i <= 2; ++i) {
    auto written = Append(**conn, root, select);
    ASSERT_TRUE(written.ok()) << written.status().ToString();
    EXPECT_EQ(written->checkpoint_written, i == 2);
  }
  auto info = WriteCheckpointAt(**conn, root, 2);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->num_add_files, 2);
  EXPECT_TRUE(fs::exists(DeltaLogDir(root) / "00000000000000000002.checkpoint.parquet"));
}

TEST(CheckpointWriterProblemTest, AWriteReportsAFailedLogCleanupAndStands) {
  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok());
  testing::TempDir dir;
  const fs::path root = dir.path() / "t";
  CreateTableOptions create;
  StructField id;
  id.name = "id";
  id.type = DataType::Primitive(TypeKind::kLong);
  create.schema.fields = {id};
  create.properties["delta.checkpointInterval"] = "1";
  create.properties["delta.logRetentionDuration"] = "interval soon";
  ASSERT_TRUE(CreateTable(root, create).ok());
  auto written = Append(**conn, root, "SELECT 1 AS id");
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(written->version, 1);
  EXPECT_TRUE(written->checkpoint_written);
  ASSERT_TRUE(written->checkpoint_problem.has_value());
  EXPECT_NE(written->checkpoint_problem->find("log cleanup"), std::string::npos)
      << *written->checkpoint_problem;
  EXPECT_NE(written->checkpoint_problem->find("interval soon"), std::string::npos)
      << *written->checkpoint_problem;
  // A plain table reports nothing.
  const fs::path plain = dir.path() / "plain";
  create.properties.erase("delta.logRetentionDuration");
  ASSERT_TRUE(CreateTable(plain, create).ok());
  auto ok = Append(**conn, plain, "SELECT 1 AS id");
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->checkpoint_written);
  EXPECT_FALSE(ok->checkpoint_problem.has_value());
}

TEST_F(CheckpointWriterTest, CheckpointsEveryIntervalAndReplaysFromCheckpointAlone) {
  WriteOptions options;
  for (int i = 1; i <= 12; ++i) {
    options.txn = SetTransaction{"app", i * 10, std::nullopt};
    auto written = Append(*conn_, root_,
                          fmt::format("SELECT {0} AS id, 'p{1}' AS part", i, i % 3), options);
    ASSERT_TRUE(written.ok()) << written.status().ToString();
    EXPECT_EQ(written->checkpoint_written, i % 5 == 0) << i;
  }
  // A delete so the checkpoint has a tombstone.
  ASSERT_TRUE(DeleteWhere(*conn_, root_, "id = 1").ok());  // version 13
  options.txn = SetTransaction{"app", 140, std::nullopt};
  auto v14 = Append(*conn_, root_, "SELECT 14 AS id, NULL::VARCHAR AS part", options);
  ASSERT_TRUE(v14.ok()) << v14.status().ToString();
  auto v15 = Append(*conn_, root_, "SELECT 15 AS id, 'p0' AS part");
  ASSERT_TRUE(v15.ok());
  EXPECT_EQ(v15->version, 15);
  EXPECT_TRUE(v15->checkpoint_written);

  const fs::path log = DeltaLogDir(root_);
  EXPECT_TRUE(fs::exists(log / "00000000000000000005.checkpoint.parquet"));
  EXPECT_TRUE(fs::exists(log / "00000000000000000010.checkpoint.parquet"));
  const fs::path checkpoint = log / "00000000000000000015.checkpoint.parquet";
  ASSERT_TRUE(fs::exists(checkpoint));
  std::ifstream in(log / "_last_checkpoint");
  std::stringstream text;
  text << in.rdbuf();
  auto last = nlohmann::json::parse(text.str());
  EXPECT_EQ(last["version"], 15);
  EXPECT_EQ(last["numOfAddFiles"], 13);  // 12 + 2 appends, minus the emptied file
  // protocol + metaData + 1 txn + 13 adds + 1 tombstone.
  EXPECT_EQ(last["size"], 17);
  EXPECT_EQ(last["sizeInBytes"], static_cast<int64_t>(fs::file_size(checkpoint)));

  // The classic checkpoint schema, readable by any Parquet reader.
  const std::string file = sql::QuoteLiteral(checkpoint.string());
  EXPECT_EQ(Query("SELECT count(add), count(remove), count(txn), count(metaData), "
                  "count(protocol) FROM read_parquet(" + file + ")"),
            "13|1|1|1|1\n");
  EXPECT_EQ(Query("SELECT txn.appId, txn.version FROM read_parquet(" + file +
                  ") WHERE txn IS NOT NULL"),
            "app|140\n");
  EXPECT_EQ(Query("SELECT add.partitionValues['part'] IS NULL, add.dataChange, "
                  "json_extract(add.stats, '$.numRecords') FROM read_parquet(" + file +
                  ") WHERE add IS NOT NULL AND add.path LIKE 'part=__HIVE%'"),
            "true|false|1\n");
  EXPECT_EQ(Query("SELECT typeof(add.partitionValues), typeof(metaData.partitionColumns), "
                  "typeof(protocol.minReaderVersion) FROM read_parquet(" + file + ") LIMIT 1"),
            "MAP(VARCHAR, VARCHAR)|VARCHAR[]|INTEGER\n");

  SnapshotOptions snapshot_options;
  snapshot_options.connection = conn_.get();
  auto full = Snapshot::Load(root_, snapshot_options);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  auto scan_before = BuildScanQuery(**full, *conn_);
  ASSERT_TRUE(scan_before.ok());
  std::string rows_before = Query("SELECT * FROM (" + *scan_before + ") ORDER BY id");

  // Remove every commit up to the checkpoint: the checkpoint alone must carry the state.
  for (int64_t version = 0; version <= 15; ++version) {
    fs::remove(CommitFilePath(root_, version));
  }
  for (const char* old : {"00000000000000000005.checkpoint.parquet",
                          "00000000000000000010.checkpoint.parquet"}) {
    fs::remove(log / old);
  }
  auto from_checkpoint = Snapshot::Load(root_, snapshot_options);
  ASSERT_TRUE(from_checkpoint.ok()) << from_checkpoint.status().ToString();
  EXPECT_EQ((*from_checkpoint)->version(), 15);
  EXPECT_EQ((*from_checkpoint)->GetAppTransactionVersion("app"), 140);
  EXPECT_EQ((*from_checkpoint)->files().size(), 13u);
  EXPECT_EQ((*from_checkpoint)->partition_columns(), std::vector<std::string>{"part"});
  EXPECT_EQ((*from_checkpoint)->metadata().Config("delta.checkpointInterval"), "5");
  auto scan_after = BuildScanQuery(**from_checkpoint, *conn_);
  ASSERT_TRUE(scan_after.ok());
  EXPECT_EQ(Query("SELECT * FROM (" + *scan_after + ") ORDER BY id"), rows_before);
  EXPECT_EQ(Query("SELECT count(*), sum(id) FROM (" + *scan_after + ")"), "13|106\n");
}

}  // namespace
}  // namespace tributary::lake::delta

#include "lake/delta/snapshot.h"

#include <fstream>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "lake/delta/deletion_vector.h"
#include "lake/delta/log_segment.h"
#include "lake/delta/scan.h"
#include "lake/delta/time_travel.h"
#include "sql/database.h"
#include "testing/temp_dir.h"

namespace tributary::lake::delta {
namespace {

namespace fs = std::filesystem;

// Builds small tables in a temp dir: data files written by DuckDB, commits by hand.
class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conn = sql::Database::OpenInMemoryConnection();
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(*conn);
    root_ = dir_.path() / "table";
    fs::create_directories(root_ / "_delta_log");
  }

  void WriteText(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
  }

  void WriteCommit(int64_t version, const std::vector<Action>& actions) {
    WriteText(CommitFilePath(root_, version), SerializeCommit(actions));
  }

  // A parquet file `name` with ids [from, to).
  AddFile WriteData(const std::string& name, int from, int to) {
    auto status =
        conn_->Execute(fmt::format("COPY (SELECT CAST(range AS BIGINT) AS id FROM "
                                   "range({}, {})) TO {} (FORMAT parquet)",
                                   from, to, sql::QuoteLiteral((root_ / name).string())));
    EXPECT_TRUE(status.ok()) << status.status().ToString();
    AddFile add;
    add.path = name;
    add.size = static_cast<int64_t>(fs::file_size(root_ / name));
    add.stats = fmt::format(R"({{"numRecords":{}}})", to - from);
    return add;
  }

  static Protocol DefaultProtocol() { return Protocol{1, 2, std::nullopt, std::nullopt}; }
  static Metadata DefaultMetadata() {
    Metadata m;
    m.id = "test";
    m.schema_string =
        R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}}]})";
    return m;
  }

  int64_t CountRows(const Snapshot& snapshot) {
    auto rows = ScanRows(snapshot, *conn_);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? static_cast<int64_t>(rows->row_count()) : -1;
  }

  testing::TempDir dir_{"snapshot-test"};
  fs::path root_;
  std::unique_ptr<sql::Connection> conn_;
};

TEST_F(SnapshotTest, ReplaysAddsRemovesAndTxns) {
  WriteCommit(0, {DefaultProtocol(), DefaultMetadata(), WriteData("a.parquet", 0, 10),
                  SetTransaction{"app", 1, std::nullopt}});
  RemoveFile remove;
  remove.path = "a.parquet";
  WriteCommit(1, {remove, WriteData("b.parquet", 10, 15), SetTransaction{"app", 2, 5}});
  auto latest = Snapshot::LoadLatest(root_);
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ((*latest)->version(), 1);
  ASSERT_EQ((*latest)->files().size(), 1u);
  EXPECT_EQ((*latest)->files()[0].path, "b.parquet");
  EXPECT_EQ((*latest)->tombstones().size(), 1u);
  EXPECT_EQ((*latest)->GetAppTransactionVersion("app"), 2);
  EXPECT_EQ((*latest)->total_records(), 5);
  EXPECT_EQ(CountRows(**latest), 5);
  auto v0 = Snapshot::LoadAtVersion(root_, 0);
  ASSERT_TRUE(v0.ok());
  EXPECT_EQ(CountRows(**v0), 10);
  EXPECT_EQ((*v0)->GetAppTransactionVersion("app"), 1);
  auto latest_version = LatestCommitVersion(root_);
  ASSERT_TRUE(latest_version.ok());
  EXPECT_EQ(*latest_version, 1);
  auto commit = ReadCommit(root_, 1);
  ASSERT_TRUE(commit.ok());
  EXPECT_EQ(commit->size(), 3u);
}

TEST_F(SnapshotTest, TruncatedCommitNamesFileAndVersion) {
  WriteCommit(0, {DefaultProtocol(), DefaultMetadata(), WriteData("a.parquet", 0, 10)});
  WriteText(CommitFilePath(root_, 1), "{\"add\":{\"path\":\"b.parq");
  auto snapshot = Snapshot::LoadLatest(root_);
  ASSERT_FALSE(snapshot.ok());
  EXPECT_EQ(snapshot.status().code(), ErrorCode::kCorruption);
  std::string message = snapshot.status().ToString();
  EXPECT_NE(message.find("00000000000000000001.json"), std::string::npos) << message;
  EXPECT_NE(message.find("version 1"), std::string::npos) << message;
  // The version before the broken commit still loads.
  EXPECT_TRUE(Snapshot::LoadAtVersion(root_, 0).ok());
}

TEST_F(SnapshotTest, CorruptCheckpointNamesFileAndVersion) {
  WriteCommit(0, {DefaultProtocol(), DefaultMetadata(), WriteData("a.parquet", 0, 10)});
  WriteCommit(1, {WriteData("b.parquet", 10, 20)});
  WriteText(root_ / "_delta_log" / "00000000000000000001.checkpoint.parquet",
            "PAR1 this is not parquet");
  auto snapshot = Snapshot::LoadLatest(root_);
  ASSERT_FALSE(snapshot.ok());
  EXPECT_EQ(snapshot.status().code(), ErrorCode::kCorruption);
  std::string message = snapshot.status().ToString();
  EXPECT_NE(message.find("00000000000000000001.checkpoint.parquet"), std::string::npos)
      << message;
  EXPECT_NE(message.find("version 1"), std::string::npos) << message;
}

TEST_F(SnapshotTest, MissingDataFileIsNotFoundNamingFileAndVersion) {
  WriteCommit(0, {DefaultProtocol(), DefaultMetadata(), WriteData("a.parquet", 0, 10)});
  fs::remove(root_ / "a.parquet");
  auto snapshot = Snapshot::LoadLatest(root_);
  ASSERT_TRUE(snapshot.ok()) << "the log itself is intact";
  auto rows = ScanRows(**snapshot, *conn_);
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), ErrorCode::kNotFound);
  std::string message = rows.status().ToString();
  EXPECT_NE(message.find("a.parquet"), std::string::npos) << message;
  EXPECT_NE(message.find("version 0"), std::string::npos) << message;
}

TEST_F(SnapshotTest, MissingProtocolOrMetadataIsCorruption) {
  WriteCommit(0, {DefaultMetadata(), WriteData("a.parquet", 0, 10)});
  auto no_protocol = Snapshot::LoadLatest(root_);
  ASSERT_FALSE(no_protocol.ok());
  EXPECT_EQ(no_protocol.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(no_protocol.status().message().find("no protocol"), std::string::npos);
  WriteCommit(0, {DefaultProtocol(), WriteData("a.parquet", 0, 10)});
  auto no_metadata = Snapshot::LoadLatest(root_);
  ASSERT_FALSE(no_metadata.ok());
  EXPECT_NE(no_metadata.status().message().find("no metaData"), std::string::npos);
}

TEST_F(SnapshotTest, UnsupportedReaderFeatureIsNamed) {
  Protocol protocol{3, 7, std::vector<std::string>{"variantType"},
                    std::vector<std::string>{"variantType"}};
  WriteCommit(0, {protocol, DefaultMetadata()});
  auto snapshot = Snapshot::LoadLatest(root_);
  ASSERT_FALSE(snapshot.ok());
  EXPECT_EQ(snapshot.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(snapshot.status().message().find("variantType"), std::string::npos);
}

TEST_F(SnapshotTest, NotATableAndEmptyLog) {
  auto none = Snapshot::LoadLatest(dir_.path() / "nothing");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), ErrorCode::kNotFound);
  auto empty = Snapshot::LoadLatest(root_);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), ErrorCode::kNotFound);
}

TEST_F(SnapshotTest, IgnoresHiddenTempCrcAndStaleLastCheckpoint) {
  WriteCommit(0, {DefaultProtocol(), DefaultMetadata(), WriteData("a.parquet", 0, 10)});
  fs::create_directories(root_ / "_delta_log" / ".tmp");
  WriteText(root_ / "_delta_log" / ".tmp" / "00000000000000000001.json", "garbage");
  WriteText(root_ / "_delta_log" / ".00000000000000000000.json.crc", "garbage");
  WriteText(root_ / "_delta_log" / "00000000000000000000.crc", "{}");
  // Stale and corrupt hints: a checkpoint that does not exist, then non-JSON.
  WriteText(root_ / "_delta_log" / "_last_checkpoint", R"({"version":7,"size":3})");
  auto stale = Snapshot::LoadLatest(root_);
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  EXPECT_EQ((*stale)->version(), 0);
  WriteText(root_ / "_delta_log" / "_last_checkpoint", "{not json");
  auto corrupt = Snapshot::LoadLatest(root_);
  ASSERT_TRUE(corrupt.ok()) << corrupt.status().ToString();
  EXPECT_EQ(CountRows(**corrupt), 10);
}

TEST_F(SnapshotTest, IncompleteMultiPartCheckpointIsSkipped) {
  WriteCommit(0, {DefaultProtocol(), DefaultMetadata(), WriteData("a.parquet", 0, 10)});
  WriteCommit(1, {WriteData("b.parquet", 10, 20)});
  // Only part 1 of 2: must be ignored, the JSON commits are used.
  WriteText(root_ / "_delta_log" /
                "00000000000000000001.checkpoint.0000000001.0000000002.parquet",
            "junk");
  auto listing = ListLog(root_);
  ASSERT_TRUE(listing.ok());
  EXPECT_TRUE(listing->checkpoints.empty());
  EXPECT_EQ(listing->incomplete_checkpoints, (std::vector<int64_t>{1}));
  auto snapshot = Snapshot::LoadLatest(root_);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  EXPECT_EQ(CountRows(**snapshot), 20);
}

TEST_F(SnapshotTest, DeletionVectorInlineFiltersRows) {
  Protocol protocol{3, 7, std::vector<std::string>{"deletionVectors"},
                    std::vector<std::string>{"deletionVectors"}};
  AddFile add = WriteData("a.parquet", 0, 40);
  // PROTOCOL.md inline example: rows 3, 4, 7, 11, 18, 29 deleted.
  add.deletion_vector = DeletionVectorDescriptor{
      "i", "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L", std::nullopt, 40, 6};
  WriteCommit(0, {protocol, DefaultMetadata(), add});
  auto snapshot = Snapshot::LoadLatest(root_);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  auto rows = ScanRows(**snapshot, *conn_);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->row_count(), 34u);
  std::set<int64_t> ids;
  for (size_t r = 0; r < rows->row_count(); ++r) {
    ids.insert(rows->GetInt64(0, r));
  }
  for (int64_t deleted : {3, 4, 7, 11, 18, 29}) {
    EXPECT_EQ(ids.count(deleted), 0u) << deleted;
  }
  EXPECT_EQ((*snapshot)->total_records(), 34);
}

TEST_F(SnapshotTest, PercentEncodedPathsDecodeOnce) {
  fs::create_directories(root_ / "p=a%20b");
  AddFile add = WriteData("p=a%20b/f.parquet", 0, 3);
  add.path = "p=a%2520b/f.parquet";  // the log URI-encodes '%'
  WriteCommit(0, {DefaultProtocol(), DefaultMetadata(), add});
  auto snapshot = Snapshot::LoadLatest(root_);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  auto resolved = (*snapshot)->ResolvePath(add.path);
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(*resolved, root_ / "p=a%20b/f.parquet");
  EXPECT_EQ(CountRows(**snapshot), 3);
  EXPECT_FALSE((*snapshot)->ResolvePath("s3://bucket/x.parquet").ok());
}

TEST(TimeTravelTest, ParsesTimestampForms) {
  EXPECT_EQ(*ParseTimestamp("1970-01-01"), 0);
  EXPECT_EQ(*ParseTimestamp("1970-01-01T00:00:01Z"), 1000);
  EXPECT_EQ(*ParseTimestamp("1970-01-01 00:00:01.5"), 1500);
  EXPECT_EQ(*ParseTimestamp("2020-05-01T00:47:31-07:00"), 1588319251000);
  EXPECT_EQ(*ParseTimestamp("1588398451000"), 1588398451000);
  EXPECT_EQ(FormatTimestampMs(1588319251000), "2020-05-01T07:47:31.000Z");
  EXPECT_FALSE(ParseTimestamp("yesterday").ok());
  EXPECT_FALSE(ParseTimestamp("2020-13-01").ok());
}

TEST(TimeTravelTest, VersionAtTimestampRules) {
  std::vector<CommitTimestamp> ts = {
      {0, 1000, false}, {1, 2000, false}, {2, 3000, false}};
  EXPECT_EQ(*VersionAtTimestamp(ts, 1000), 0);
  EXPECT_EQ(*VersionAtTimestamp(ts, 2999), 1);
  EXPECT_EQ(*VersionAtTimestamp(ts, 99999), 2);
  auto early = VersionAtTimestamp(ts, 999);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tributary::lake::delta

namespace tributary::lake::delta {
namespace {

TEST_F(SnapshotTest, ColumnMappingIdModeMatchesByFieldId) {
  // Data file column names differ from both logical and physical names: id mode must
  // match by Parquet field id, also for nested fields.
  std::string file = (root_ / "ids.parquet").string();
  ASSERT_TRUE(
      conn_
          ->Execute(fmt::format(
              "COPY (SELECT 1::BIGINT AS zz, {{'q': 2}}::STRUCT(q INTEGER) AS yy) TO {} "
              "(FORMAT parquet, FIELD_IDS {{zz: 1, yy: {{__duckdb_field_id: 2, q: 3}}}})",
              sql::QuoteLiteral(file)))
          .ok());
  Protocol protocol{2, 5, std::nullopt, std::nullopt};
  Metadata metadata = DefaultMetadata();
  metadata.schema_string =
      R"js({"type":"struct","fields":[)js"
      R"js({"name":"id","type":"long","nullable":true,"metadata":{"delta.columnMapping.id":1,)js"
      R"js("delta.columnMapping.physicalName":"col-a"}},)js"
      R"js({"name":"info","type":{"type":"struct","fields":[{"name":"v","type":"integer",)js"
      R"js("nullable":true,"metadata":{"delta.columnMapping.id":3,)js"
      R"js("delta.columnMapping.physicalName":"col-c"}}]},"nullable":true,)js"
      R"js("metadata":{"delta.columnMapping.id":2,"delta.columnMapping.physicalName":"col-b"}}]})js";
  metadata.configuration = {{"delta.columnMapping.mode", "id"}};
  AddFile add;
  add.path = "ids.parquet";
  add.size = static_cast<int64_t>(fs::file_size(file));
  WriteCommit(0, {protocol, metadata, add});
  auto snapshot = Snapshot::LoadLatest(root_);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  EXPECT_EQ((*snapshot)->column_mapping_mode(), ColumnMappingMode::kId);
  auto rows = ScanRows(**snapshot, *conn_);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->row_count(), 1u);
  EXPECT_EQ(rows->column_name(0), "id");
  EXPECT_EQ(rows->GetString(0, 0), "1");
  EXPECT_EQ(rows->GetString(1, 0), "{'v': 2}");
}

TEST_F(SnapshotTest, AbsolutePathDeletionVectorAndViews) {
  Protocol protocol{3, 7, std::vector<std::string>{"deletionVectors"},
                    std::vector<std::string>{"deletionVectors"}};
  AddFile add = WriteData("a.parquet", 0, 10);
  // A "p" DV: an absolute file URI holding version byte, BE size, data, BE CRC.
  std::string data = EncodeRoaringBitmapArray({0, 9});
  fs::path dv_file = dir_.path() / "dv.bin";
  {
    std::ofstream out(dv_file, std::ios::binary);
    out.put(1);
    auto put_be = [&](uint32_t v) {
      for (int shift = 24; shift >= 0; shift -= 8) {
        out.put(static_cast<char>((v >> shift) & 0xFF));
      }
    };
    put_be(static_cast<uint32_t>(data.size()));
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    put_be(Crc32(data));
  }
  add.deletion_vector = DeletionVectorDescriptor{"p", "file://" + dv_file.string(), 1,
                                                 static_cast<int32_t>(data.size()), 2};
  WriteCommit(0, {protocol, DefaultMetadata(), add});
  auto snapshot = Snapshot::LoadLatest(root_);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  auto registered = RegisterSnapshotView(*conn_, **snapshot, "silver", "t");
  ASSERT_TRUE(registered.ok()) << registered.status().ToString();
  auto result = conn_->Query("SELECT min(id), max(id), count(*) FROM silver.t");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->GetInt64(0, 0), 1);
  EXPECT_EQ(result->GetInt64(1, 0), 8);
  EXPECT_EQ(result->GetInt64(2, 0), 8);

  // A lake directory: <layer>/<table>.
  fs::create_directories(dir_.path() / "lake" / "gold");
  fs::rename(root_, dir_.path() / "lake" / "gold" / "facts");
  auto views = RegisterLakeViews(*conn_, dir_.path() / "lake");
  ASSERT_TRUE(views.ok()) << views.status().ToString();
  EXPECT_EQ(*views, (std::vector<std::string>{"gold.facts"}));
  auto count = conn_->Query("SELECT count(*) FROM gold.facts");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(count->GetInt64(0, 0), 8);
}

}  // namespace
}  // namespace tributary::lake::delta

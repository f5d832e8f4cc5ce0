// Writes to tables whose schema grew after some data files were written (issue 3,
// "Schema evolution on read"): PROTOCOL.md "Schema Evolution" lets a metaData action add
// nullable columns and struct fields, and "Type Widening" lets a column's type widen;
// older files keep their narrower layout. Readers return NULL for what a file lacks, and
// merge/update/delete must rewrite such files in the full current schema.

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lake/delta/commit.h"
#include "lake/delta/optimize.h"
#include "lake/delta/scan.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/writer.h"
#include "sql/database.h"
#include "testing/temp_dir.h"

namespace tributary::lake::delta {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

StructField Field(const std::string& name, DataType type) {
  StructField field;
  field.name = name;
  field.type = std::move(type);
  return field;
}

DataType Long() {
  return DataType::Primitive(TypeKind::kLong);
}
DataType Int() {
  return DataType::Primitive(TypeKind::kInteger);
}
DataType String() {
  return DataType::Primitive(TypeKind::kString);
}

class SchemaEvolutionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conn = sql::Database::OpenInMemoryConnection();
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(*conn);
    root_ = dir_.path() / "table";
  }

  std::shared_ptr<const Snapshot> Latest() {
    auto snapshot = Snapshot::LoadLatest(root_);
    EXPECT_TRUE(snapshot.ok()) << snapshot.status().ToString();
    return snapshot.ok() ? *snapshot : nullptr;
  }

  // Commits a new schema (and protocol, when given) the way a schema-evolving writer
  // does: one commit with only metaData (+ protocol).
  void Evolve(const StructType& schema, std::optional<Protocol> protocol = std::nullopt) {
    auto snapshot = Latest();
    ASSERT_NE(snapshot, nullptr);
    Metadata metadata = snapshot->metadata();
    metadata.schema_string = SerializeSchema(schema);
    CommitRequest request;
    if (protocol) {
      request.actions.emplace_back(*protocol);
    }
    request.actions.emplace_back(metadata);
    request.commit_info.operation = "ADD COLUMNS";
    request.read_set.read_version = snapshot->version();
    request.read_set.scope = ReadSet::Scope::kAll;
    auto committed = Commit(root_, request);
    ASSERT_TRUE(committed.ok()) << committed.status().ToString();
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

  // The rows of the latest snapshot through our reader, ordered by id.
  std::string ScanText(const std::string& columns) {
    auto snapshot = Latest();
    if (snapshot == nullptr) {
      return "";
    }
    auto scan = BuildScanQuery(*snapshot, *conn_);
    EXPECT_TRUE(scan.ok()) << scan.status().ToString();
    return QueryText(fmt::format("SELECT {} FROM ({}) ORDER BY id", columns, *scan));
  }

  // The live Parquet files read by DuckDB directly, without our reader: files written
  // before a column was added lack it, and union_by_name fills it with NULL.
  std::string LiveFilesText(const std::string& columns) {
    auto snapshot = Latest();
    if (snapshot == nullptr) {
      return "";
    }
    std::string list;
    for (const auto& add : snapshot->files()) {
      EXPECT_FALSE(add.deletion_vector.has_value()) << "read directly only without DVs";
      auto path = snapshot->ResolvePath(add.path);
      EXPECT_TRUE(path.ok());
      list += (list.empty() ? "" : ", ") + sql::QuoteLiteral(path->string());
    }
    return QueryText(
        fmt::format("SELECT {} FROM read_parquet([{}], union_by_name = true) ORDER BY id",
                    columns, list));
  }

  // DuckDB's type of the top-level column `column` in the Parquet footer of every live
  // file ("<missing>" for files without it).
  std::vector<std::string> LiveFileTypes(const std::string& column) {
    auto snapshot = Latest();
    std::vector<std::string> types;
    if (snapshot == nullptr) {
      return types;
    }
    for (const auto& add : snapshot->files()) {
      auto path = snapshot->ResolvePath(add.path);
      EXPECT_TRUE(path.ok());
      auto meta = conn_->Query(
          fmt::format("SELECT duckdb_type FROM parquet_schema({}) WHERE name = {}",
                      sql::QuoteLiteral(path->string()), sql::QuoteLiteral(column)));
      EXPECT_TRUE(meta.ok()) << meta.status().ToString();
      if (meta.ok()) {
        types.push_back(meta->row_count() == 0 ? "<missing>" : meta->GetString(0, 0));
      }
    }
    return types;
  }

  testing::TempDir dir_;
  fs::path root_;
  std::unique_ptr<sql::Connection> conn_;
};

// v0 (id, name, info struct<a>); two appends; then `score` and `info.b` are added. Merge
// and delete touch both old files, which lack the new column and field.
void CreateEvolvedTable(const fs::path& root,
                        sql::Connection& conn,
                        bool deletion_vectors) {
  CreateTableOptions create;
  create.schema.fields = {Field("id", Long()), Field("name", String()),
                          Field("info", DataType::Struct({Field("a", Int())}))};
  if (deletion_vectors) {
    create.properties["delta.enableDeletionVectors"] = "true";
  }
  ASSERT_TRUE(CreateTable(root, create).ok());
  for (int batch = 0; batch < 2; ++batch) {
    auto appended = Append(
        conn, root,
        fmt::format(
            "SELECT i AS id, 'n' || i AS name, struct_pack(a := (i * 10)::INTEGER) AS "
            "info FROM range({}, {}) t(i)",
            batch * 10, batch * 10 + 10));
    ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  }
}

StructType EvolvedSchema() {
  StructType schema;
  schema.fields = {
      Field("id", Long()), Field("name", String()),
      Field("info", DataType::Struct({Field("a", Int()), Field("b", String())})),
      Field("score", DataType::Primitive(TypeKind::kDouble))};
  return schema;
}

TEST_F(SchemaEvolutionTest, MergeAndDeleteRewriteFilesWrittenBeforeAddColumn) {
  CreateEvolvedTable(root_, *conn_, /*deletion_vectors=*/false);
  Evolve(EvolvedSchema());
  // Old files read with NULL for the added column and the added struct field.
  EXPECT_EQ(ScanText("id, info.a, info.b, score")
                .substr(0, std::string("0|0|NULL|NULL\n1|10|NULL|NULL\n").size()),
            "0|0|NULL|NULL\n1|10|NULL|NULL\n");

  MergeOptions merge;
  merge.key_columns = {"id"};
  merge.delete_flag_column = "deleted";
  auto merged = Merge(
      *conn_, root_,
      "SELECT * FROM (VALUES (3, 'three', {'a': 33, 'b': 'x'}, 1.5::DOUBLE, false), "
      "(14, NULL, NULL, NULL, true), (25, 'new', {'a': 250, 'b': 'y'}, 2.5::DOUBLE, "
      "false)) t(id, name, info, score, deleted)",
      merge);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(merged->rows_updated, 1);
  EXPECT_EQ(merged->rows_deleted, 1);
  EXPECT_EQ(merged->rows_inserted, 1);
  EXPECT_EQ(merged->files_removed, 2);

  auto deleted = DeleteWhere(*conn_, root_, "id IN (5, 15)");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->rows_deleted, 2);

  const std::string columns = "id, name, info.a, info.b, score";
  std::string rows = ScanText(columns);
  // 0..19 without 5, 14 and 15, plus 25: 18 rows; 3 and 25 carry the new values.
  EXPECT_NE(rows.find("2|n2|20|NULL|NULL\n3|three|33|x|1.5\n4|n4|40|NULL|NULL\n6|"),
            std::string::npos)
      << rows;
  EXPECT_NE(rows.find("13|n13|130|NULL|NULL\n16|n16|160|NULL|NULL\n"), std::string::npos)
      << rows;
  EXPECT_NE(rows.find("19|n19|190|NULL|NULL\n25|new|250|y|2.5\n"), std::string::npos)
      << rows;
  EXPECT_EQ(std::count(rows.begin(), rows.end(), '\n'), 18);
  // Every live file was rewritten or written after the schema change: the full schema.
  for (const auto& type : LiveFileTypes("score")) {
    EXPECT_EQ(type, "DOUBLE");
  }
  auto snapshot = Latest();
  ASSERT_NE(snapshot, nullptr);
  for (const auto& add : snapshot->files()) {
    auto path = snapshot->ResolvePath(add.path);
    ASSERT_TRUE(path.ok());
    EXPECT_EQ(
        QueryText(fmt::format("SELECT count(*) FROM parquet_schema({}) WHERE name = 'b'",
                              sql::QuoteLiteral(path->string()))),
        "1\n")
        << add.path;
  }
  // DuckDB reading the live files directly sees the same rows.
  EXPECT_EQ(LiveFilesText(columns), rows);
}

TEST_F(SchemaEvolutionTest, OldFilesKeepTheirLayoutUntilRewrittenAndReadAsNull) {
  CreateEvolvedTable(root_, *conn_, /*deletion_vectors=*/false);
  Evolve(EvolvedSchema());
  // A merge touching only the first file leaves the second one in the old layout; both
  // our reader and DuckDB over the live files read its new column as NULL.
  MergeOptions merge;
  merge.key_columns = {"id"};
  auto merged = Merge(
      *conn_, root_,
      "SELECT 1 AS id, 'one' AS name, {'a': 1, 'b': 'b1'} AS info, 0.5::DOUBLE AS score",
      merge);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(merged->files_removed, 1);
  const std::string columns = "id, name, info.a, info.b, score";
  std::string rows = ScanText(columns);
  EXPECT_NE(rows.find("1|one|1|b1|0.5\n"), std::string::npos) << rows;
  EXPECT_NE(rows.find("12|n12|120|NULL|NULL\n"), std::string::npos) << rows;
  EXPECT_EQ(std::count(rows.begin(), rows.end(), '\n'), 20);
  EXPECT_EQ(LiveFilesText(columns), rows);
  std::vector<std::string> types = LiveFileTypes("score");
  EXPECT_EQ(std::count(types.begin(), types.end(), "<missing>"), 1);
  // Compaction rewrites the old-layout file together with the new one.
  auto optimized = Optimize(*conn_, root_, {});
  ASSERT_TRUE(optimized.ok()) << optimized.status().ToString();
  EXPECT_EQ(ScanText(columns), rows);
  types = LiveFileTypes("score");
  EXPECT_EQ(std::count(types.begin(), types.end(), "<missing>"), 0);
}

TEST_F(SchemaEvolutionTest, DeletionVectorPathsAfterAddColumn) {
  CreateEvolvedTable(root_, *conn_, /*deletion_vectors=*/true);
  Evolve(EvolvedSchema());
  MergeOptions merge;
  merge.key_columns = {"id"};
  merge.delete_flag_column = "deleted";
  auto merged = Merge(
      *conn_, root_,
      "SELECT * FROM (VALUES (3, 'three', {'a': 33, 'b': 'x'}, 1.5::DOUBLE, false), "
      "(14, NULL, NULL, NULL, true)) t(id, name, info, score, deleted)",
      merge);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(merged->rows_updated, 1);
  EXPECT_EQ(merged->rows_deleted, 1);
  auto deleted = DeleteWhere(*conn_, root_, "id = 15 OR score = 1.5");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->rows_deleted, 2);
  std::string rows = ScanText("id, info.b, score");
  EXPECT_EQ(std::count(rows.begin(), rows.end(), '\n'), 17) << rows;
  EXPECT_EQ(rows.find("\n3|"), std::string::npos) << rows;
  EXPECT_EQ(rows.find("\n14|"), std::string::npos) << rows;
  EXPECT_NE(rows.find("\n13|NULL|NULL\n16|NULL|NULL\n"), std::string::npos) << rows;
}

TEST_F(SchemaEvolutionTest, RewriteWidensNarrowFilesToTheTableType) {
  CreateTableOptions create;
  create.schema.fields = {Field("id", Long()), Field("v", Int())};
  ASSERT_TRUE(CreateTable(root_, create).ok());
  ASSERT_TRUE(
      Append(*conn_, root_, "SELECT i AS id, (i * 2)::INTEGER AS v FROM range(10) t(i)")
          .ok());
  // Widen v int -> long (PROTOCOL.md "Type Widening": the table feature, and the change
  // recorded in the field's delta.typeChanges metadata).
  StructType widened;
  widened.fields = {Field("id", Long()), Field("v", Long())};
  widened.fields[1].metadata["delta.typeChanges"] =
      json::array({{{"fromType", "integer"}, {"toType", "long"}}});
  Protocol protocol;
  protocol.min_reader_version = 3;
  protocol.min_writer_version = 7;
  protocol.reader_features = std::vector<std::string>{"typeWidening"};
  protocol.writer_features = std::vector<std::string>{"typeWidening"};
  Evolve(widened, protocol);

  MergeOptions merge;
  merge.key_columns = {"id"};
  auto merged =
      Merge(*conn_, root_, "SELECT 4 AS id, 1099511627776 AS v", merge);  // 2^40
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(merged->files_removed, 1);
  EXPECT_EQ(merged->rows_copied, 9);
  auto snapshot = Latest();
  ASSERT_NE(snapshot, nullptr);
  ASSERT_NE(snapshot->schema().Find("v"), nullptr);
  EXPECT_EQ(snapshot->schema().Find("v")->metadata.count("delta.typeChanges"), 1u)
      << "the writer keeps the type change record";
  const std::string head = "0|0\n1|2\n2|4\n3|6\n4|1099511627776\n5|10\n";
  EXPECT_EQ(ScanText("id, v").substr(0, head.size()), head);
  for (const auto& type : LiveFileTypes("v")) {
    EXPECT_EQ(type, "BIGINT");
  }
  EXPECT_EQ(LiveFilesText("id, v"), ScanText("id, v"));
}

// The golden type-widening table (Delta Spark, preview feature name): one file in the
// narrow types, one in the wide ones. Compacting them with our writer writes the narrow
// values in the widened types.
TEST_F(SchemaEvolutionTest, GoldenTypeWideningTableRewrittenInWideTypes) {
  const fs::path golden =
      fs::path(TRIB_SHARED_DIR) / "golden" / "delta" / "type-widening";
  if (!fs::exists(golden)) {
    GTEST_SKIP() << golden << " is missing";
  }
  fs::copy(golden, root_, fs::copy_options::recursive);
  const std::string columns =
      "byte_long, int_long, float_double, short_double, date_timestamp_ntz, "
      "decimal_decimal_greater_scale, long_decimal";
  auto before = Latest();
  ASSERT_NE(before, nullptr);
  auto scan = BuildScanQuery(*before, *conn_);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  const std::string expected =
      QueryText(fmt::format("SELECT {} FROM ({}) ORDER BY byte_long", columns, *scan));
  ASSERT_EQ(std::count(expected.begin(), expected.end(), '\n'), 2) << expected;

  auto optimized = Optimize(*conn_, root_, {});
  ASSERT_TRUE(optimized.ok()) << optimized.status().ToString();
  EXPECT_EQ(optimized->files_removed, 2);
  EXPECT_EQ(optimized->files_added, 1);
  auto after = Latest();
  ASSERT_NE(after, nullptr);
  ASSERT_EQ(after->files().size(), 1u);
  scan = BuildScanQuery(*after, *conn_);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(
      QueryText(fmt::format("SELECT {} FROM ({}) ORDER BY byte_long", columns, *scan)),
      expected);
  // Read directly, the compacted file has the table's types.
  auto path = after->ResolvePath(after->files()[0].path);
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(QueryText(fmt::format("SELECT typeof(byte_long), typeof(float_double), "
                                  "typeof(long_decimal) FROM read_parquet({}) LIMIT 1",
                                  sql::QuoteLiteral(path->string()))),
            "BIGINT|DOUBLE|DECIMAL(21,1)\n");
}

}  // namespace
}  // namespace tributary::lake::delta

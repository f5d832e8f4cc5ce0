#include "lake/parquet/parquet_reader.h"

#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "testing/temp_dir.h"

namespace tributary::lake::parquet {
namespace {

TEST(ParquetReaderTest, ReadsNestedSchemaTree) {
  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok());
  testing::TempDir dir("parquet-test");
  std::string path = (dir.path() / "nested.parquet").string();
  ASSERT_TRUE(
      (*conn)
          ->Execute(fmt::format(
              "COPY (SELECT 1::INTEGER AS i, [{{'a': 1}}] AS l, MAP([1], ['x']) AS m, "
              "{{'s': 'v'}} AS st) TO {} (FORMAT parquet)",
              sql::QuoteLiteral(path)))
          .ok());
  auto schemas = ReadSchemas(**conn, {path});
  ASSERT_TRUE(schemas.ok()) << schemas.status().ToString();
  const SchemaNode& root = schemas->at(path);
  ASSERT_EQ(root.children.size(), 4u);
  EXPECT_TRUE(root.children[0].is_leaf());
  EXPECT_EQ(root.children[0].duckdb_type, "INTEGER");
  const SchemaNode* list = root.Child("l");
  ASSERT_NE(list, nullptr);
  ASSERT_TRUE(list->is_list());
  ASSERT_NE(list->ListElement(), nullptr);
  EXPECT_NE(list->ListElement()->Child("a"), nullptr);
  const SchemaNode* map = root.Child("m");
  ASSERT_NE(map, nullptr);
  ASSERT_TRUE(map->is_map());
  EXPECT_EQ(map->MapKey()->duckdb_type, "INTEGER");
  EXPECT_EQ(map->MapValue()->duckdb_type, "VARCHAR");
  EXPECT_NE(root.Child("st")->Child("s"), nullptr);
  EXPECT_EQ(root.Signature(), root.Signature());
}

TEST(ParquetReaderTest, MissingAndCorruptFilesAreNamed) {
  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok());
  testing::TempDir dir("parquet-test");
  auto missing = ReadSchemas(**conn, {(dir.path() / "none.parquet").string()});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.status().message().find("none.parquet"), std::string::npos);
  std::string bad = (dir.path() / "bad.parquet").string();
  std::ofstream(bad) << "definitely not parquet";
  auto corrupt = ReadSchemas(**conn, {bad});
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(corrupt.status().message().find("bad.parquet"), std::string::npos);
}

}  // namespace
}  // namespace tributary::lake::parquet

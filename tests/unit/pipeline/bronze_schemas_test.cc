#include "pipeline/bronze_schemas.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "lake/delta/snapshot.h"
#include "lake/delta/writer.h"
#include "pipeline_test_util.h"
#include "testing/temp_dir.h"

namespace tributary::pipeline {
namespace {

using testing::TableRows;

class BronzeSchemasTest : public ::testing::Test {
 protected:
  std::filesystem::path root() const { return dir_.path() / "bronze" / "_schemas"; }

  static BronzeSchemaEntry Entry(std::string table, std::string kind, std::string json) {
    return BronzeSchemaEntry{BronzeSchemaId(json), "pg", std::move(table), std::move(kind),
                             std::move(json)};
  }

  std::optional<int64_t> Latest() const {
    auto latest = lake::delta::LatestCommitVersion(root());
    EXPECT_TRUE(latest.ok());
    return latest.ok() ? *latest : std::nullopt;
  }

  tributary::testing::TempDir dir_{"trib-bronze-schemas"};
};

TEST_F(BronzeSchemasTest, IdIsSixtyFourBitFnv1aAsSixteenHexDigits) {
  // FNV-1a 64 test vectors (Fowler/Noll/Vo reference: "" and "a").
  EXPECT_EQ(BronzeSchemaId(""), "cbf29ce484222325");
  EXPECT_EQ(BronzeSchemaId("a"), "af63dc4c8601ec8c");
  EXPECT_EQ(BronzeSchemaId("{\"type\":\"struct\"}"), BronzeSchemaId("{\"type\":\"struct\"}"));
  EXPECT_NE(BronzeSchemaId("{\"type\":\"struct\"}"), BronzeSchemaId("{\"type\": \"struct\"}"));
  EXPECT_EQ(BronzeSchemaRegistryRoot(dir_.path() / "bronze" / "all_events"), root());
}

TEST_F(BronzeSchemasTest, RegistrationIsIdempotentAcrossInstances) {
  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok());
  auto registry = BronzeSchemaRegistry::Open(**conn, root());
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  EXPECT_EQ(Latest(), std::optional<int64_t>(0));  // created, empty

  const auto value = Entry("public.orders", "value", R"({"type":"struct","name":"v"})");
  const auto key = Entry("public.orders", "key", R"({"type":"struct","name":"k"})");
  EXPECT_FALSE((*registry)->Contains(value.schema_id));
  // A schema given twice in one call is written once.
  ASSERT_TRUE((*registry)->Register(**conn, {value, key, value}).ok());
  EXPECT_TRUE((*registry)->Contains(value.schema_id));
  EXPECT_TRUE((*registry)->Contains(key.schema_id));
  EXPECT_EQ(Latest(), std::optional<int64_t>(1));
  // Registered ids are skipped: no commit.
  ASSERT_TRUE((*registry)->Register(**conn, {key, value}).ok());
  EXPECT_EQ(Latest(), std::optional<int64_t>(1));

  // A new instance (a restart) knows them from the table.
  auto reopened = BronzeSchemaRegistry::Open(**conn, root());
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_TRUE((*reopened)->Contains(value.schema_id));
  const auto other = Entry("public.items", "value", R"({"type":"struct","name":"i"})");
  ASSERT_TRUE((*reopened)->Register(**conn, {value, other}).ok());
  EXPECT_EQ(Latest(), std::optional<int64_t>(2));

  std::vector<std::string> expected = {
      key.schema_id + "|pg|public.orders|key|" + key.schema_json + "|true",
      other.schema_id + "|pg|public.items|value|" + other.schema_json + "|true",
      value.schema_id + "|pg|public.orders|value|" + value.schema_json + "|true"};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(TableRows(root(), "schema_id, source, source_table, kind, schema_json, "
                              "registered_at IS NOT NULL"),
            expected);
}

TEST_F(BronzeSchemasTest, WrongIdsAreRefused) {
  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok());
  auto registry = BronzeSchemaRegistry::Open(**conn, root());
  ASSERT_TRUE(registry.ok());
  auto entry = Entry("public.orders", "value", R"({"type":"struct"})");
  entry.schema_id = BronzeSchemaId("something else");
  Status refused = (*registry)->Register(**conn, {entry});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find(entry.schema_id), std::string::npos)
      << refused.status().ToString();
  EXPECT_EQ(Latest(), std::optional<int64_t>(0));

  // A registry row whose id is not the hash of its text (a corrupted or foreign table).
  lake::delta::WriteOptions write;
  ASSERT_TRUE(lake::delta::Append(
                  **conn, root(),
                  "SELECT '0123456789abcdef' AS schema_id, 'pg' AS source, 't' AS "
                  "source_table, 'value' AS kind, '{}' AS schema_json",
                  write)
                  .ok());
  auto reopened = BronzeSchemaRegistry::Open(**conn, root());
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(reopened.status().message().find("0123456789abcdef"), std::string::npos)
      << reopened.status().ToString();
}

TEST_F(BronzeSchemasTest, LookupParsesOncePerIdAndRereadsOnAMiss) {
  auto conn = sql::Database::OpenInMemoryConnection();
  ASSERT_TRUE(conn.ok());
  auto registry = BronzeSchemaRegistry::Open(**conn, root());
  ASSERT_TRUE(registry.ok());
  auto missing = LookupBronzeSchema(**conn, root(), "00000000000000ff");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.status().message().find("00000000000000ff"), std::string::npos);

  const auto first = Entry("public.orders", "value", R"({"type":"struct","name":"a"})");
  ASSERT_TRUE((*registry)->Register(**conn, {first}).ok());
  auto found = LookupBronzeSchema(**conn, root(), first.schema_id);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_NE(*found, nullptr);
  // Cached: the same parsed object.
  auto again = LookupBronzeSchema(**conn, root(), first.schema_id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(found->get(), again->get());
  // Registered after the first read: a miss re-reads the table.
  const auto second = Entry("public.orders", "value", R"({"type":"struct","name":"b"})");
  ASSERT_TRUE((*registry)->Register(**conn, {second}).ok());
  auto later = LookupBronzeSchema(**conn, root(), second.schema_id);
  ASSERT_TRUE(later.ok()) << later.status().ToString();
}

}  // namespace
}  // namespace tributary::pipeline
